// Times as the staff pages show them.

export function parseTime(value) {
  if (!value) return NaN;
  const text = String(value);
  // A timestamp without a zone is UTC on this server.
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`;
  return Date.parse(zoned);
}

/** "12 May 2025, 14:03" in the browser's locale; "" for no or a bad timestamp. */
export function formatDate(value) {
  const time = parseTime(value);
  if (Number.isNaN(time)) return "";
  return new Date(time).toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
