// Knowledge base tab, its tool bar: import a file as a background job with progress and a
// line-numbered error report, and rebuild the search index. (Export is plain links.)

import { api, describe, query } from "/staff/assets/api.js";
import { $, h } from "/staff/assets/dom.js";
import { loadCategories, loadFaqs } from "./kb.js";
import { followJob, showError } from "./ui.js";

async function submitImport(event) {
  event.preventDefault();
  const file = $("#import-file").files[0];
  const report = $("#import-report");
  const bar = $("#import-progress");
  report.hidden = true;
  bar.hidden = true;
  if (!file) {
    report.dataset.kind = "error";
    showError(report, "Choose a file to import first.");
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  const params = query({ format: $("#import-format").value, status: $("#import-status").value });
  const button = $("#import-submit");
  button.disabled = true;
  try {
    const job = await api("POST", `/api/admin/kb/import-jobs${params}`, form, { form: true });
    const finished = await followJob(job, bar);
    if (finished.state === "done") {
      report.dataset.kind = "ok";
      report.replaceChildren(...importSummary(file.name, finished.result || {}));
      report.hidden = false;
      $("#import-file").value = "";
      loadCategories();
      loadFaqs();
    } else {
      const error = finished.error || {};
      report.dataset.kind = "error";
      showError(report, `The import failed: ${error.message || "unknown error"}. Nothing was imported.`, error.details);
    }
  } catch (failure) {
    report.dataset.kind = "error";
    const message = failure.code === "invalid_file" ? `${file.name} was not imported: ${failure.message}` : `${file.name} was not imported: ${describe(failure)}`;
    showError(report, message, failure.details);
  } finally {
    button.disabled = false;
  }
}

function importSummary(name, result) {
  const parts = [
    ["created", "entries created"],
    ["updated", "entries updated"],
    ["unchanged", "entries unchanged"],
    ["intents_created", "intents created"],
    ["intents_updated", "intents updated"],
    ["intents_unchanged", "intents unchanged"],
  ];
  const counts = parts
    .filter(([key]) => (result[key] || []).length || ["created", "updated", "unchanged"].includes(key))
    .map(([key, label]) => h("li", { dataset: { testid: `import-${key.replace("_", "-")}`, count: (result[key] || []).length } }, h("strong", { text: (result[key] || []).length }), ` ${label}`));
  const changed = [...(result.created || []), ...(result.updated || [])];
  // replaceChildren() would print a null as the word "null": only nodes go in.
  return [
    h("strong", { text: `Imported ${name}.` }),
    h("ul", { className: "counts" }, counts),
    changed.length ? h("details", {}, h("summary", { text: "Which entries" }), h("p", { className: "mono small", text: changed.join(", ") })) : null,
  ].filter(Boolean);
}

async function reindex() {
  const button = $("#reindex");
  const report = $("#reindex-report");
  report.hidden = true;
  button.disabled = true;
  try {
    const job = await api("POST", "/api/admin/kb/reindex-jobs");
    const finished = await followJob(job, $("#reindex-progress"));
    if (finished.state === "done") {
      const r = finished.result || {};
      report.dataset.kind = "ok";
      report.replaceChildren(h("strong", { text: "Index rebuilt: " }), `${r.entries ?? "?"} entries, ${r.vectors ?? "?"} phrasings.`);
      report.hidden = false;
    } else {
      report.dataset.kind = "error";
      showError(report, `Reindexing failed: ${(finished.error && finished.error.message) || "unknown error"}`);
    }
  } catch (failure) {
    report.dataset.kind = "error";
    showError(report, describe(failure), failure.details);
  } finally {
    button.disabled = false;
  }
}

export function wireKbTools() {
  $("#import-form").addEventListener("submit", submitImport);
  $("#reindex").addEventListener("click", reindex);
}
