// The analytics charts and agent radars, drawn with plotly.js; the library is served by the
// app from the installed plotly package and loaded only when the Analytics tab first opens.

import { $, h } from "/staff/assets/dom.js";
import { percent } from "./format.js";

let plotlyLoading = null;

export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = h("script", { src: "/admin/vendor/plotly.min.js", async: true });
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () => {
        plotlyLoading = null;
        reject(new Error("the charting library did not load"));
      });
      document.head.append(script);
    });
  }
  return plotlyLoading;
}

const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const ACCENT = "#4f46e5";

function plotLayout(extra = {}) {
  return {
    margin: { l: 44, r: 12, t: 8, b: 36 },
    height: 230,
    font: { family: getComputedStyle(document.body).fontFamily, size: 12, color: "#1d2330" },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    xaxis: { gridcolor: "#eceef2", zeroline: false },
    yaxis: { gridcolor: "#eceef2", zeroline: false, rangemode: "tozero" },
    bargap: 0.25,
    showlegend: false,
    ...extra,
  };
}

function emptyLayout(message) {
  return plotLayout({
    xaxis: { visible: false },
    yaxis: { visible: false },
    annotations: [{ text: message, showarrow: false, font: { color: "#9aa1ad", size: 13 }, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }],
  });
}

/** Whole-number ticks for counts: no "1, 1, 2, 2" when the largest count is small. */
function countAxis(max, extra = {}) {
  return { gridcolor: "#eceef2", rangemode: "tozero", tickformat: ",d", ...(max <= 8 ? { dtick: 1 } : {}), ...extra };
}

function plot(id, traces, layout) {
  const node = document.getElementById(id);
  window.Plotly.react(node, traces, layout, PLOT_CONFIG);
  node.dataset.rendered = "true";
}

export function renderCharts(s) {
  const days = s.volume.by_day || [];
  plot(
    "chart-volume-day",
    days.length ? [{ type: "bar", x: days.map((d) => d.day), y: days.map((d) => d.conversations), marker: { color: ACCENT }, hovertemplate: "%{x}: %{y} conversations<extra></extra>" }] : [],
    days.length
      ? plotLayout({ bargap: days.length < 4 ? 0.7 : 0.25, xaxis: { type: "category", gridcolor: "#eceef2" }, yaxis: countAxis(Math.max(...days.map((d) => d.conversations))) })
      : emptyLayout("No conversations"),
  );
  const hours = s.volume.by_hour || [];
  plot(
    "chart-volume-hour",
    [{ type: "bar", x: hours.map((_, i) => i), y: hours, marker: { color: ACCENT }, hovertemplate: "%{x}:00: %{y} conversations<extra></extra>" }],
    plotLayout({ xaxis: { dtick: 2, gridcolor: "#eceef2", title: { text: "hour (UTC)", standoff: 4 } }, yaxis: countAxis(Math.max(0, ...hours)) }),
  );
  keyedChart("chart-escalation-reason", s.escalation.by_reason || [], "#d97706", (key) => key.replace(/_/g, " "));
  keyedChart("chart-escalation-intent", s.escalation.by_intent || [], "#dc2626", (key) => key);
  const mood = s.sentiment_by_day || [];
  plot(
    "chart-sentiment",
    mood.length
      ? [{ type: "scatter", mode: "lines+markers", x: mood.map((d) => d.day), y: mood.map((d) => d.mean), customdata: mood.map((d) => d.exchanges), line: { color: "#16a34a", width: 2 }, marker: { size: 7 }, hovertemplate: "%{x}: %{y:.2f} over %{customdata} turns<extra></extra>" }]
      : [],
    mood.length ? plotLayout({ xaxis: { type: "category", gridcolor: "#eceef2" }, yaxis: { range: [-1, 1], gridcolor: "#eceef2", zeroline: true, zerolinecolor: "#cfd3db" } }) : emptyLayout("No bot turns"),
  );
  const within = (s.complaints && s.complaints.answered_within) || {};
  const windows = ["24h", "48h", "72h"];
  const anyComplaint = windows.some((w) => within[w] && within[w].denominator);
  plot(
    "chart-complaints",
    anyComplaint
      ? [{ type: "bar", x: windows.map((w) => `within ${w}`), y: windows.map((w) => (within[w] && within[w].rate) || 0), text: windows.map((w) => (within[w] ? `${within[w].numerator}/${within[w].denominator}` : "")), textposition: "auto", marker: { color: "#7c3aed" }, hovertemplate: "%{x}: %{y:.0%}<extra></extra>" }]
      : [],
    anyComplaint ? plotLayout({ yaxis: { range: [0, 1], tickformat: ".0%", gridcolor: "#eceef2" } }) : emptyLayout("No complaints"),
  );
  renderRadars(s.agents || []);
}

function keyedChart(id, rows, color, label) {
  if (!rows.length) {
    plot(id, [], emptyLayout("No escalations"));
    return;
  }
  const ordered = [...rows].reverse(); // plotly draws the first category at the bottom
  plot(
    id,
    [{ type: "bar", orientation: "h", y: ordered.map((r) => label(r.key)), x: ordered.map((r) => r.conversations), customdata: ordered.map((r) => percent(r.rate)), marker: { color }, hovertemplate: "%{y}: %{x} conversations (%{customdata} of all)<extra></extra>" }],
    plotLayout({ margin: { l: 140, r: 12, t: 8, b: 32 }, bargap: rows.length < 3 ? 0.5 : 0.25, xaxis: countAxis(Math.max(...rows.map((r) => r.conversations))), yaxis: { automargin: true } }),
  );
}

function radarScores(agents) {
  const most = Math.max(0, ...agents.map((a) => a.conversations_handled));
  const fastest = (values) => {
    const known = values.filter((v) => typeof v === "number" && v > 0);
    return known.length ? Math.min(...known) : null;
  };
  const quickestResponse = fastest(agents.map((a) => a.first_response.mean));
  const quickestHandling = fastest(agents.map((a) => a.handle_time.mean));
  const speed = (value, best) => (typeof value !== "number" ? 0 : value <= 0 || best === null ? 1 : best / value);
  return agents.map((a) => ({
    agent: a,
    values: [
      most ? a.conversations_handled / most : 0,
      speed(a.first_response.mean, quickestResponse),
      speed(a.handle_time.mean, quickestHandling),
      a.csat_mean === null ? 0 : Math.max(0, Math.min(1, (a.csat_mean - 1) / 4)),
      a.resolution.rate === null ? 0 : a.resolution.rate,
      typeof a.review_mean === "number" ? Math.max(0, Math.min(1, a.review_mean / 100)) : 0,
    ],
  }));
}

const RADAR_AXES = ["volume", "1st response", "handling", "CSAT", "resolution", "quality"];

function renderRadars(agents) {
  const box = $("#radars");
  for (const old of box.querySelectorAll(".radar__plot")) window.Plotly.purge(old);
  box.replaceChildren();
  for (const { agent, values } of radarScores(agents)) {
    const plotNode = h("div", { className: "radar__plot" });
    box.append(h("figure", { className: "radar", dataset: { testid: "radar", agent: agent.username } }, h("figcaption", { text: agent.display_name || agent.username }), plotNode));
    window.Plotly.newPlot(
      plotNode,
      [{ type: "scatterpolar", r: [...values, values[0]], theta: [...RADAR_AXES, RADAR_AXES[0]], fill: "toself", fillcolor: "rgba(79,70,229,0.18)", line: { color: ACCENT }, hovertemplate: "%{theta}: %{r:.2f}<extra></extra>" }],
      {
        height: 240,
        margin: { l: 70, r: 70, t: 22, b: 22 },
        font: { family: getComputedStyle(document.body).fontFamily, size: 11 },
        paper_bgcolor: "rgba(0,0,0,0)",
        polar: { radialaxis: { range: [0, 1], tickvals: [0.5, 1], showline: false, gridcolor: "#e3e5ea" }, angularaxis: { gridcolor: "#e3e5ea" } },
        showlegend: false,
      },
      PLOT_CONFIG,
    );
  }
}
