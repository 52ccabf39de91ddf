// Pieces every admin tab uses: answer previews, error boxes, the confirmation dialog and
// background jobs followed with a progress bar.

import { api } from "/staff/assets/api.js";
import { $, h } from "/staff/assets/dom.js";

const JOB_POLL_MS = 300;

/** Tabs whose data has loaded; a change that makes a tab's view stale deletes the tab here. */
export const loadedTabs = new Set();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Render markdown-lite into ``node`` with the customer widget's renderer. */
export function renderAnswer(node, text) {
  node.replaceChildren();
  const widget = window.KefuWidget;
  if (widget && typeof widget.renderMarkdown === "function") {
    widget.renderMarkdown(text, node);
  } else {
    node.append(h("p", { text }));
  }
}

export function showError(node, message, details = []) {
  node.replaceChildren(h("strong", { text: message }));
  const items = (details || []).filter((d) => d && (d.message || d.field));
  if (items.length) node.append(detailList(items));
  node.hidden = false;
}

/** The ``details`` of an API error as a readable list: "Line 3 · question: Field required". */
export function detailList(details) {
  return h(
    "ul",
    { className: "detail-list", attrs: { "data-testid": "error-details" } },
    details.map((d) => {
      const where = [];
      if (d.line !== undefined && d.line !== null) where.push(`Line ${d.line}`);
      if (d.field) where.push(String(d.field).replace(/^body\./, ""));
      return h("li", {}, where.length ? h("span", { className: "detail-list__where", text: `${where.join(" · ")}: ` }) : null, d.message || d.code || "");
    }),
  );
}

export function updatePreview(inputSelector, previewSelector) {
  const text = $(inputSelector).value;
  const preview = $(previewSelector);
  if (!text.trim()) {
    preview.replaceChildren(h("p", { className: "preview__empty", text: "The answer appears here as you type." }));
    return;
  }
  renderAnswer(preview, text);
}

/** Poll a background job until it is no longer running, showing done/total in ``bar``. */
export async function followJob(job, bar) {
  let current = job;
  showProgress(bar, current);
  while (current.state === "queued" || current.state === "running") {
    await sleep(JOB_POLL_MS);
    try {
      current = await api("GET", `/api/admin/jobs/${encodeURIComponent(current.id)}`);
    } catch (failure) {
      if (failure.status === 401) throw failure;
      continue; // a blip; the job goes on regardless
    }
    showProgress(bar, current);
  }
  return current;
}

function showProgress(bar, job) {
  bar.hidden = false;
  const total = Number(job.total) || 0;
  const done = Number(job.done) || 0;
  const finished = job.state === "done" || job.state === "failed";
  const fraction = finished ? 1 : total ? Math.min(1, done / total) : 0;
  bar.dataset.state = job.state;
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", String(total || 1));
  bar.setAttribute("aria-valuenow", String(finished && !total ? 1 : done));
  $(".progress__bar", bar).style.width = `${Math.round(fraction * 100)}%`;
  const label = job.state === "failed" ? "failed" : finished ? "done" : total ? `${done} / ${total}` : "starting…";
  $(".progress__text", bar).textContent = finished && total ? `${label} · ${done} / ${total}` : label;
}

export function confirmAction(title, text, ok = "OK") {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = ok;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}
