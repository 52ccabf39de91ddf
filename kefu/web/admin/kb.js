// Knowledge base tab: the FAQ list with search and filters, the entry editor with a live
// answer preview, publish/unpublish/archive/delete, and history with rollback.

import { api, describe, query } from "/staff/assets/api.js";
import { $, debounce, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { showHistory } from "./changes.js";
import { commaList, lines } from "./format.js";
import { confirmAction, showError, updatePreview } from "./ui.js";

const KB_PAGE = 25;

const kb = {
  offset: 0,
  total: 0,
  items: [],
  entry: null, // the entry open in the editor; null for a new one
  categories: new Set(),
  historyOpen: false,
  request: 0,
};

export function initKb() {
  loadCategories();
  loadFaqs();
}

export async function loadCategories() {
  try {
    const page = await api("GET", `/api/admin/kb/faqs${query({ limit: 500 })}`);
    for (const item of page.items) kb.categories.add(item.category);
    renderCategories();
  } catch {
    // The filter still works with categories typed by hand.
  }
}

function renderCategories() {
  const select = $("#kb-category");
  const chosen = select.value;
  const sorted = [...kb.categories].sort();
  select.replaceChildren(h("option", { value: "", text: "All categories" }), ...sorted.map((c) => h("option", { value: c, text: c })));
  select.value = sorted.includes(chosen) ? chosen : "";
  $("#category-options").replaceChildren(...sorted.map((c) => h("option", { value: c })));
}

function kbFilters() {
  return {
    q: $("#kb-q").value.trim(),
    category: $("#kb-category").value,
    language: $("#kb-language").value,
    status: $("#kb-status").value,
  };
}

export async function loadFaqs() {
  kb.request += 1;
  const request = kb.request;
  const params = { ...kbFilters(), limit: KB_PAGE, offset: kb.offset };
  try {
    const page = await api("GET", `/api/admin/kb/faqs${query(params)}`);
    if (request !== kb.request) return;
    if (!page.items.length && kb.offset > 0 && page.total > 0) {
      kb.offset = Math.max(0, Math.floor((page.total - 1) / KB_PAGE) * KB_PAGE);
      loadFaqs();
      return;
    }
    kb.items = page.items;
    kb.total = page.total;
    for (const item of page.items) kb.categories.add(item.category);
    renderFaqs();
  } catch (failure) {
    if (request === kb.request) toast(`Could not load the entries: ${describe(failure)}`, "error");
  }
}

function statusBadge(status) {
  return h("span", { className: `badge badge--${status}`, text: status, dataset: { testid: "status" } });
}

function renderFaqs() {
  const body = $("#kb-rows");
  if (!kb.items.length) {
    body.replaceChildren(h("tr", {}, h("td", { className: "empty", attrs: { colspan: 6 }, text: "No entries match." })));
  } else {
    body.replaceChildren(
      ...kb.items.map((item) =>
        h(
          "tr",
          {
            dataset: { testid: "faq-row", entryId: item.id },
            attrs: { tabindex: 0, "aria-selected": String(Boolean(kb.entry && kb.entry.id === item.id)) },
            on: {
              click: () => openEntry(item.id),
              keydown: (event) => {
                if (event.key === "Enter" || event.key === " ") {
                  event.preventDefault();
                  openEntry(item.id);
                }
              },
            },
          },
          h("td", {}, h("div", { className: "cell-title", text: item.question }), h("div", { className: "cell-sub mono", text: item.id })),
          h("td", { text: item.category }),
          h("td", { text: item.language }),
          h("td", {}, statusBadge(item.status)),
          h("td", { className: "num", text: item.version }),
          h("td", { className: "nowrap muted", text: formatDate(item.updated_at) }),
        ),
      ),
    );
  }
  const first = kb.total ? kb.offset + 1 : 0;
  const last = Math.min(kb.total, kb.offset + kb.items.length);
  $("#kb-page-info").textContent = `${first}–${last} of ${kb.total}`;
  $("#kb-prev").disabled = kb.offset === 0;
  $("#kb-next").disabled = kb.offset + KB_PAGE >= kb.total;
}

async function openEntry(id) {
  try {
    const entry = await api("GET", `/api/admin/kb/faqs/${encodeURIComponent(id)}`);
    fillEntry(entry);
  } catch (failure) {
    toast(`Could not open ${id}: ${describe(failure)}`, "error");
  }
}

function newEntry() {
  fillEntry(null);
  $("#faq-question").focus();
}

function fillEntry(entry) {
  kb.entry = entry;
  const editor = $("#kb-editor");
  editor.hidden = false;
  $("#kb-split").classList.add("split--open");
  $("#faq-error").hidden = true;
  $("#faq-title").textContent = entry ? entry.question : "New entry";
  $("#faq-meta").replaceChildren(
    ...(entry
      ? [h("span", { className: "mono", text: entry.id }), " · ", statusBadge(entry.status), ` · version ${entry.version} by ${entry.author}, ${formatDate(entry.updated_at)}`]
      : [h("span", { text: "Not saved yet" })]),
  );
  $("#faq-id-field").hidden = Boolean(entry);
  $("#faq-id").value = "";
  $("#faq-question").value = entry ? entry.question : "";
  $("#faq-alternatives").value = entry ? entry.alternatives.join("\n") : "";
  $("#faq-answer").value = entry ? entry.answer : "";
  $("#faq-category").value = entry ? entry.category : $("#kb-category").value || "general";
  $("#faq-language").value = entry ? entry.language : $("#kb-language").value;
  $("#faq-status").value = entry ? entry.status : "draft";
  $("#faq-tags").value = entry ? entry.tags.join(", ") : "";
  $("#faq-publish").hidden = !entry || entry.status === "published";
  $("#faq-unpublish").hidden = !entry || entry.status !== "published";
  $("#faq-archive").hidden = !entry || entry.status === "archived";
  $("#faq-delete").hidden = !entry;
  $("#faq-history-toggle").hidden = !entry;
  $("#faq-save").textContent = entry ? "Save" : "Create";
  updatePreview("#faq-answer", "#faq-preview");
  for (const row of document.querySelectorAll("#kb-rows tr[data-entry-id]")) {
    row.setAttribute("aria-selected", String(Boolean(entry && row.dataset.entryId === entry.id)));
  }
  if (entry && kb.historyOpen) loadHistory();
  else {
    $("#faq-history").hidden = true;
    $("#faq-history-toggle").setAttribute("aria-expanded", "false");
    if (!entry) kb.historyOpen = false;
  }
}

function closeEntry() {
  kb.entry = null;
  $("#kb-editor").hidden = true;
  $("#kb-split").classList.remove("split--open");
  for (const row of document.querySelectorAll("#kb-rows tr[aria-selected=true]")) row.setAttribute("aria-selected", "false");
}

function entryForm() {
  const body = {
    question: $("#faq-question").value.trim(),
    alternatives: lines($("#faq-alternatives").value),
    answer: $("#faq-answer").value.trim(),
    category: $("#faq-category").value.trim() || "general",
    tags: commaList($("#faq-tags").value),
    status: $("#faq-status").value,
  };
  const language = $("#faq-language").value;
  if (language) body.language = language;
  return body;
}

async function saveEntry(event) {
  event.preventDefault();
  const error = $("#faq-error");
  error.hidden = true;
  const body = entryForm();
  if (!body.question || !body.answer) {
    showError(error, "A question and an answer are needed.");
    return;
  }
  const button = $("#faq-save");
  button.disabled = true;
  try {
    let saved;
    if (kb.entry) {
      saved = await api("PATCH", `/api/admin/kb/faqs/${encodeURIComponent(kb.entry.id)}`, { ...body, expected_version: kb.entry.version });
      toast(saved.version === kb.entry.version ? "Nothing changed." : `Saved: version ${saved.version}.`);
    } else {
      const id = $("#faq-id").value.trim();
      saved = await api("POST", "/api/admin/kb/faqs", id ? { id, ...body } : body);
      toast(`Created ${saved.id}.`);
    }
    kb.categories.add(saved.category);
    renderCategories();
    fillEntry(saved);
    loadFaqs();
  } catch (failure) {
    if (failure.status === 409 && kb.entry) {
      showError(error, "Someone changed this entry since you opened it. Copy your text, reopen the entry to see their change, and edit again.");
      error.append(h("button", { className: "btn btn--small", type: "button", text: "Reopen", on: { click: () => openEntry(kb.entry.id) } }));
    } else {
      showError(error, describe(failure), failure.details);
    }
  } finally {
    button.disabled = false;
  }
}

async function entryAction(action, done) {
  if (!kb.entry) return;
  try {
    const saved = await api("POST", `/api/admin/kb/faqs/${encodeURIComponent(kb.entry.id)}/${action}`);
    fillEntry(saved);
    loadFaqs();
    toast(done);
  } catch (failure) {
    showError($("#faq-error"), describe(failure), failure.details);
  }
}

async function deleteEntry() {
  if (!kb.entry) return;
  const entry = kb.entry;
  const sure = await confirmAction("Delete this entry?", `“${entry.question}” (${entry.id}) will be deleted. Its history stays in the audit trail. To keep it out of answers but recoverable, archive it instead.`, "Delete");
  if (!sure) return;
  try {
    await api("DELETE", `/api/admin/kb/faqs/${encodeURIComponent(entry.id)}`);
    closeEntry();
    loadFaqs();
    toast(`Deleted ${entry.id}.`);
  } catch (failure) {
    showError($("#faq-error"), describe(failure), failure.details);
  }
}

function toggleHistory() {
  kb.historyOpen = !kb.historyOpen;
  $("#faq-history-toggle").setAttribute("aria-expanded", String(kb.historyOpen));
  if (kb.historyOpen) loadHistory();
  else $("#faq-history").hidden = true;
}

async function loadHistory() {
  const entry = kb.entry;
  if (!entry) return;
  const panel = $("#faq-history");
  $("#faq-history-toggle").setAttribute("aria-expanded", "true");
  try {
    const revisions = await api("GET", `/api/admin/kb/faqs/${encodeURIComponent(entry.id)}/history`);
    if (!kb.entry || kb.entry.id !== entry.id) return;
    showHistory(panel, entry.id, revisions, { currentVersion: kb.entry.version, onRollback: rollbackEntry });
  } catch (failure) {
    toast(`Could not load the history: ${describe(failure)}`, "error");
  }
}

async function rollbackEntry(revision) {
  const entry = kb.entry;
  if (!entry) return;
  const sure = await confirmAction("Roll back?", `${entry.id} will get the content it had at version ${revision.version}, as a new version. Nothing is lost: this rollback shows in the history too.`, "Roll back");
  if (!sure) return;
  try {
    const saved = await api("POST", `/api/admin/kb/faqs/${encodeURIComponent(entry.id)}/rollback`, { version: revision.version });
    fillEntry(saved);
    loadFaqs();
    toast(`Rolled back to version ${revision.version}; now version ${saved.version}.`);
  } catch (failure) {
    showError($("#faq-error"), describe(failure), failure.details);
  }
}

export function wireKb() {
  const refilter = () => {
    kb.offset = 0;
    loadFaqs();
  };
  $("#kb-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    refilter();
  });
  $("#kb-q").addEventListener("input", debounce(refilter, 250));
  for (const id of ["#kb-category", "#kb-language", "#kb-status"]) $(id).addEventListener("change", refilter);
  $("#kb-prev").addEventListener("click", () => {
    kb.offset = Math.max(0, kb.offset - KB_PAGE);
    loadFaqs();
  });
  $("#kb-next").addEventListener("click", () => {
    kb.offset += KB_PAGE;
    loadFaqs();
  });
  $("#kb-new").addEventListener("click", newEntry);
  $("#faq-close").addEventListener("click", closeEntry);
  $("#faq-form").addEventListener("submit", saveEntry);
  $("#faq-answer").addEventListener("input", () => updatePreview("#faq-answer", "#faq-preview"));
  $("#faq-publish").addEventListener("click", () => entryAction("publish", "Published: customers get this answer now."));
  $("#faq-unpublish").addEventListener("click", () => entryAction("unpublish", "Unpublished: back to draft."));
  $("#faq-archive").addEventListener("click", () => entryAction("archive", "Archived."));
  $("#faq-delete").addEventListener("click", deleteEntry);
  $("#faq-history-toggle").addEventListener("click", toggleHistory);
}
