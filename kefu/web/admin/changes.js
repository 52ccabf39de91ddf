// Changes as history and the audit trail show them: "field: before → after", and one card per
// revision with its rollback button.

import { h } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";

function valueText(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join("\n");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([key, item]) => `${key}: ${Array.isArray(item) ? item.join(" | ") : typeof item === "object" ? JSON.stringify(item) : item}`)
      .join("\n");
  }
  return String(value);
}

function clip(text, max) {
  return max && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function changeList(changes, { max = 0 } = {}) {
  const entries = Object.entries(changes || {});
  if (!entries.length) return h("p", { className: "muted small", text: "No field changed." });
  return h(
    "dl",
    { className: "changes" },
    entries.map(([field, pair]) => {
      const [before, after] = Array.isArray(pair) ? pair : [null, pair];
      const beforeText = valueText(before);
      const afterText = valueText(after);
      return h(
        "div",
        { className: "change", dataset: { testid: "change", field } },
        h("dt", { className: "change__field", text: field }),
        h(
          "dd",
          { className: "change__values" },
          h("span", { className: `change__before${beforeText ? "" : " change__empty"}`, text: beforeText ? clip(beforeText, max) : "(none)", attrs: { title: max && beforeText.length > max ? beforeText : null } }),
          h("span", { className: "change__arrow", text: "→", attrs: { "aria-label": "became" } }),
          h("span", { className: `change__after${afterText ? "" : " change__empty"}`, text: afterText ? clip(afterText, max) : "(none)", attrs: { title: max && afterText.length > max ? afterText : null } }),
        ),
      );
    }),
  );
}

function revisionCard(revision, { currentVersion = null, onRollback = null } = {}) {
  const canRoll = onRollback && revision.snapshot && revision.version !== currentVersion && revision.action !== "delete";
  return h(
    "article",
    { className: "revision", dataset: { testid: "revision", version: revision.version } },
    h(
      "header",
      { className: "revision__head" },
      h("span", { className: "badge badge--version", text: `v${revision.version}` }),
      h("span", { className: "revision__action", text: revision.action }),
      h("span", { className: "muted", text: `${revision.author} · ${formatDate(revision.created_at)}` }),
      revision.version === currentVersion ? h("span", { className: "badge badge--ok", text: "current" }) : null,
      h("span", { className: "filters__spacer" }),
      canRoll
        ? h("button", {
            className: "btn btn--small",
            type: "button",
            text: "Roll back to this version",
            dataset: { testid: "rollback", version: revision.version },
            on: { click: () => onRollback(revision) },
          })
        : null,
    ),
    changeList(revision.changes),
  );
}

/** Fill a history ``panel`` with ``revisions``, newest first; ``options`` go to revisionCard. */
export function showHistory(panel, name, revisions, options) {
  const newest = [...revisions].sort((a, b) => b.version - a.version || b.id - a.id);
  panel.replaceChildren(h("h3", { className: "history__title", text: `History of ${name}` }), ...newest.map((revision) => revisionCard(revision, options)));
  panel.hidden = false;
}
