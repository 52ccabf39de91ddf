// Audit tab: every knowledge-base change, newest first, filtered by entity, author or id.

import { api, describe, query } from "/staff/assets/api.js";
import { $, h } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { changeList } from "./changes.js";
import { detailList } from "./ui.js";

const AUDIT_PAGE = 25;

const audit = { offset: 0, total: 0 };

export async function loadAudit() {
  const params = {
    entity: $("#audit-entity").value,
    author: $("#audit-author").value.trim(),
    entity_id: $("#audit-entity-id").value.trim(),
    limit: AUDIT_PAGE,
    offset: audit.offset,
  };
  try {
    const page = await api("GET", `/api/admin/kb/audit${query(params)}`);
    audit.total = page.total;
    const body = $("#audit-rows");
    if (!page.items.length) {
      body.replaceChildren(h("tr", {}, h("td", { className: "empty", attrs: { colspan: 6 }, text: "No changes match." })));
    } else {
      body.replaceChildren(
        ...page.items.map((r) =>
          h(
            "tr",
            { dataset: { testid: "audit-row", entity: r.entity, entityId: r.entity_id, version: r.version } },
            h("td", { className: "nowrap", text: formatDate(r.created_at) }),
            h("td", { text: r.author }),
            h("td", {}, h("span", { className: "muted", text: `${r.entity === "faq" ? "FAQ" : r.entity} ` }), h("span", { className: "mono", text: r.entity_id })),
            h("td", { className: "num", text: r.version }),
            h("td", {}, h("span", { className: `badge badge--action-${r.action}`, text: r.action })),
            h("td", { className: "audit-changes" }, changeList(r.changes, { max: 160 })),
          ),
        ),
      );
    }
    const first = page.total ? audit.offset + 1 : 0;
    $("#audit-page-info").textContent = `${first}–${audit.offset + page.items.length} of ${page.total}`;
    $("#audit-prev").disabled = audit.offset === 0;
    $("#audit-next").disabled = audit.offset + AUDIT_PAGE >= page.total;
  } catch (failure) {
    const body = $("#audit-rows");
    body.replaceChildren(h("tr", {}, h("td", { attrs: { colspan: 6 } }, h("div", { className: "form-error" }, describe(failure), failure.details && failure.details.length ? detailList(failure.details) : null))));
  }
}

export function wireAudit() {
  $("#audit-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    audit.offset = 0;
    loadAudit();
  });
  $("#audit-prev").addEventListener("click", () => {
    audit.offset = Math.max(0, audit.offset - AUDIT_PAGE);
    loadAudit();
  });
  $("#audit-next").addEventListener("click", () => {
    audit.offset += AUDIT_PAGE;
    loadAudit();
  });
}
