// Analytics tab: filters, metric tiles, the agent scorecard and CSV links; the charts are in
// charts.js (docs/metrics.md defines every number).

import { api, describe, query } from "/staff/assets/api.js";
import { $, h } from "/staff/assets/dom.js";
import { loadPlotly, renderCharts } from "./charts.js";
import { duration, nextDay, percent, plural, todayUtc, trimNumber } from "./format.js";
import { showError } from "./ui.js";

const CSV_EXPORTS = [
  ["overview", "Overview (every single number)"],
  ["volume_by_day", "Volume by day"],
  ["volume_by_hour", "Volume by hour"],
  ["escalation_by_reason", "Escalation by reason"],
  ["escalation_by_intent", "Escalation by intent"],
  ["sentiment_by_day", "Sentiment by day"],
  ["agents", "Agent scorecard"],
];

const analytics = { summary: null, request: 0 };

export async function initAnalytics() {
  $("#analytics-start").value = todayUtc(-29);
  $("#analytics-end").value = todayUtc(0);
  // Supervisors may not list accounts (/api/admin/users); the desk's list of colleagues serves.
  const [teams, users] = await Promise.allSettled([api("GET", "/api/agent/teams"), api("GET", "/api/admin/users").catch(() => api("GET", "/api/agent/agents").then((body) => ({ users: body.agents })))]);
  if (teams.status === "fulfilled") {
    const names = ((teams.value && teams.value.teams) || []).map((t) => (typeof t === "string" ? t : t.name));
    $("#analytics-team").replaceChildren(h("option", { value: "", text: "all" }), ...names.map((n) => h("option", { value: n, text: n })));
  }
  if (users.status === "fulfilled") {
    const people = (users.value && users.value.users) || [];
    $("#analytics-agent").replaceChildren(h("option", { value: "", text: "all" }), ...people.map((u) => h("option", { value: u.username, text: u.display_name && u.display_name !== u.username ? `${u.display_name} (${u.username})` : u.username })));
  }
  loadAnalytics();
}

function analyticsFilters() {
  const start = $("#analytics-start").value;
  const end = $("#analytics-end").value;
  return {
    start,
    end: end ? nextDay(end) : "",
    language: $("#analytics-language").value,
    team: $("#analytics-team").value,
    agent: $("#analytics-agent").value,
  };
}

export async function loadAnalytics() {
  analytics.request += 1;
  const request = analytics.request;
  const filters = analyticsFilters();
  const error = $("#analytics-error");
  error.hidden = true;
  renderCsvLinks(filters);
  $("#tiles").setAttribute("aria-busy", "true");
  try {
    const [summary, complaints] = await Promise.all([
      api("GET", `/api/admin/analytics/summary${query(filters)}`),
      api("GET", `/api/admin/analytics/complaints${query({ start: filters.start, end: filters.end })}`),
      loadPlotly().catch((e) => e),
    ]);
    if (request !== analytics.request) return;
    analytics.summary = summary;
    renderTiles(summary);
    renderComplaintReport(complaints);
    renderScorecard(summary.agents || []);
    if (window.Plotly) renderCharts(summary);
    else showError(error, "The charts could not load (plotly.js); the numbers above are complete.");
    $("#tiles").setAttribute("aria-busy", "false");
  } catch (failure) {
    if (request !== analytics.request) return;
    showError(error, describe(failure), failure.details);
  }
}

function renderCsvLinks(filters) {
  $("#csv-links").replaceChildren(
    ...CSV_EXPORTS.map(([metric, label]) =>
      h("a", {
        className: "btn btn--small",
        text: label,
        attrs: { href: `/api/admin/analytics/export.csv${query({ metric, ...filters })}`, download: `kefu-${metric}.csv`, "data-testid": `csv-${metric}` },
      }),
    ),
  );
}

function rateSub(r, noun) {
  if (!r || !r.denominator) return `no ${noun} yet`;
  return `${r.numerator} of ${r.denominator} ${noun}`;
}

function tile(id, label, value, sub, hint) {
  return h(
    "div",
    { className: "tile", attrs: { title: hint || null } },
    h("div", { className: "tile__label", text: label }),
    h("div", { className: "tile__value", text: value, dataset: { testid: `tile-${id}` } }),
    h("div", { className: "tile__sub", text: sub, dataset: { testid: `tile-${id}-sub` } }),
  );
}

function csatText(group) {
  return group && group.csat_mean !== null && group.csat_mean !== undefined ? trimNumber(group.csat_mean, 2) : "—";
}

function csatSub(group) {
  if (!group || !group.responses) return "no ratings yet";
  return `${group.responses} rating${group.responses === 1 ? "" : "s"} · ${percent(group.csat_satisfied && group.csat_satisfied.rate)} gave 4–5`;
}

function renderTiles(s) {
  const sat = s.satisfaction || {};
  const nps = (sat.overall && sat.overall.nps) || {};
  const sla = (s.sla && s.sla.breached) || {};
  const frt = s.first_response || {};
  $("#tiles").replaceChildren(
    tile("conversations", "Conversations", String(s.conversations), "with a customer message", "Engaged conversations in scope"),
    tile("containment", "Containment", percent(s.containment.rate), rateSub(s.containment, "without a person"), "Not escalated and not reopened within 24 h"),
    tile("escalation", "Escalation rate", percent(s.escalation.overall.rate), rateSub(s.escalation.overall, "escalated")),
    tile("bot-answer", "Bot answer rate", percent(s.bot_answers.answer.rate), rateSub(s.bot_answers.answer, "bot turns answered")),
    tile("fallback", "Fallback rate", percent(s.bot_answers.fallback.rate), rateSub(s.bot_answers.fallback, "bot turns fell back")),
    tile("fcr", "First-contact resolution", percent(s.first_contact_resolution.rate), rateSub(s.first_contact_resolution, "closed chats")),
    tile("csat-bot", "CSAT, bot only", csatText(sat.bot_only), csatSub(sat.bot_only), "Mean rating 1–5 where no person took part"),
    tile("csat-person", "CSAT, with a person", csatText(sat.person_handled), csatSub(sat.person_handled), "Mean rating 1–5 where a person handled the chat"),
    tile("nps", "NPS", nps.score === null || nps.score === undefined ? "—" : trimNumber(nps.score, 1), nps.responses ? `${plural(nps.responses, "answer")}: ${plural(nps.promoters, "promoter")}, ${plural(nps.detractors, "detractor")}` : "no answers yet"),
    tile("complaints", "Complaint rate", percent(s.complaints.rate.rate), rateSub(s.complaints.rate, "complained")),
    tile("sla", "SLA breaches", String(sla.numerator ?? 0), sla.denominator ? `${percent(sla.rate)} of ${sla.denominator} live tickets` : "no live tickets"),
    tile("frt-bot", "First response, bot", duration(frt.bot && frt.bot.p50), frt.bot && frt.bot.count ? `median of ${frt.bot.count} · p90 ${duration(frt.bot.p90)}` : "no replies yet"),
    tile("frt-person", "First response, person", duration(frt.people && frt.people.p50), frt.people && frt.people.count ? `median of ${frt.people.count} · p90 ${duration(frt.people.p90)}` : "no tickets answered yet"),
  );
}

const LEVELS = [
  ["urgent", "Urgent, 24 h"],
  ["important", "Important, 48 h"],
  ["normal", "Normal, 72 h"],
];

function onTimeSub(r) {
  return r && r.denominator ? `${r.numerator} of ${r.denominator} on time` : "none due yet";
}

function countRows(body, entries, empty) {
  body.replaceChildren(...(entries.length ? entries.map(([name, n]) => h("tr", {}, h("td", { text: String(name).replace(/_/g, " ") }), h("td", { className: "num", text: n }))) : [h("tr", {}, h("td", { className: "empty", attrs: { colspan: 2 }, text: empty }))]));
}

/** /api/admin/analytics/complaints: counts, on time per level, categories, causes, trend. */
function renderComplaintReport(r) {
  const onTime = r.on_time || {};
  $("#complaint-tiles").replaceChildren(
    tile("complaints-opened", "Opened", String(r.opened), `${r.open} open · ${r.pending} inside their time`),
    tile("complaints-on-time", "Answered on time", percent(onTime.all && onTime.all.rate), onTimeSub(onTime.all)),
    ...LEVELS.map(([level, label]) => tile(`complaints-${level}`, label, percent(onTime[level] && onTime[level].rate), onTimeSub(onTime[level]))),
  );
  countRows($("#complaint-categories"), Object.entries(r.by_category || {}), "No complaints");
  countRows($("#complaint-causes"), Object.entries(r.by_cause || {}), "None resolved");
  const trend = r.trend || [];
  $("#complaint-trend").replaceChildren(...(trend.length ? trend.map((d) => h("tr", {}, h("td", { text: d.day }), h("td", { className: "num", text: d.opened }), h("td", { className: "num", text: d.resolved }))) : [h("tr", {}, h("td", { className: "empty", attrs: { colspan: 3 }, text: "No complaints" }))]));
}

function renderScorecard(agents) {
  const body = $("#scorecard-rows");
  if (!agents.length) {
    body.replaceChildren(h("tr", {}, h("td", { className: "empty", attrs: { colspan: 12 }, text: "No person handled a chat in this view." })));
    return;
  }
  body.replaceChildren(
    ...agents.map((a) =>
      h(
        "tr",
        { dataset: { testid: "scorecard-row", agent: a.username } },
        h("td", {}, h("div", { className: "cell-title", text: a.display_name || a.username }), h("div", { className: "cell-sub mono", text: a.username })),
        h("td", { className: "num", text: a.conversations_handled }),
        h("td", { className: "num", text: duration(a.first_response.mean) }),
        h("td", { className: "num", text: duration(a.first_response.p50) }),
        h("td", { className: "num", text: duration(a.handle_time.mean) }),
        h("td", { className: "num", text: a.csat_mean === null ? "—" : trimNumber(a.csat_mean, 2) }),
        h("td", { className: "num", text: a.closed }),
        h("td", { className: "num", text: a.handed_back }),
        h("td", { className: "num", text: a.transferred_away }),
        h("td", { className: "num", text: percent(a.resolution.rate) }),
        h("td", { className: "num", text: a.reviews ?? 0, dataset: { testid: "scorecard-reviews" } }),
        h("td", { className: "num", text: a.review_mean === null || a.review_mean === undefined ? "—" : `${trimNumber(a.review_mean, 1)}%`, dataset: { testid: "scorecard-review-score" } }),
      ),
    ),
  );
}

export function wireAnalytics() {
  $("#analytics-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAnalytics();
  });
  for (const id of ["#analytics-start", "#analytics-end", "#analytics-language", "#analytics-team", "#analytics-agent"]) $(id).addEventListener("change", () => loadAnalytics());
}
