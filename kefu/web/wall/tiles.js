// The wall's tiles, drawn from the store's state: render() after each snapshot, tick() every
// second for the figures that move with the clock (the longest wait, time left). Text always
// becomes text nodes; nothing here is a customer's words.

import { $, h } from "/staff/assets/dom.js";
import { serverNow } from "./store.js";

const BASE_TITLE = "kefu live wall";
const REASONS = {
  asked_for_person: "Asked for a person",
  repeated_misses: "Bot missed twice",
  negative_sentiment: "Negative sentiment",
  worsening_sentiment: "Worsening sentiment",
  intent_rule: "Intent rule",
  reopened: "Reopened",
};
const CONNECTION_TEXT = { connecting: "connecting", connected: "live", reconnecting: "reconnecting", refused: "not allowed" };

/** "0:07", "12:34", "1:02:03". */
export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

function since(iso) {
  return (serverNow() - Date.parse(iso)) / 1000;
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

function setText(id, value) {
  $(`#${id}`).textContent = String(value);
}

function emptyList(list) {
  return h("li", { className: "empty", text: list.dataset.empty || "" });
}

export function renderConnection(state) {
  const node = $("#connection");
  node.dataset.state = state.connection;
  node.textContent = CONNECTION_TEXT[state.connection] || state.connection;
}

export function render(state) {
  renderConnection(state);
  const wall = state.wall;
  if (!wall) return;
  document.title = wall.queue.waiting ? `(${wall.queue.waiting}) ${BASE_TITLE}` : BASE_TITLE;
  setText("updated", `Updated ${new Date(wall.generated_at).toLocaleTimeString()}`);
  renderQueue(wall);
  renderAgents(wall.agents);
  renderSla(wall.sla);
  renderToday(wall.today);
  renderComplaints(wall.complaints || []);
  tick(state);
}

/** The figures that move with the clock, between snapshots. */
export function tick(state) {
  const wall = state.wall;
  if (!wall) return;
  const longest = $("#longest-wait");
  const oldest = wall.queue.oldest_waiting_since;
  if (oldest) {
    const waited = since(oldest);
    longest.textContent = clock(waited);
    const target = wall.sla.first_response_seconds;
    longest.dataset.level = waited >= target ? "urgent" : waited >= target - wall.sla.warning_seconds ? "high" : "ok";
  } else {
    longest.textContent = "–";
    longest.dataset.level = "none";
  }
  for (const row of document.querySelectorAll("#sla-list [data-deadline], #complaint-list [data-deadline]")) {
    const left = -since(row.dataset.deadline);
    row.dataset.breached = String(left <= 0 || row.dataset.flagged === "true");
    $(".sla-row__time", row).textContent = left > 0 ? `${clock(Math.ceil(left))} left` : `late ${clock(-left)}`;
  }
}

function renderQueue(wall) {
  setText("waiting", wall.queue.waiting);
  $("#waiting").dataset.level = wall.queue.waiting ? "busy" : "none";
  setText("with-agent", wall.queue.with_agent);
  setText("offline", wall.queue.offline);
}

function renderAgents(agents) {
  setText("agents-online", agents.online);
  setText("agents-away", agents.away);
  setText("agents-offline", agents.offline);
  const list = $("#agent-list");
  const rows = agents.agents.map((agent) => {
    const share = agent.max_chats ? Math.min(1, agent.active_chats / agent.max_chats) : 0;
    return h(
      "li",
      { className: "agent-row", dataset: { testid: "agent-row", username: agent.username, presence: agent.presence, full: String(agent.active_chats >= agent.max_chats) } },
      h("span", { className: "agent-row__dot", attrs: { "aria-hidden": "true" } }),
      h("span", { className: "agent-row__name", text: agent.display_name, attrs: { title: `${agent.username} · ${agent.role} · ${agent.presence}` } }),
      h("span", { className: "visually-hidden", text: agent.presence }),
      h("span", { className: "load", attrs: { "aria-hidden": "true" } }, h("span", { className: "load__bar", style: `width: ${Math.round(share * 100)}%` })),
      h("span", { className: "agent-row__load", dataset: { testid: "agent-load" }, text: `${agent.active_chats} / ${agent.max_chats}` }),
    );
  });
  list.replaceChildren(...(rows.length ? rows : [emptyList(list)]));
}

function renderSla(sla) {
  setText("sla-target", `target ${clock(sla.first_response_seconds)}`);
  setText("sla-breached", sla.breached);
  setText("sla-near", sla.near);
  const list = $("#sla-list");
  const rows = sla.tickets.map((ticket) =>
    h(
      "li",
      { className: "sla-row", dataset: { testid: "sla-row", ticketId: ticket.ticket_id, deadline: ticket.deadline, flagged: String(ticket.breached), breached: String(ticket.breached) } },
      h("span", { className: `badge badge--${ticket.priority}`, text: ticket.priority }),
      h("span", { className: "sla-row__team", text: ticket.team }),
      h("span", { className: "sla-row__who", text: ticket.agent || "in the queue" }),
      h("span", { className: "sla-row__time" }),
    ),
  );
  list.replaceChildren(...(rows.length ? rows : [emptyList(list)]));
}

function renderToday(today) {
  setText("today-since", `since ${new Date(today.since).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })} (${today.timezone})`);
  setText("containment", percent(today.containment));
  setText("containment-parts", `${today.contained} of ${today.conversations} conversations`);
  setText("csat", today.csat_mean === null ? "–" : today.csat_mean.toFixed(1));
  setText("csat-count", `${today.csat_responses} ${today.csat_responses === 1 ? "rating" : "ratings"}`);
  setText("escalations", today.escalations);
  const list = $("#reason-list");
  const most = Math.max(1, ...today.escalations_by_reason.map((r) => r.conversations));
  const rows = today.escalations_by_reason.map((reason) =>
    h(
      "li",
      { className: "reason-row", dataset: { testid: "reason-row", reason: reason.reason } },
      h("span", { className: "reason-row__name", text: REASONS[reason.reason] || reason.reason.replaceAll("_", " ") }),
      h("span", { className: "load load--reason", attrs: { "aria-hidden": "true" } }, h("span", { className: "load__bar", style: `width: ${Math.round((reason.conversations / most) * 100)}%` })),
      h("span", { className: "reason-row__count", text: reason.conversations }),
    ),
  );
  list.replaceChildren(...(rows.length ? rows : [emptyList(list)]));
}

// Open complaints past their warning point or overdue (analytics/wall.py); their time left
// ticks with the SLA rows'.
const COMPLAINT_LEVEL = { urgent: "urgent", important: "high", normal: "normal" };

function renderComplaints(complaints) {
  $("#tile-complaints").hidden = !complaints.length;
  setText("complaints-count", complaints.length ? String(complaints.length) : "");
  $("#complaint-list").replaceChildren(
    ...complaints.map((item) =>
      h(
        "li",
        { className: "sla-row", dataset: { testid: "complaint-row", deadline: item.deadline, flagged: String(item.overdue), breached: String(item.overdue) } },
        h("span", { className: `badge badge--${COMPLAINT_LEVEL[item.level] || "normal"}`, text: item.level }),
        h("span", { className: "sla-row__team", text: item.category }),
        h("span", { className: "sla-row__who", text: item.owner || "nobody yet" }),
        h("span", { className: "sla-row__time" }),
      ),
    ),
  );
}
