// Training tab: train a candidate model, compare its metrics with the serving one, activate
// it or roll back to an older version. Two kinds of model share the flow: the intent
// classifier and the answer model learned from the FAQ entries' phrasings (?kind=answer).

import { api, describe } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { percent, trimNumber } from "./format.js";
import { followJob, showError } from "./ui.js";

// [metric key, label in the comparison, column head in the version list, how to show it]
const KINDS = {
  intent: {
    title: "Intent model",
    trainsFrom: "the current intents",
    background: "The bot is retraining after an intent edit; that model activates on its own.",
    metrics: [
      ["cv_accuracy", "Accuracy (cross-validated)", "Accuracy", "rate"],
      ["cv_macro_f1", "Macro F1 (cross-validated)", "Macro F1", "rate"],
      ["cv_oos_balanced_accuracy", "Out-of-scope balanced accuracy", "Out-of-scope bal. acc.", "rate"],
      ["threshold", "Confidence threshold", "Threshold", "number"],
      ["examples", "Training examples", "Examples", "int"],
      ["intents", "Intents", "Intents", "int"],
    ],
  },
  answer: {
    title: "Answer model",
    trainsFrom: "the published FAQ entries' questions and alternative phrasings",
    background: "The bot is retraining after a knowledge-base change; that model activates on its own.",
    metrics: [
      ["cv_in_scope_accuracy", "Held-out phrasings answered with their own entry", "Answered right", "rate"],
      ["cv_oos_recall", "Questions of held-out entries declined", "Unknown declined", "rate"],
      ["cv_accuracy", "Entry accuracy (cross-validated)", "Accuracy", "rate"],
      ["cv_macro_f1", "Macro F1 (cross-validated)", "Macro F1", "rate"],
      ["threshold", "The model's own threshold", "Threshold", "number"],
      ["examples", "Phrasings", "Phrasings", "int"],
      ["intents", "FAQ entries", "Entries", "int"],
    ],
  },
};

// Each kind keeps its own progress bar, error box and comparison, so a run still going on one
// kind keeps its progress while the admin looks at the other; only the chosen kind's are in
// the page (under the same ids).
const training = { kind: "intent", views: {}, models: {}, following: {} };

const path = (kind, route) => `/api/admin/bot/${route}${kind === "intent" ? "" : `?kind=${kind}`}`;

export async function loadModels(kind = training.kind) {
  try {
    const models = await api("GET", path(kind, "models"));
    training.models[kind] = models;
    if (kind !== training.kind) return;
    renderModels();
    const job = models.training;
    if (job && (job.state === "queued" || job.state === "running") && training.following[kind] !== job.id) followTraining(kind, job);
  } catch (failure) {
    toast(`Could not load the models: ${describe(failure)}`, "error");
  }
}

function metricText(value, kind) {
  if (value === null || value === undefined) return "—";
  if (kind === "rate") return percent(value);
  if (kind === "int") return String(Math.round(value));
  return trimNumber(value, 3);
}

function versionOf(kind, name) {
  const models = training.models[kind];
  return ((models && models.versions) || []).find((v) => v.version === name) || null;
}

/** The parts of the card that depend only on the chosen kind. */
function renderFrame() {
  const spec = KINDS[training.kind];
  $("#model-title").textContent = spec.title;
  $("#train-lead").replaceChildren(`Training makes a `, h("em", { text: "candidate" }), ` from ${spec.trainsFrom}. It does not serve customers until you activate it, so compare its cross-validated metrics first.`);
  $("#model-head").replaceChildren(
    h("tr", {}, h("th", { text: "Version" }), h("th", { text: "Trained" }), ...spec.metrics.map(([, , head]) => h("th", { className: "num", text: head })), h("th")),
  );
  $("#model-current").textContent = "—";
  $("#model-background").textContent = "";
  $("#model-rows").replaceChildren();
  $("#train").disabled = Boolean(training.following[training.kind]);
}

function renderModels() {
  const kind = training.kind;
  const models = training.models[kind];
  const spec = KINDS[kind];
  $("#model-current").textContent = models.current || "none";
  $("#model-background").textContent = models.background_training ? spec.background : "";
  $("#model-rows").replaceChildren(
    ...models.versions.map((v) => {
      const m = v.metrics || {};
      const current = v.version === models.current;
      return h(
        "tr",
        { dataset: { testid: "model-row", version: v.version }, className: current ? "row--chosen" : "" },
        h("td", {}, h("span", { className: "mono", text: v.version }), current ? h("span", { className: "badge badge--ok", text: "serving" }) : null),
        h("td", { className: "nowrap", text: formatDate(v.trained_at) }),
        ...spec.metrics.map(([key, , , shown]) => h("td", { className: "num", text: metricText(m[key], shown) })),
        h(
          "td",
          { className: "num" },
          current
            ? null
            : h("button", {
                className: "btn btn--small",
                type: "button",
                text: isNewer(v.version, models.current) ? "Activate" : "Roll back to this",
                dataset: { testid: "model-activate", version: v.version },
                on: { click: () => activateModel(kind, v.version) },
              }),
        ),
      );
    }),
  );
}

function isNewer(version, than) {
  return !than || String(version).localeCompare(String(than), undefined, { numeric: true }) > 0;
}

async function train() {
  const kind = training.kind;
  const view = training.views[kind];
  view.error.hidden = true;
  view.compare.hidden = true;
  try {
    const job = await api("POST", path(kind, "train"));
    followTraining(kind, job);
  } catch (failure) {
    const running = failure.status === 409;
    showError(view.error, running ? "A training run is already under way; its progress shows here." : describe(failure), running ? [] : failure.details);
    if (running) loadModels(kind);
  }
}

async function followTraining(kind, job) {
  const view = training.views[kind];
  training.following[kind] = job.id;
  if (kind === training.kind) $("#train").disabled = true;
  try {
    const finished = await followJob(job, view.progress);
    if (finished.state !== "done") {
      showError(view.error, `Training failed: ${(finished.error && finished.error.message) || "unknown error"}`, (finished.error && finished.error.details) || []);
      return;
    }
    training.models[kind] = await api("GET", path(kind, "models"));
    renderCompare(kind, finished.result);
    if (kind === training.kind) renderModels();
  } catch (failure) {
    showError(view.error, describe(failure));
  } finally {
    training.following[kind] = null;
    if (kind === training.kind) $("#train").disabled = false;
  }
}

function renderCompare(kind, result) {
  const models = training.models[kind];
  const candidate = result.version;
  const current = versionOf(kind, models.current);
  const currentMetrics = (current && current.metrics) || {};
  const candidateMetrics = result.metrics || {};
  const box = training.views[kind].compare;
  const serving = models.current === candidate;
  box.replaceChildren(
    h("h3", { className: "subhead" }, "Candidate ", h("span", { className: "mono", text: candidate, dataset: { testid: "candidate-version" } }), " beside the serving model"),
    h(
      "table",
      { className: "table compare" },
      h("thead", {}, h("tr", {}, h("th", { text: "Metric" }), h("th", { className: "num" }, "Current ", h("span", { className: "mono muted", text: models.current || "—" })), h("th", { className: "num" }, "Candidate ", h("span", { className: "mono muted", text: candidate })), h("th", { className: "num", text: "Change" }))),
      h(
        "tbody",
        {},
        KINDS[kind].metrics.map(([key, label, , shown]) => compareRow(key, label, shown, currentMetrics[key], candidateMetrics[key])),
      ),
    ),
    h(
      "div",
      { className: "editor__actions" },
      serving
        ? h("span", { className: "badge badge--ok", text: "This candidate is serving" })
        : h("button", { className: "btn btn--primary", type: "button", id: "activate-candidate", dataset: { testid: "activate-candidate", version: candidate }, text: `Activate ${candidate}`, on: { click: () => activateModel(kind, candidate) } }),
    ),
  );
  box.hidden = false;
}

function compareRow(key, label, kind, before, after) {
  const delta = typeof before === "number" && typeof after === "number" ? after - before : null;
  const shown = delta === null ? null : kind === "rate" ? trimNumber(delta * 100, 1) : trimNumber(delta, kind === "int" ? 0 : 3);
  const deltaText = shown === null ? "—" : Number(shown) === 0 ? "±0" : `${delta > 0 ? "+" : ""}${shown}${kind === "rate" ? " pts" : ""}`;
  const better = kind === "rate" && delta !== null && Math.abs(delta) > 1e-9 ? (delta > 0 ? "up" : "down") : "";
  return h(
    "tr",
    { dataset: { testid: "compare-row", metric: key } },
    h("td", { text: label }),
    h("td", { className: "num", dataset: { testid: "compare-current" }, text: metricText(before, kind) }),
    h("td", { className: "num", dataset: { testid: "compare-candidate" }, text: metricText(after, kind) }),
    h("td", { className: `num delta delta--${better}`, text: deltaText }),
  );
}

async function activateModel(kind, version) {
  const view = training.views[kind];
  try {
    const body = await api("POST", path(kind, `models/${encodeURIComponent(version)}/activate`));
    toast(`Now serving ${body.current}.`);
    await loadModels(kind);
    const activate = $("[data-testid=activate-candidate]", view.compare);
    if (activate && activate.dataset.version === body.current) {
      activate.replaceWith(h("span", { className: "badge badge--ok", text: "This candidate is serving" }));
    }
  } catch (failure) {
    showError(view.error, describe(failure), failure.details);
  }
}

function chooseKind(kind) {
  if (!KINDS[kind] || kind === training.kind) return;
  const from = training.views[training.kind];
  const to = training.views[kind];
  for (const part of ["progress", "error", "compare"]) from[part].replaceWith(to[part]);
  training.kind = kind;
  renderFrame();
  if (training.models[kind]) renderModels();
  loadModels(kind);
}

export function wireTraining() {
  const intent = { progress: $("#train-progress"), error: $("#train-error"), compare: $("#train-compare") };
  training.views.intent = intent;
  // Copies made before any use: hidden and empty, with the same ids for when they are shown.
  training.views.answer = Object.fromEntries(Object.entries(intent).map(([part, node]) => [part, node.cloneNode(true)]));
  $("#train").addEventListener("click", train);
  for (const option of document.querySelectorAll("input[name=model-kind]")) {
    option.addEventListener("change", () => option.checked && chooseKind(option.value));
  }
}
