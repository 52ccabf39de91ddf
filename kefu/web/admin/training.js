// Training tab: train a candidate intent model, compare its metrics with the serving one,
// activate it or roll back to an older version.

import { api, describe } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { percent, trimNumber } from "./format.js";
import { followJob, showError } from "./ui.js";

const METRICS = [
  ["cv_accuracy", "Accuracy (cross-validated)", "rate"],
  ["cv_macro_f1", "Macro F1 (cross-validated)", "rate"],
  ["cv_oos_balanced_accuracy", "Out-of-scope balanced accuracy", "rate"],
  ["threshold", "Confidence threshold", "number"],
  ["examples", "Training examples", "int"],
  ["intents", "Intents", "int"],
];

const training = { models: null, following: null };

export async function loadModels() {
  try {
    training.models = await api("GET", "/api/admin/bot/models");
    renderModels();
    const job = training.models.training;
    if (job && job.state === "running" && training.following !== job.id) followTraining(job);
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

function versionOf(name) {
  return ((training.models && training.models.versions) || []).find((v) => v.version === name) || null;
}

function renderModels() {
  const models = training.models;
  $("#model-current").textContent = models.current || "none";
  $("#model-background").textContent = models.background_training ? "The bot is retraining after an intent edit; that model activates on its own." : "";
  $("#model-rows").replaceChildren(
    ...models.versions.map((v) => {
      const m = v.metrics || {};
      const current = v.version === models.current;
      return h(
        "tr",
        { dataset: { testid: "model-row", version: v.version }, className: current ? "row--chosen" : "" },
        h("td", {}, h("span", { className: "mono", text: v.version }), current ? h("span", { className: "badge badge--ok", text: "serving" }) : null),
        h("td", { className: "nowrap", text: formatDate(v.trained_at) }),
        ...METRICS.map(([key, , kind]) => h("td", { className: "num", text: metricText(m[key], kind) })),
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
                on: { click: () => activateModel(v.version) },
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
  $("#train-error").hidden = true;
  $("#train-compare").hidden = true;
  try {
    const job = await api("POST", "/api/admin/bot/train");
    followTraining(job);
  } catch (failure) {
    showError($("#train-error"), failure.status === 409 ? "A training run is already under way; its progress shows here." : describe(failure), failure.status === 409 ? [] : failure.details);
    if (failure.status === 409) loadModels();
  }
}

async function followTraining(job) {
  training.following = job.id;
  const button = $("#train");
  button.disabled = true;
  try {
    const finished = await followJob(job, $("#train-progress"));
    if (finished.state !== "done") {
      showError($("#train-error"), `Training failed: ${(finished.error && finished.error.message) || "unknown error"}`, (finished.error && finished.error.details) || []);
      return;
    }
    training.models = await api("GET", "/api/admin/bot/models");
    renderModels();
    renderCompare(finished.result);
  } catch (failure) {
    showError($("#train-error"), describe(failure));
  } finally {
    button.disabled = false;
    training.following = null;
  }
}

function renderCompare(result) {
  const candidate = result.version;
  const current = versionOf(training.models.current);
  const currentMetrics = (current && current.metrics) || {};
  const candidateMetrics = result.metrics || {};
  const box = $("#train-compare");
  const serving = training.models.current === candidate;
  box.replaceChildren(
    h("h3", { className: "subhead" }, "Candidate ", h("span", { className: "mono", text: candidate, dataset: { testid: "candidate-version" } }), " beside the serving model"),
    h(
      "table",
      { className: "table compare" },
      h("thead", {}, h("tr", {}, h("th", { text: "Metric" }), h("th", { className: "num" }, "Current ", h("span", { className: "mono muted", text: training.models.current || "—" })), h("th", { className: "num" }, "Candidate ", h("span", { className: "mono muted", text: candidate })), h("th", { className: "num", text: "Change" }))),
      h(
        "tbody",
        {},
        METRICS.map(([key, label, kind]) => {
          const before = currentMetrics[key];
          const after = candidateMetrics[key];
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
        }),
      ),
    ),
    h(
      "div",
      { className: "editor__actions" },
      serving
        ? h("span", { className: "badge badge--ok", text: "This candidate is serving" })
        : h("button", { className: "btn btn--primary", type: "button", id: "activate-candidate", dataset: { testid: "activate-candidate", version: candidate }, text: `Activate ${candidate}`, on: { click: () => activateModel(candidate) } }),
    ),
  );
  box.hidden = false;
}

async function activateModel(version) {
  try {
    const body = await api("POST", `/api/admin/bot/models/${encodeURIComponent(version)}/activate`);
    toast(`Now serving ${body.current}.`);
    await loadModels();
    const activate = $("#activate-candidate");
    if (activate && activate.dataset.version === body.current) {
      activate.replaceWith(h("span", { className: "badge badge--ok", text: "This candidate is serving" }));
    }
  } catch (failure) {
    showError($("#train-error"), describe(failure), failure.details);
  }
}

export function wireTraining() {
  $("#train").addEventListener("click", train);
}
