// The service-language list, from the top bar: every staff member reads it; supervisors and
// admins add, edit and delete phrases and see the report of how often each was sent anyway
// (/api/agent/service-language, docs/handoff.md "Service language").

import { $, h, toast } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { describe } from "./constants.js";
import { deletePhrase, phraseList, phraseReport, savePhrase } from "./requests.js";

const REPORT_DAYS = 30;
const LANGUAGES = { en: "English", zh: "Chinese" };
let editing = null; // the phrase being edited, or null when the form adds one

function canManage() {
  const role = session.user && session.user.role;
  return role === "supervisor" || role === "admin";
}

async function openList() {
  const manage = canManage();
  $("#phrases-form").hidden = !manage;
  $("#phrases-report").hidden = !manage;
  resetForm();
  $("#phrases-dialog").showModal();
  await refresh();
}

async function refresh() {
  try {
    renderList(await phraseList());
    if (canManage()) renderReport(await phraseReport(REPORT_DAYS));
  } catch (failure) {
    toast(`Could not load the service-language list: ${describe(failure)}`, "error");
  }
}

function renderList(phrases) {
  const manage = canManage();
  const list = $("#phrases-list");
  if (!phrases.length) {
    list.replaceChildren(h("p", { className: "muted", text: "No phrases are listed." }));
    return;
  }
  const rows = phrases.map((phrase) =>
    h(
      "tr",
      { attrs: { "data-testid": "phrase-row" }, dataset: { phraseId: phrase.id } },
      h("td", { className: "phrases__phrase", text: phrase.phrase }),
      h("td", { text: LANGUAGES[phrase.language] || "Every language" }),
      h("td", { text: phrase.alternatives.join(" · ") || "—" }),
      manage
        ? h(
            "td",
            { className: "phrases__actions" },
            h("button", { className: "btn btn--small btn--ghost", type: "button", text: "Edit", attrs: { "aria-label": `Edit “${phrase.phrase}”` }, on: { click: () => startEdit(phrase) } }),
            h("button", { className: "btn btn--small btn--danger", type: "button", text: "Delete", attrs: { "aria-label": `Delete “${phrase.phrase}”` }, on: { click: () => remove(phrase) } }),
          )
        : null,
    ),
  );
  const head = ["Phrase", "Language", "Say instead", manage ? "" : null].filter((x) => x !== null);
  list.replaceChildren(
    h("table", { className: "phrases" }, h("thead", {}, h("tr", {}, head.map((name) => h("th", { attrs: { scope: "col" }, text: name })))), h("tbody", {}, rows)),
  );
}

function renderReport(report) {
  const used = report.phrases.filter((p) => p.uses > 0);
  const body = $("#phrases-report-body");
  if (!used.length) {
    body.replaceChildren(h("p", { className: "muted", text: "No listed phrase was sent in this period." }));
    return;
  }
  const rows = used.map((p) =>
    h(
      "tr",
      { attrs: { "data-testid": "phrase-report-row" } },
      h("td", { text: p.deleted ? `${p.phrase} (deleted)` : p.phrase }),
      h("td", { className: "phrases__count", text: p.uses }),
      h("td", { text: p.last_used ? new Date(p.last_used).toLocaleString() : "" }),
      h("td", { text: p.agents.map((a) => `${a.display_name || a.username || "former staff"}: ${a.uses}`).join(", ") }),
    ),
  );
  body.replaceChildren(
    h(
      "table",
      { className: "phrases" },
      h("thead", {}, h("tr", {}, ["Phrase", "Uses", "Last used", "By agent"].map((name) => h("th", { attrs: { scope: "col" }, text: name })))),
      h("tbody", {}, rows),
    ),
  );
}

function resetForm() {
  editing = null;
  $("#phrase-text").value = "";
  $("#phrase-language").value = "";
  $("#phrase-alternatives").value = "";
  $("#phrases-form-title").textContent = "Add a phrase";
  $("#phrase-save").textContent = "Add";
  $("#phrase-cancel").hidden = true;
  showError("");
}

function startEdit(phrase) {
  editing = phrase;
  $("#phrase-text").value = phrase.phrase;
  $("#phrase-language").value = phrase.language || "";
  $("#phrase-alternatives").value = phrase.alternatives.join("\n");
  $("#phrases-form-title").textContent = `Edit “${phrase.phrase}”`;
  $("#phrase-save").textContent = "Save";
  $("#phrase-cancel").hidden = false;
  $("#phrase-text").focus();
}

function showError(message) {
  const node = $("#phrases-error");
  node.textContent = message;
  node.hidden = !message;
}

async function save(event) {
  event.preventDefault();
  const body = {
    phrase: $("#phrase-text").value,
    language: $("#phrase-language").value || null,
    alternatives: $("#phrase-alternatives").value.split("\n").map((line) => line.trim()).filter(Boolean),
  };
  try {
    await savePhrase(editing ? editing.id : null, body);
  } catch (failure) {
    showError(describe(failure));
    return;
  }
  toast(editing ? "Phrase saved." : "Phrase added.");
  resetForm();
  await refresh();
}

async function remove(phrase) {
  if (!confirm(`Delete “${phrase.phrase}” from the list? Its past uses stay in the report.`)) return;
  try {
    await deletePhrase(phrase.id);
  } catch (failure) {
    toast(`Not deleted: ${describe(failure)}`, "error");
    return;
  }
  if (editing && editing.id === phrase.id) resetForm();
  await refresh();
}

export function wirePhraseList() {
  $("#phrases-open").addEventListener("click", openList);
  $("#phrases-close").addEventListener("click", () => $("#phrases-dialog").close());
  $("#phrases-form").addEventListener("submit", save);
  $("#phrase-cancel").addEventListener("click", resetForm);
}
