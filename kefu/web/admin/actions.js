// Actions tab: the business's systems an intent asks (bot/actions.py). The list, an editor for
// the URL, headers, slots and reply templates, and a test call against the real system.

import { api, describe } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { confirmAction, showError } from "./ui.js";

const BASE = "/api/admin/bot/actions";
const actions = { list: [], current: null };

export async function loadActions() {
  try {
    actions.list = await api("GET", BASE);
    renderActions();
    if (!actions.current && actions.list.length) fillAction(actions.list[0]);
  } catch (failure) {
    toast(`Could not load the actions: ${describe(failure)}`, "error");
  }
}

function renderActions() {
  $("#action-count").textContent = String(actions.list.length);
  $("#action-rows").replaceChildren(
    ...actions.list.map((action) =>
      h(
        "tr",
        {
          dataset: { testid: "action-row", name: action.name },
          attrs: { tabindex: 0, "aria-selected": String(Boolean(actions.current && actions.current.name === action.name)) },
          on: {
            click: () => fillAction(action),
            keydown: (event) => {
              if (event.key === "Enter") fillAction(action);
            },
          },
        },
        h("td", { className: "mono", text: action.name }),
        h("td", { className: "mono", text: action.intent }),
        h("td", { text: action.method }),
        h("td", {}, h("span", { className: `badge badge--${action.enabled ? "respond" : "muted"}`, text: action.enabled ? "enabled" : "disabled" })),
        h("td", {}, h("span", { className: `badge badge--${action.circuit === "closed" ? "respond" : "handoff"}`, text: action.circuit })),
      ),
    ),
  );
}

function fillAction(action) {
  actions.current = action;
  $("#action-editor").hidden = false;
  $("#action-error").hidden = true;
  $("#action-test-result").hidden = true;
  $("#action-title").textContent = action ? action.name : "New action";
  $("#action-meta").textContent = action ? `updated ${formatDate(action.updated_at)}` : "Not saved yet";
  const value = (field, fallback) => (action ? action[field] : fallback);
  $("#action-name").value = value("name", "");
  $("#action-name").readOnly = Boolean(action);
  $("#action-intent").value = value("intent", "");
  $("#action-method").value = value("method", "GET");
  $("#action-url").value = value("url", "");
  $("#action-slots").value = value("required_slots", ["order_number"]).join(", ");
  $("#action-timeout").value = String(value("timeout_seconds", 5));
  $("#action-headers").value = Object.entries(value("headers", {}))
    .map(([name, secret]) => `${name}: ${secret}`)
    .join("\n");
  for (const [group, id] of [["reply", "reply"], ["missing_slot", "missing"], ["not_found", "notfound"]]) {
    for (const language of ["en", "zh"]) $(`#action-${id}-${language}`).value = (value(group, {}) || {})[language] || "";
  }
  $("#action-failures").value = String(value("failure_threshold", 3));
  $("#action-cooldown").value = String(value("cooldown_seconds", 30));
  $("#action-enabled").checked = value("enabled", true);
  $("#action-delete").hidden = !action;
  $("#action-test-form").hidden = !action;
  $("#action-save").textContent = action ? "Save" : "Create";
  renderTestSlots(action);
  for (const row of document.querySelectorAll("#action-rows tr")) row.setAttribute("aria-selected", String(Boolean(action && row.dataset.name === action.name)));
}

function renderTestSlots(action) {
  const kinds = action ? action.required_slots : [];
  $("#action-test-slots").replaceChildren(
    ...kinds.map((kind) =>
      h(
        "label",
        { className: "field" },
        h("span", { className: "field__label", text: kind }),
        h("input", { dataset: { slot: kind, testid: `action-test-${kind}` }, attrs: { spellcheck: "false", placeholder: kind === "order_number" ? "SO123456" : "" } }),
      ),
    ),
  );
}

function formBody() {
  const headers = {};
  for (const line of $("#action-headers").value.split("\n")) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const texts = (id) => ({ en: $(`#action-${id}-en`).value, zh: $(`#action-${id}-zh`).value });
  return {
    name: $("#action-name").value.trim(),
    intent: $("#action-intent").value.trim(),
    method: $("#action-method").value,
    url: $("#action-url").value.trim(),
    headers,
    required_slots: $("#action-slots").value.split(",").map((s) => s.trim()).filter(Boolean),
    timeout_seconds: Number($("#action-timeout").value),
    reply: texts("reply"),
    missing_slot: texts("missing"),
    not_found: texts("notfound"),
    failure_threshold: Number($("#action-failures").value),
    cooldown_seconds: Number($("#action-cooldown").value),
    enabled: $("#action-enabled").checked,
  };
}

async function saveAction(event) {
  event.preventDefault();
  const current = actions.current;
  try {
    const saved = current
      ? await api("PUT", `${BASE}/${encodeURIComponent(current.name)}`, formBody())
      : await api("POST", BASE, formBody());
    toast(`Saved ${saved.name}`, "success");
    actions.current = saved;
    await loadActions();
    fillAction(saved);
  } catch (failure) {
    showError($("#action-error"), describe(failure), failure.details);
  }
}

async function deleteAction() {
  const current = actions.current;
  if (!current || !(await confirmAction("Delete the action?", `The bot will answer “${current.intent}” with the intent's own response again.`, "Delete"))) return;
  try {
    await api("DELETE", `${BASE}/${encodeURIComponent(current.name)}`);
    actions.current = null;
    $("#action-editor").hidden = true;
    await loadActions();
  } catch (failure) {
    showError($("#action-error"), describe(failure), failure.details);
  }
}

async function testAction(event) {
  event.preventDefault();
  const current = actions.current;
  if (!current) return;
  const slots = {};
  for (const input of document.querySelectorAll("#action-test-slots input")) slots[input.dataset.slot] = input.value.trim();
  const box = $("#action-test-result");
  try {
    const result = await api("POST", `${BASE}/${encodeURIComponent(current.name)}/test`, { slots });
    const facts = [`outcome ${result.outcome}`, result.status ? `HTTP ${result.status}` : null, result.latency_ms != null ? `${result.latency_ms} ms` : null].filter(Boolean).join(" · ");
    box.className = `action-result action-result--${result.outcome}`;
    const parts = [h("p", { className: "action-result__facts", dataset: { testid: "action-test-facts" }, text: facts })];
    if (result.error) parts.push(h("p", { className: "form-error", text: result.error }));
    for (const [language, text] of Object.entries(result.replies || {})) {
      parts.push(h("p", { dataset: { testid: `action-test-reply-${language}` } }, h("span", { className: "badge", text: language }), " ", text));
    }
    if (result.answer) parts.push(h("pre", { className: "action-result__answer mono", text: result.answer }));
    box.replaceChildren(...parts);
  } catch (failure) {
    box.className = "action-result";
    showError(box, describe(failure), failure.details);
  }
  box.hidden = false;
}

export function wireActions() {
  $("#action-new").addEventListener("click", () => fillAction(null));
  $("#action-form").addEventListener("submit", saveAction);
  $("#action-delete").addEventListener("click", deleteAction);
  $("#action-test-form").addEventListener("submit", testAction);
}
