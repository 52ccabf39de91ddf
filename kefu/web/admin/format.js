// Numbers, durations, dates and text lists as the admin console reads and shows them.

/** 0.6667 -> "66.7%"; null -> "—". */
export function percent(rate) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return "—";
  return `${trimNumber(rate * 100, 1)}%`;
}

export function trimNumber(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const fixed = Number(value).toFixed(digits);
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** Seconds for people: 0.016 -> "16 ms", 42 -> "42 s", 125 -> "2 min 5 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Number(seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${trimNumber(s, 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

export function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** Lines of a textarea, trimmed, without blanks. */
export function lines(text) {
  return String(text || "")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** "a, b ,c" -> ["a", "b", "c"]; Chinese commas too. */
export function commaList(text) {
  return String(text || "")
    .split(/[,，]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

export function todayUtc(offsetDays = 0) {
  const date = new Date(Date.now() + offsetDays * 86400000);
  return date.toISOString().slice(0, 10);
}

export function nextDay(isoDate) {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}
