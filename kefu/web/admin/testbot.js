// Test the bot tab: what the bot would make of a message (decision, reply, the answer model's
// chance of being right, intent, sentiment, retrieved entries with their scores). Nothing is
// saved.

import { api, describe } from "/staff/assets/api.js";
import { $, h } from "/staff/assets/dom.js";
import { trimNumber } from "./format.js";
import { renderAnswer } from "./ui.js";

async function testBot(event) {
  event.preventDefault();
  const text = $("#test-text").value.trim();
  if (!text) {
    $("#test-text").focus();
    return;
  }
  const body = { text };
  const language = $("#test-language").value;
  if (language) body.language = language;
  const button = $("#test-submit");
  button.disabled = true;
  try {
    renderTest(await api("POST", "/api/admin/bot/test", body));
  } catch (failure) {
    const result = $("#test-result");
    result.replaceChildren(h("div", { className: "form-error" }, describe(failure)));
    result.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function confidenceBar(value) {
  const share = Math.max(0, Math.min(1, Number(value) || 0));
  return h("span", { className: "conf" }, h("span", { className: "conf__bar" }, h("i", { attrs: { style: `width:${Math.round(share * 100)}%` } })), h("span", { text: trimNumber(share, 3) }));
}

function kv(pairs) {
  return h(
    "dl",
    { className: "kv" },
    pairs.filter(Boolean).flatMap(([key, value, testid]) => [h("dt", { text: key }), h("dd", { dataset: { testid } }, value instanceof Node ? value : String(value ?? "—"))]),
  );
}

// What each signal the answer model's calibrator reads measures (bot/intents.py, _signals).
const EVIDENCE = {
  top_probability: "the classifier's probability of its entry",
  margin: "its lead over the runner-up entry",
  decision_value: "the classifier's raw score for its entry",
  nearest_example: "cosine to the nearest stored phrasing",
  nearest_of_guess: "cosine to the entry's own nearest phrasing",
  neighbour_margin: "lead of the best entry's nearest phrasing over the next entry's",
  guess_behind_nearest: "how far the entry's nearest phrasing falls behind the nearest overall (0: they agree)",
};

/** "P(right) 0.83 — answers at ≥ 0.70, suggests at ≥ 0.30", with a bar ticked at both. */
function probabilityLine(model) {
  const p = Number(model.probability) || 0;
  const tone = p >= model.answer_at ? "answer" : p >= model.suggest_at ? "suggest" : "below";
  const tick = (at, label) => h("span", { className: "pright__tick", attrs: { style: `left:${Math.round(at * 100)}%`, title: label } });
  return h(
    "div",
    { className: "pright" },
    h("span", { className: "pright__line", dataset: { testid: "test-answer-probability" }, text: `P(right) ${p.toFixed(2)} — answers at ≥ ${Number(model.answer_at).toFixed(2)}, suggests at ≥ ${Number(model.suggest_at).toFixed(2)}` }),
    h(
      "span",
      { className: "pright__bar", attrs: { role: "img", "aria-label": `${Math.round(p * 100)} % likely to be right` } },
      h("i", { className: `pright--${tone}`, attrs: { style: `width:${Math.round(Math.max(0, Math.min(1, p)) * 100)}%` } }),
      tick(model.suggest_at, "suggests from here"),
      tick(model.answer_at, "answers from here"),
    ),
  );
}

function answerModelCard(model, questions) {
  const question = questions.get(model.entry_id);
  const evidence = Object.entries(model.evidence || {});
  return h(
    "section",
    { className: "card result-card result-card--wide", dataset: { testid: "test-answer-model" } },
    h("h3", { className: "card__title", text: "Answer model" }),
    h(
      "div",
      { className: "answer-model" },
      kv([
        ["Entry", h("span", {}, h("span", { className: "mono", text: model.entry_id }), question ? h("span", { className: "muted", text: ` · ${question}` }) : null), "test-answer-entry"],
        ["Chance right", probabilityLine(model), "test-answer-chance"],
        ["Policy", model.used ? "used: the decision weighed this estimate" : model.reliable === false ? "not used: the model did not prove itself on this knowledge base's held-out phrasings, so retrieval's scores decided" : "not used: the entry is unpublished or not in the message's language, so retrieval's scores decided", "test-answer-used"],
        model.runners_up && model.runners_up.length ? ["Runners-up", h("span", { className: "mono", text: model.runners_up.join(", ") }), "test-answer-runners-up"] : null,
      ]),
      evidence.length
        ? h(
            "table",
            { className: "table evidence", dataset: { testid: "test-answer-evidence" } },
            h("thead", {}, h("tr", {}, h("th", { text: "Signal" }), h("th", { className: "num", text: "Value" }), h("th", { text: "Measures" }))),
            h(
              "tbody",
              {},
              evidence.map(([name, value]) =>
                h("tr", { dataset: { testid: "test-answer-signal", signal: name } }, h("td", { className: "mono", text: name }), h("td", { className: "num", text: trimNumber(value, 3) }), h("td", { className: "muted small", text: EVIDENCE[name] || "" })),
              ),
            ),
          )
        : null,
    ),
  );
}

function renderTest(result) {
  const decision = result.decision || {};
  const intent = result.intent;
  const reply = result.reply || {};
  const sentiment = result.sentiment || {};
  const chosen = decision.entry_id;

  const decisionCard = h(
    "section",
    { className: "card result-card" },
    h("h3", { className: "card__title", text: "Decision" }),
    kv([
      ["Language", result.language, "test-language"],
      ["Decision", h("span", { className: `badge badge--decision`, text: decision.kind }), "test-decision-kind"],
      ["Because", decision.reason, "test-decision-reason"],
      decision.detail ? ["Detail", decision.detail, "test-decision-detail"] : null,
      decision.entry_id ? ["FAQ entry", h("span", { className: "mono", text: decision.entry_id }), "test-decision-entry"] : null,
      decision.intent ? ["Intent", decision.intent, "test-decision-intent"] : null,
      decision.suggestions && decision.suggestions.length ? ["Suggests", decision.suggestions.join(", "), "test-decision-suggestions"] : null,
    ]),
  );

  const replyBubble = h("div", { className: "bubble", dataset: { testid: "test-reply" } });
  renderAnswer(replyBubble, reply.text || "");
  const suggestionList = Array.isArray(reply.suggestions) && reply.suggestions.length
    ? h("ul", { className: "suggestions" }, reply.suggestions.map((s) => h("li", { text: typeof s === "string" ? s : s.question || s.entry_id })))
    : null;
  const replyCard = h(
    "section",
    { className: "card result-card" },
    h("h3", { className: "card__title" }, "Reply ", h("span", { className: "muted small", text: reply.kind ? `(${reply.kind})` : "" })),
    reply.text ? replyBubble : h("p", { className: "muted", text: "The bot would stay silent." }),
    suggestionList,
  );

  const intentCard = h(
    "section",
    { className: "card result-card" },
    h("h3", { className: "card__title", text: "Intent" }),
    intent
      ? [
          kv([
            ["Best guess", h("span", { className: "mono", text: intent.name }), "test-intent"],
            ["Confidence", confidenceBar(intent.confidence), "test-intent-confidence"],
            ["P(right)", confidenceBar(intent.probability), "test-intent-probability"],
            ["In scope", intent.in_scope ? "yes (P(right) at least 0.5)" : "no (P(right) under 0.5)", "test-intent-in-scope"],
            ["Action", intent.action, "test-intent-action"],
          ]),
          h("h4", { className: "subhead", text: "Runners-up" }),
          h(
            "ol",
            { className: "runners", dataset: { testid: "test-runners-up" } },
            (intent.runners_up || []).map((r) => h("li", {}, h("span", { className: "mono", text: r.name }), " ", confidenceBar(r.confidence))),
          ),
        ]
      : h("p", { className: "muted", dataset: { testid: "test-intent" }, text: "No intent model is serving." }),
  );

  const sentimentCard = h(
    "section",
    { className: "card result-card" },
    h("h3", { className: "card__title", text: "Sentiment" }),
    kv([
      ["Label", h("span", { className: `badge badge--sentiment-${sentiment.label}`, text: sentiment.label }), "test-sentiment"],
      ["Score", trimNumber(sentiment.score, 3), "test-sentiment-score"],
      ["Signals", (sentiment.signals || []).join(", ") || "none", "test-sentiment-signals"],
    ]),
  );

  const faqTable = h(
    "section",
    { className: "card result-card result-card--wide" },
    h("h3", { className: "card__title", text: "Retrieved FAQ entries" }),
    result.faqs && result.faqs.length
      ? h(
          "table",
          { className: "table" },
          h("thead", {}, h("tr", {}, h("th", { text: "Entry" }), h("th", { text: "Lang" }), h("th", { className: "num", text: "Fused" }), h("th", { className: "num", text: "Dense" }), h("th", { className: "num", text: "Lexical" }), h("th", { className: "num", title: "Share of questions this knowledge base does not answer that score this high here; retrieval answers only up to the set share", text: "Unknowns as high" }))),
          h(
            "tbody",
            {},
            result.faqs.map((hit) =>
              h(
                "tr",
                { className: hit.entry_id === chosen ? "row--chosen" : "", dataset: { testid: "test-faq-row", entryId: hit.entry_id } },
                h("td", {}, h("div", { className: "cell-title", text: hit.question }), h("div", { className: "cell-sub mono", text: hit.entry_id })),
                h("td", { text: hit.language }),
                h("td", { className: "num", dataset: { testid: "score-fused" } }, h("strong", { text: trimNumber(hit.score, 3) })),
                h("td", { className: "num", dataset: { testid: "score-dense" }, text: trimNumber(hit.dense, 3) }),
                h("td", { className: "num", dataset: { testid: "score-lexical" }, text: trimNumber(hit.lexical, 3) }),
                h("td", { className: "num", dataset: { testid: "score-unknown-share" }, text: hit.unknown_share == null ? "—" : `${Math.round(hit.unknown_share * 100)} %` }),
              ),
            ),
          ),
        )
      : h("p", { className: "muted", text: "No entry was retrieved." }),
  );

  const versions = result.model_versions || {};
  const footer = h("p", { className: "muted small result-foot", text: `Models: embedding ${versions.embedding || "—"}, intent ${versions.intent || "—"}, answer ${versions.answer || "—"}, sentiment ${versions.sentiment || "—"}.` });

  // Nothing at all without an answer model (a knowledge base too small to learn, or it is off).
  const questions = new Map((result.faqs || []).map((hit) => [hit.entry_id, hit.question]));
  const answerCard = result.answer_model ? answerModelCard(result.answer_model, questions) : null;

  const container = $("#test-result");
  container.replaceChildren(h("div", { className: "result-grid" }, decisionCard, replyCard, answerCard, intentCard, sentimentCard, faqTable), footer);
  container.hidden = false;
}

export function wireTestBot() {
  $("#test-form").addEventListener("submit", testBot);
  $("#test-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("#test-form").requestSubmit();
    }
  });
}
