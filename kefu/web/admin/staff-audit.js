// Staff audit tab: the audit log of staff actions (/api/admin/audit-log), newest first, with
// filters, "load more" (keyset pages) and a CSV export of what the filters choose. Read only:
// the log has no edit or delete.

import { api, describe, query } from "/staff/assets/api.js";
import { $, h } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { detailList } from "./ui.js";

const PAGE = 50;
const URL = "/api/admin/audit-log";

const log = { next: null, shown: 0, filters: {} };

/** A datetime-local value (the browser's time) as an ISO instant, or "". */
function instant(value) {
  if (!value) return "";
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? value : time.toISOString();
}

function readFilters() {
  return {
    action: $("#staff-audit-action").value.trim(),
    actor: $("#staff-audit-actor").value.trim(),
    target_type: $("#staff-audit-target-type").value.trim(),
    target_id: $("#staff-audit-target-id").value.trim(),
    since: instant($("#staff-audit-since").value),
    until: instant($("#staff-audit-until").value),
  };
}

function tone(action) {
  if (/\.(failed|throttled)$/.test(action)) return "badge--audit-failed";
  if (/^(user\.disabled|mfa\.(disabled|reset)|password\.reset|customer\.erased|purge\.)/.test(action)) return "badge--audit-warn";
  if (/^(data\.exported|customer\.exported|pii\.revealed)/.test(action)) return "badge--audit-data";
  return "";
}

function value(item) {
  if (item === null || item === undefined) return "—";
  if (Array.isArray(item)) return item.map(value).join(", ") || "—";
  if (typeof item === "object") return JSON.stringify(item);
  return String(item);
}

/** The entry's facts as "key: value" lines; a change ("user.changed") as "from → to". */
function detailCell(entry) {
  const pairs = Object.entries(entry.detail || {});
  if (!pairs.length) return h("span", { className: "muted", text: "—" });
  const changed = entry.action === "user.changed";
  return h(
    "dl",
    { className: "audit-detail" },
    pairs.flatMap(([key, item]) => [
      h("dt", { text: key }),
      h("dd", { text: changed && Array.isArray(item) && item.length === 2 ? `${value(item[0])} → ${value(item[1])}` : value(item) }),
    ]),
  );
}

function row(entry) {
  const actor = entry.actor_name || (entry.actor_id === null ? "system" : `#${entry.actor_id}`);
  const badge = ["badge", "badge--audit", tone(entry.action)].filter(Boolean).join(" ");
  return h(
    "tr",
    { dataset: { testid: "staff-audit-row", id: entry.id, action: entry.action, actor: entry.actor_name } },
    h("td", { className: "nowrap", text: formatDate(entry.at), attrs: { title: entry.at } }),
    h("td", {}, h("span", { text: actor }), entry.actor_id === null && entry.actor_name ? h("span", { className: "muted", text: " (no account)" }) : null),
    h("td", {}, h("span", { className: badge, text: entry.action })),
    h("td", {}, entry.target_type ? [h("span", { className: "muted", text: `${entry.target_type} ` }), h("span", { className: "mono", text: entry.target_id ?? "" })] : h("span", { className: "muted", text: "—" })),
    h("td", { className: "mono nowrap", text: entry.address || "—" }),
    h("td", { className: "audit-detail-cell" }, detailCell(entry)),
  );
}

function showFailure(failure) {
  const node = $("#staff-audit-error");
  node.replaceChildren(h("strong", { text: describe(failure) }), failure.details && failure.details.length ? detailList(failure.details) : null);
  node.hidden = false;
}

async function loadPage({ more = false } = {}) {
  const params = { ...log.filters, limit: PAGE, before_id: more ? log.next : null };
  $("#staff-audit-more").disabled = true;
  try {
    const page = await api("GET", `${URL}${query(params)}`);
    $("#staff-audit-error").hidden = true;
    const body = $("#staff-audit-rows");
    const rows = page.items.map(row);
    if (more) body.append(...rows);
    else if (rows.length) body.replaceChildren(...rows);
    else body.replaceChildren(h("tr", {}, h("td", { className: "empty", attrs: { colspan: 6 }, text: "No staff actions match." })));
    log.shown = (more ? log.shown : 0) + page.items.length;
    log.next = page.next_before_id;
    $("#staff-audit-info").textContent = `${log.shown} shown${log.next ? "" : " · all"}`;
    $("#staff-audit-more").hidden = !log.next;
    $("#staff-audit-more").disabled = false;
  } catch (failure) {
    showFailure(failure);
  }
}

export function loadStaffAudit() {
  log.filters = readFilters();
  $("#staff-audit-csv").href = `${URL}/export.csv${query(log.filters)}`;
  return loadPage();
}

export function wireStaffAudit() {
  $("#staff-audit-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadStaffAudit();
  });
  $("#staff-audit-more").addEventListener("click", () => loadPage({ more: true }));
  // The link follows the filters as typed, so an export is what the table would show.
  $("#staff-audit-filters").addEventListener("input", () => {
    $("#staff-audit-csv").href = `${URL}/export.csv${query(readFilters())}`;
  });
}
