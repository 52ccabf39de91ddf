// The context packet of the open ticket (customer, summary, intent trail, sentiment, the bot's
// answers), drawn from the store.

import { $, h } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { FACT_LABELS, REASONS } from "./constants.js";
import { channelBadge, rich, svg } from "./rich.js";
import { customerName } from "./selectors.js";
import { subscribe } from "./store.js";

export function wireContext() {
  subscribe(
    (s) => [s.selectedId, s.detail],
    ([id, detail]) => {
      if (!id) renderContextEmpty();
      else if (detail && (detail.loaded || detail.context)) renderContext(detail);
      else renderContextLoading();
    },
  );
}

function renderContextEmpty() {
  $("#context").replaceChildren(h("p", { className: "muted context-empty", text: "The customer's context appears here." }));
}

function renderContextLoading() {
  $("#context").replaceChildren(h("p", { className: "muted context-empty", text: "Loading context…" }));
}

function section(title, ...content) {
  return h("section", { className: "ctx-section" }, h("h3", { text: title }), ...content);
}

function kv(pairs) {
  const list = h("dl", { className: "ctx-kv" });
  for (const [key, value] of pairs) {
    if (value === undefined || value === null || value === "") continue;
    list.append(h("dt", { text: key }), h("dd", {}, value instanceof Node ? value : String(value)));
  }
  return list;
}

// Claims the embedding site did not sign: anyone could have typed them (docs/security.md).
function unverifiedMark() {
  return h("span", { className: "badge badge--unverified", text: "unverified", dataset: { testid: "unverified" }, attrs: { title: "Given by the page, not signed by the site: anyone could have typed it" } });
}

function renderContext(detail) {
  const ticket = detail.ticket || {};
  const context = detail.context || {};
  const customer = { ...(ticket.customer || {}), ...(context.customer || {}) };
  const parts = [];

  const name = customer.name || customerName(ticket);
  const unverified = customer.verified === false;
  parts.push(
    section(
      "Customer",
      h(
        "div",
        { className: "ctx-customer" },
        h("div", { className: "avatar", text: Array.from(name)[0].toUpperCase(), attrs: { "aria-hidden": "true" } }),
        h("div", {}, h("div", { className: "ctx-customer__name" }, name, unverified && customer.name ? unverifiedMark() : null), customer.tier === "vip" ? h("span", {}, h("span", { className: "badge badge--vip", text: "VIP" }), unverified ? unverifiedMark() : null) : h("span", { className: "muted", text: customer.tier || "standard" })),
      ),
      kv([
        ["Email", customer.email && unverified ? h("span", {}, customer.email, " ", unverifiedMark()) : customer.email],
        ["Customer id", customer.external_id],
        ["Channel", channelBadge(ticket)],
        ["Language", ticket.language ? String(ticket.language).toUpperCase() : ""],
        ["Topic", ticket.topic],
        ["Team", ticket.team],
        ["Reason", REASONS[ticket.reason] || ticket.reason],
        ["Opened", formatDate(ticket.created_at)],
        ["First reply", ticket.first_response_at ? formatDate(ticket.first_response_at) : ""],
      ]),
    ),
  );

  const summary = context.summary || {};
  const sentences = Array.isArray(summary.key_sentences) ? summary.key_sentences : [];
  const facts = Array.isArray(summary.facts) ? summary.facts : [];
  if (sentences.length || facts.length || ticket.summary) {
    parts.push(
      section(
        "Summary",
        sentences.length ? h("ul", { className: "ctx-list", dataset: { testid: "key-sentences" } }, sentences.map((s) => h("li", {}, rich(typeof s === "string" ? s : s.text || "")))) : ticket.summary ? h("p", { text: ticket.summary }) : null,
        facts.length
          ? h(
              "div",
              { className: "facts", dataset: { testid: "facts" } },
              facts.map((fact) =>
                h(
                  "span",
                  { className: "fact", dataset: { testid: "fact", kind: fact.kind } },
                  h("span", { className: "fact__kind", text: FACT_LABELS[fact.kind] || String(fact.kind || "").replace(/_/g, " ") }),
                  h("span", { className: "fact__value", text: fact.value }),
                ),
              ),
            )
          : null,
      ),
    );
  }

  const earlier = Array.isArray(customer.earlier_conversations) ? customer.earlier_conversations : [];
  if (earlier.length) {
    parts.push(
      section(
        `Earlier conversations (${earlier.length})`,
        h("ul", { className: "ctx-list" }, earlier.map((c) => h("li", {}, h("span", { text: formatDate(c.created_at) || String(c.conversation_id).slice(0, 8) }), c.reason ? h("span", { className: "muted", text: ` · ${REASONS[c.reason] || c.reason}` }) : null))),
      ),
    );
  }

  const trail = Array.isArray(context.intent_trail) ? context.intent_trail : [];
  if (trail.length) {
    parts.push(
      section(
        "Intent trail",
        h(
          "table",
          { className: "trail" },
          h("thead", {}, h("tr", {}, h("th", { text: "#" }), h("th", { text: "Intent" }), h("th", { text: "Confidence" }), h("th", { text: "Decision" }))),
          h(
            "tbody",
            {},
            trail.map((step) => {
              const confidence = typeof step.confidence === "number" ? Math.max(0, Math.min(1, step.confidence)) : null;
              return h(
                "tr",
                {},
                h("td", { className: "trail__seq", text: step.seq ?? "" }),
                h("td", { text: step.intent || "—" }),
                h("td", {}, confidence === null ? "—" : h("span", { className: "conf" }, h("span", { className: "conf__bar" }, h("i", { attrs: { style: `width:${Math.round(confidence * 100)}%` } })), `${Math.round(confidence * 100)}%`)),
                h("td", { className: "muted", text: step.decision || "" }),
              );
            }),
          ),
        ),
      ),
    );
  }

  const trend = context.sentiment_trend || {};
  const scores = Array.isArray(trend.scores) ? trend.scores.filter((s) => typeof s === "number") : [];
  if (scores.length || trend.direction) {
    const direction = String(trend.direction || "steady");
    parts.push(section("Sentiment", h("div", { className: "sentiment" }, scores.length ? sparkline(scores) : null, h("span", { className: `sentiment__dir sentiment__dir--${direction}`, text: direction }), scores.length ? h("span", { className: "muted", text: `last ${scores[scores.length - 1].toFixed(2)}` }) : null)));
  }

  const answers = Array.isArray(context.bot_answers) ? context.bot_answers : [];
  if (answers.length) {
    parts.push(
      section(
        `Bot answers given (${answers.length})`,
        h("ul", { className: "answers" }, answers.map((a) => h("li", {}, rich(a.text || ""), h("span", { className: "answers__src", text: `#${a.seq ?? "?"} · ${a.entry_id || a.intent || "bot"}` })))),
      ),
    );
  }

  if (!context || !Object.keys(context).length) parts.push(h("p", { className: "muted", text: "No context packet for this ticket." }));
  $("#context").replaceChildren(...parts);
}

function sparkline(scores) {
  const width = 120;
  const height = 30;
  const low = Math.min(-1, ...scores);
  const high = Math.max(1, ...scores);
  const x = (i) => (scores.length === 1 ? width / 2 : (i * (width - 4)) / (scores.length - 1) + 2);
  const y = (v) => height - 3 - ((v - low) / (high - low)) * (height - 6);
  const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `sentiment scores ${scores.map((s) => s.toFixed(2)).join(", ")}` });
  chart.append(svg("line", { x1: 0, x2: width, y1: y(0), y2: y(0), stroke: "#d7dae1", "stroke-dasharray": "3 3" }));
  chart.append(svg("polyline", { points: scores.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "), fill: "none", stroke: "#4f46e5", "stroke-width": 2, "stroke-linejoin": "round" }));
  scores.forEach((v, i) => chart.append(svg("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, fill: v < 0 ? "#dc2626" : "#16a34a" })));
  return chart;
}
