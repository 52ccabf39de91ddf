// What the server says on the socket: frames, and the conversation's events in seq order
// (messages in the log, notes for what happened, and the state they change).

import { el } from "./dom.js";
import { chips, disableChips, flush, markRated, markState, onAck, onError, rating } from "./messages.js";
import { markSeen, S } from "./state.js";
import { refreshStatus, refreshStatusSoon } from "./status.js";
import { outboxDrop } from "./storage.js";
import { offlineWhen, parseTime, t } from "./texts.js";
import {
  badge, botTyping, bubble, nearBottom, place, relabel, setConn, showTyping, sync, toBottom
} from "./view.js";

export function onFrame(frame) {
  switch (frame.type) {
    case "ready":
      S.ready = true;
      S.attempts = 0;
      setConn("connected");
      refreshStatus();
      flush();
      break;
    case "event":
      if (frame.event) onEvent(frame.event, true);
      break;
    case "ack":
      onAck(frame);
      break;
    case "rated":
      markRated(frame.seq, frame.helpful);
      break;
    case "queue":
      S.queue = { position: frame.position, eta_seconds: frame.eta_seconds };
      sync();
      break;
    case "typing":
      if (frame.who !== "customer") showTyping(frame.typing ? frame.name || S.agent || t("agent") : null);
      break;
    case "error":
      onError(frame);
      break;
  }
}

function authorOf(ev) {
  const a = String(ev.author || "");
  if (a === "customer" || a === "bot" || a === "system") return a;
  return a.indexOf("agent") === 0 ? "agent" : "system";
}

function agentName(ev) {
  const p = ev.payload || {};
  return p.agent || String(ev.author || "").replace(/^agent:/, "") || t("agent");
}

function onEvent(ev, live) {
  const seq = +ev.seq;
  if (!seq) return;
  if (seq > S.lastSeq) S.lastSeq = seq;
  if (S.bySeq[seq]) return;
  const author = authorOf(ev);
  const p = ev.payload || {};
  const stick = nearBottom();
  let node = null;
  if (ev.type === "message" && author === "customer") {
    node = ev.client_id && S.pending[ev.client_id];
    if (node) {
      delete S.pending[ev.client_id];
      outboxDrop(ev.client_id);
    } else {
      node = bubble("customer", p.text);
      node.appendChild(el("div", { cls: "meta" }));
    }
    node.setAttribute("data-seq", seq);
    node.remove();
    place(node, seq);
    markState(node, "sent");
    disableChips();
  } else if (ev.type === "message") {
    node = bubble(author, p.text, author === "agent" ? agentName(ev) : t("bot"));
    node.setAttribute("data-seq", seq);
    if (author === "bot" && p.kind) node.setAttribute("data-kind", p.kind);
    if (author === "bot" && p.kind === "clarify" && p.suggestions && p.suggestions.length) {
      node.appendChild(chips(p.suggestions));
    }
    if (author === "bot" && p.rateable) node.appendChild(rating(seq));
    place(node, seq);
    if (seq > S.waitingFor || author === "agent") botTyping(false);
    if (author === "agent") showTyping(null);
    if (!S.open && seq > S.seen) S.unread++;
  } else {
    const text = systemText(ev);
    applyEvent(ev);
    if (text) {
      node = el("div", { cls: "note", "data-testid": "kefu-message", "data-author": "system",
        "data-type": ev.type, "data-seq": seq, text });
      place(node, seq);
    }
    if (live) refreshStatusSoon();
  }
  if (node) {
    S.bySeq[seq] = node;
    relabel(node);
    if (ev.created_at) node.title = new Date(parseTime(ev.created_at)).toLocaleString();
  } else {
    S.bySeq[seq] = true;
  }
  if (S.open) markSeen();
  badge();
  sync();
  if (stick) toBottom();
}

function systemText(ev) {
  const p = ev.payload || {};
  const agent = p.agent || t("agent");
  switch (ev.type) {
    case "conversation.escalated":
      // The bot's own message says it; a note only adds when people are back.
      return p.offline && offlineWhen(p.offline) || null;
    case "agent.joined": return t("joined", { name: agent });
    case "agent.left":
      if (p.reason === "closed") return null;  // "… ended the chat" follows
      return t(p.reason === "transferred" ? "leftTransfer" : p.reason === "handed_back" ? "leftBack" : "left",
        { name: agent });
    case "conversation.transferred": return t("transferred", { to: p.agent || p.team || "" });
    case "conversation.returned_to_bot": return t("returned");
    case "conversation.closed": {
      if (p.by === "customer") return t("closedYou");
      const by = p.agent || S.lastAgent;
      return p.by === "agent" && by ? t("closedAgent", { name: by }) : t("closed");
    }
    case "conversation.reopened": return t("reopened");
    case "offline_message.received": return t("offlineGot", { email: p.email || "" });
    case "feedback.received": return p.csat ? t("feedbackGot", { csat: p.csat }) : null;
    default: return null;
  }
}

// The state an event changes; sync() then shows it.
function applyEvent(ev) {
  const p = ev.payload || {};
  switch (ev.type) {
    case "conversation.escalated":
      S.state = p.state || "waiting_for_agent";
      S.queue = p.queue || null;
      S.offline = p.offline || null;
      S.offlineSent = false;
      break;
    case "agent.joined":
      S.state = "agent"; S.agent = S.lastAgent = p.agent; S.queue = null; S.offline = null;
      break;
    case "agent.left":
      if (p.reason === "handed_back") S.state = "bot";
      else if (S.state === "agent") S.state = "waiting_for_agent";
      S.lastAgent = p.agent || S.lastAgent;
      S.agent = null;
      showTyping(null);
      break;
    case "conversation.returned_to_bot":
      S.state = "bot"; S.agent = null; S.queue = null;
      break;
    case "conversation.closed":
      S.state = "closed"; S.closed = p; S.queue = null; S.offline = null; S.feedback = false;
      showTyping(null);
      botTyping(false);
      break;
    case "conversation.reopened":
      S.state = p.state || "bot"; S.closed = null;
      break;
    case "offline_message.received":
      S.offlineSent = true;
      break;
    case "feedback.received":
      S.feedback = true;
      break;
  }
}
