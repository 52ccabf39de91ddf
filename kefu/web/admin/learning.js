// Learning tab: questions the bot did not serve well, grouped; each group becomes an FAQ entry,
// examples of an intent, or is dismissed.

import { api, describe, query } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { lines, nextDay, trimNumber } from "./format.js";
import { confirmAction, detailList, loadedTabs, showError, updatePreview } from "./ui.js";

const REASONS = {
  low_confidence: "fell back",
  rejected_clarification: "suggestions ignored",
  escalated_after_answer: "escalated after an answer",
  rated_down: "rated down",
};

const learning = { clusters: [], cluster: null, intentNames: [] };

function learningFilters() {
  const start = $("#learning-start").value;
  const end = $("#learning-end").value;
  return { start, end: end ? nextDay(end) : "", language: $("#learning-language").value };
}

export async function loadClusters() {
  const list = $("#clusters");
  list.setAttribute("aria-busy", "true");
  try {
    const body = await api("GET", `/api/admin/learning/clusters${query(learningFilters())}`);
    learning.clusters = body.clusters || [];
    $("#learning-summary").textContent = `${body.signals} question${body.signals === 1 ? "" : "s"} in ${body.total_clusters} group${body.total_clusters === 1 ? "" : "s"}`;
    renderClusters();
  } catch (failure) {
    list.replaceChildren(h("div", { className: "form-error" }, describe(failure), failure.details && failure.details.length ? detailList(failure.details) : null));
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

function renderClusters() {
  const list = $("#clusters");
  if (!learning.clusters.length) {
    list.replaceChildren(h("div", { className: "card empty-state", text: "Nothing to review: the bot served every question in this range." }));
    return;
  }
  list.replaceChildren(
    ...learning.clusters.map((cluster) => {
      const reasons = Object.entries(cluster.reasons || {}).map(([key, n]) => h("span", { className: `badge badge--reason-${key}`, text: `${n} ${REASONS[key] || key}` }));
      const shown = cluster.texts.slice(0, 8);
      return h(
        "article",
        { className: "card cluster", dataset: { testid: "cluster", key: cluster.key } },
        h(
          "header",
          { className: "cluster__head" },
          h("h3", { className: "cluster__title", text: cluster.representative, dataset: { testid: "cluster-representative" } }),
          h("span", { className: "badge badge--count", text: `${cluster.size}×`, attrs: { title: "questions in this group" } }),
        ),
        h("div", { className: "cluster__meta" }, ...reasons, h("span", { className: "muted small", text: `${Object.entries(cluster.languages || {}).map(([l, n]) => `${l} ${n}`).join(", ")} · cohesion ${trimNumber(cluster.cohesion, 2)} · last ${formatDate(cluster.last_seen)}` })),
        h("ul", { className: "cluster__texts" }, shown.map((text) => h("li", { text })), cluster.texts.length > shown.length ? h("li", { className: "muted", text: `and ${cluster.texts.length - shown.length} more` }) : null),
        h(
          "p",
          { className: "muted small" },
          cluster.suggested_intent ? `The intent model guessed “${cluster.suggested_intent}”. ` : "",
          cluster.answered_with ? `The bot answered with ${cluster.answered_with}.` : "",
        ),
        h(
          "div",
          { className: "cluster__actions" },
          h("button", { className: "btn btn--primary btn--small", type: "button", text: "Make FAQ entry", dataset: { testid: "cluster-make-faq" }, on: { click: () => openClusterFaq(cluster) } }),
          h("button", { className: "btn btn--small", type: "button", text: "Add to intent", dataset: { testid: "cluster-add-intent" }, on: { click: () => openClusterIntent(cluster) } }),
          h("button", { className: "btn btn--ghost btn--small", type: "button", text: "Dismiss", dataset: { testid: "cluster-dismiss" }, on: { click: () => dismissCluster(cluster) } }),
        ),
      );
    }),
  );
}

function openClusterFaq(cluster) {
  learning.cluster = cluster;
  $("#cluster-faq-error").hidden = true;
  $("#cluster-faq-question").value = cluster.representative;
  $("#cluster-faq-alternatives").value = cluster.texts.filter((t) => t !== cluster.representative).join("\n");
  $("#cluster-faq-answer").value = "";
  $("#cluster-faq-category").value = "general";
  $("#cluster-faq-language").value = ["en", "zh"].includes(cluster.language) ? cluster.language : "";
  $("#cluster-faq-status").value = "published";
  updatePreview("#cluster-faq-answer", "#cluster-faq-preview");
  $("#cluster-faq-dialog").showModal();
  $("#cluster-faq-answer").focus();
}

async function saveClusterFaq(event) {
  event.preventDefault();
  const cluster = learning.cluster;
  if (!cluster) return;
  const error = $("#cluster-faq-error");
  error.hidden = true;
  const entry = {
    question: $("#cluster-faq-question").value.trim(),
    alternatives: lines($("#cluster-faq-alternatives").value),
    answer: $("#cluster-faq-answer").value.trim(),
    category: $("#cluster-faq-category").value.trim() || "general",
    status: $("#cluster-faq-status").value,
  };
  const language = $("#cluster-faq-language").value;
  if (language) entry.language = language;
  if (!entry.question || !entry.answer) {
    showError(error, "Write an answer first.");
    return;
  }
  const button = $("#cluster-faq-save");
  button.disabled = true;
  try {
    const body = await api("POST", "/api/admin/learning/faq", { exchange_ids: cluster.exchange_ids, entry });
    $("#cluster-faq-dialog").close();
    toast(`Created FAQ entry ${body.entry_id}; ${body.reviewed} question${body.reviewed === 1 ? "" : "s"} reviewed.`);
    learning.cluster = null;
    loadedTabs.delete("kb"); // the list there is stale now
    loadClusters();
  } catch (failure) {
    showError(error, describe(failure), failure.details);
  } finally {
    button.disabled = false;
  }
}

async function openClusterIntent(cluster) {
  learning.cluster = cluster;
  $("#cluster-intent-error").hidden = true;
  const select = $("#cluster-intent-name");
  try {
    const list = await api("GET", "/api/admin/kb/intents");
    learning.intentNames = list.map((i) => i.name);
  } catch (failure) {
    toast(`Could not load the intents: ${describe(failure)}`, "error");
    return;
  }
  select.replaceChildren(...learning.intentNames.map((name) => h("option", { value: name, text: name })));
  if (cluster.suggested_intent && learning.intentNames.includes(cluster.suggested_intent)) select.value = cluster.suggested_intent;
  const box = $("#cluster-intent-examples");
  box.replaceChildren(
    h("legend", { className: "field__label", text: "Add these as examples" }),
    ...cluster.texts.map((text) => h("label", { className: "check" }, h("input", { type: "checkbox", checked: true, value: text }), h("span", { text }))),
  );
  $("#cluster-intent-dialog").showModal();
}

async function saveClusterIntent(event) {
  event.preventDefault();
  const cluster = learning.cluster;
  if (!cluster) return;
  const error = $("#cluster-intent-error");
  error.hidden = true;
  const examples = [...document.querySelectorAll("#cluster-intent-examples input:checked")].map((input) => input.value);
  if (!examples.length) {
    showError(error, "Tick at least one question to add.");
    return;
  }
  const intent = $("#cluster-intent-name").value;
  try {
    const body = await api("POST", "/api/admin/learning/intent", { exchange_ids: cluster.exchange_ids, intent, examples });
    $("#cluster-intent-dialog").close();
    toast(`Added ${body.added} example${body.added === 1 ? "" : "s"} to ${body.intent}; the bot retrains in the background.`);
    learning.cluster = null;
    loadClusters();
  } catch (failure) {
    showError(error, describe(failure), failure.details);
  }
}

async function dismissCluster(cluster) {
  if (!(await confirmAction("Dismiss this group?", `The ${cluster.size} question${cluster.size === 1 ? "" : "s"} like “${cluster.representative}” leave this list without a change to the bot.`, "Dismiss"))) return;
  try {
    await api("POST", "/api/admin/learning/dismiss", { exchange_ids: cluster.exchange_ids });
    toast("Dismissed.");
    loadClusters();
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

export function wireLearning() {
  $("#learning-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadClusters();
  });
  $("#cluster-faq-form").addEventListener("submit", saveClusterFaq);
  $("#cluster-faq-answer").addEventListener("input", () => updatePreview("#cluster-faq-answer", "#cluster-faq-preview"));
  $("#cluster-faq-cancel").addEventListener("click", () => $("#cluster-faq-dialog").close());
  $("#cluster-intent-form").addEventListener("submit", saveClusterIntent);
  $("#cluster-intent-cancel").addEventListener("click", () => $("#cluster-intent-dialog").close());
}
