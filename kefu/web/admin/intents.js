// Intents tab: the list, and the editor with a response and examples per language and history.

import { api, describe } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { showHistory } from "./changes.js";
import { lines } from "./format.js";
import { confirmAction, showError } from "./ui.js";

const EXTRA_LANGUAGES = ["en", "zh", "ja", "ko", "fr", "de", "es", "pt", "it", "nl", "ru", "ar", "tr", "pl", "vi", "th", "id", "ms", "hi"];

const intents = { list: [], current: null, historyOpen: false, languages: [] };

export async function loadIntents() {
  try {
    intents.list = await api("GET", "/api/admin/kb/intents");
    renderIntents();
    if (intents.current) {
      const fresh = intents.list.find((i) => i.name === intents.current.name);
      if (fresh && fresh.version !== intents.current.version) fillIntent(fresh);
    }
  } catch (failure) {
    toast(`Could not load the intents: ${describe(failure)}`, "error");
  }
}

function exampleCount(intent) {
  return Object.values(intent.examples || {}).reduce((sum, list) => sum + list.length, 0);
}

function renderIntents() {
  $("#intent-count").textContent = String(intents.list.length);
  $("#intent-rows").replaceChildren(
    ...intents.list.map((intent) =>
      h(
        "tr",
        {
          dataset: { testid: "intent-row", name: intent.name },
          attrs: { tabindex: 0, "aria-selected": String(Boolean(intents.current && intents.current.name === intent.name)) },
          on: {
            click: () => fillIntent(intent),
            keydown: (event) => {
              if (event.key === "Enter") fillIntent(intent);
            },
          },
        },
        h("td", { className: "mono", text: intent.name }),
        h("td", {}, h("span", { className: `badge badge--${intent.action === "handoff" ? "handoff" : "respond"}`, text: intent.action })),
        h("td", { className: "muted", text: intent.description }),
        h("td", { className: "num", text: exampleCount(intent) }),
        h("td", { className: "num", text: intent.version }),
      ),
    ),
  );
}

function fillIntent(intent) {
  intents.current = intent;
  $("#intent-editor").hidden = false;
  $("#intent-split").classList.add("split--open");
  $("#intent-error").hidden = true;
  $("#intent-title").textContent = intent ? intent.name : "New intent";
  $("#intent-meta").textContent = intent ? `version ${intent.version} by ${intent.author}, ${formatDate(intent.updated_at)}` : "Not saved yet";
  $("#intent-name").value = intent ? intent.name : "";
  $("#intent-name").readOnly = Boolean(intent);
  $("#intent-description").value = intent ? intent.description : "";
  $("#intent-action").value = intent ? intent.action : "respond";
  $("#intent-delete").hidden = !intent;
  $("#intent-history-toggle").hidden = !intent;
  $("#intent-save").textContent = intent ? "Save" : "Create";
  const languages = new Set(["en", "zh"]);
  if (intent) for (const key of [...Object.keys(intent.responses || {}), ...Object.keys(intent.examples || {})]) languages.add(key);
  intents.languages = [...languages];
  renderIntentLanguages(intent);
  for (const row of document.querySelectorAll("#intent-rows tr")) row.setAttribute("aria-selected", String(Boolean(intent && row.dataset.name === intent.name)));
  if (intent && intents.historyOpen) loadIntentHistory();
  else $("#intent-history").hidden = true;
}

function renderIntentLanguages(intent) {
  const container = $("#intent-languages");
  container.replaceChildren(
    ...intents.languages.map((language) => {
      const examples = (intent && intent.examples && intent.examples[language]) || [];
      return h(
        "fieldset",
        { className: "lang-block", dataset: { language } },
        h("legend", { text: language }),
        h(
          "label",
          { className: "field" },
          h("span", { className: "field__label", text: "Response" }),
          h("textarea", { rows: 2, value: (intent && intent.responses && intent.responses[language]) || "", dataset: { role: "response", testid: `intent-response-${language}` } }),
        ),
        h(
          "label",
          { className: "field" },
          h("span", { className: "field__label" }, "Examples ", h("span", { className: "field__hint", text: `(one per line; ${examples.length} now)` })),
          h("textarea", { rows: 5, value: examples.join("\n"), dataset: { role: "examples", testid: `intent-examples-${language}` } }),
        ),
      );
    }),
  );
  const add = $("#intent-add-language");
  add.replaceChildren(...EXTRA_LANGUAGES.filter((l) => !intents.languages.includes(l)).map((l) => h("option", { value: l, text: l })));
}

function addIntentLanguage() {
  const language = $("#intent-add-language").value;
  if (!language || intents.languages.includes(language)) return;
  const draft = intentForm();
  intents.languages.push(language);
  renderIntentLanguages({ ...(intents.current || {}), responses: draft.responses, examples: draft.examples });
}

function intentForm() {
  const responses = {};
  const examples = {};
  for (const block of document.querySelectorAll("#intent-languages .lang-block")) {
    const language = block.dataset.language;
    const response = $("[data-role=response]", block).value.trim();
    const list = lines($("[data-role=examples]", block).value);
    if (response) responses[language] = response;
    if (list.length) examples[language] = list;
  }
  return {
    name: $("#intent-name").value.trim(),
    description: $("#intent-description").value.trim(),
    action: $("#intent-action").value,
    responses,
    examples,
  };
}

async function saveIntent(event) {
  event.preventDefault();
  const error = $("#intent-error");
  error.hidden = true;
  const body = intentForm();
  if (!body.name) {
    showError(error, "Give the intent a name.");
    return;
  }
  try {
    let saved;
    if (intents.current) {
      const { name, ...changes } = body;
      saved = await api("PATCH", `/api/admin/kb/intents/${encodeURIComponent(name)}`, { ...changes, expected_version: intents.current.version });
    } else {
      saved = await api("POST", "/api/admin/kb/intents", body);
    }
    toast(`Saved ${saved.name}. The bot retrains in the background with the new examples.`);
    intents.current = saved;
    await loadIntents();
    fillIntent(saved);
  } catch (failure) {
    const message = failure.status === 409 && intents.current ? "Someone changed this intent since you opened it; reopen it and edit again." : describe(failure);
    showError(error, message, failure.details);
  }
}

async function deleteIntent() {
  const intent = intents.current;
  if (!intent) return;
  if (!(await confirmAction("Delete this intent?", `The bot will no longer recognise “${intent.name}” once it retrains.`, "Delete"))) return;
  try {
    await api("DELETE", `/api/admin/kb/intents/${encodeURIComponent(intent.name)}`);
    intents.current = null;
    $("#intent-editor").hidden = true;
    $("#intent-split").classList.remove("split--open");
    toast(`Deleted ${intent.name}.`);
    loadIntents();
  } catch (failure) {
    showError($("#intent-error"), describe(failure), failure.details);
  }
}

function toggleIntentHistory() {
  intents.historyOpen = !intents.historyOpen;
  $("#intent-history-toggle").setAttribute("aria-expanded", String(intents.historyOpen));
  if (intents.historyOpen) loadIntentHistory();
  else $("#intent-history").hidden = true;
}

async function loadIntentHistory() {
  const intent = intents.current;
  if (!intent) return;
  try {
    const revisions = await api("GET", `/api/admin/kb/intents/${encodeURIComponent(intent.name)}/history`);
    showHistory($("#intent-history"), intent.name, revisions, { currentVersion: intent.version });
  } catch (failure) {
    toast(`Could not load the history: ${describe(failure)}`, "error");
  }
}

export function wireIntents() {
  $("#intent-new").addEventListener("click", () => {
    fillIntent(null);
    $("#intent-name").focus();
  });
  $("#intent-close").addEventListener("click", () => {
    intents.current = null;
    $("#intent-editor").hidden = true;
    $("#intent-split").classList.remove("split--open");
    renderIntents();
  });
  $("#intent-form").addEventListener("submit", saveIntent);
  $("#intent-delete").addEventListener("click", deleteIntent);
  $("#intent-history-toggle").addEventListener("click", toggleIntentHistory);
  $("#intent-add-language-button").addEventListener("click", addIntentLanguage);
}
