// WebSocket: reconnect with exponential backoff and jitter; replay with last_seq

import { onComplaintFrame } from "./complaints.js";
import { api } from "/staff/assets/api.js";
import { $ } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { showTyping } from "./composer.js";
import { addEvents, afterEvents, conv, selectedConversation } from "./conversations.js";
import { refreshLists, refreshListsSoon } from "./lists.js";
import { loadAgent } from "./presence.js";
import { state } from "./state.js";
import { refreshDetail, refreshDetailSoon } from "./ticket.js";

export function connect() {
  if (!session.user) return;
  clearTimeout(state.wsTimer);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let ws;
  try {
    ws = new WebSocket(`${scheme}//${location.host}/api/agent/ws`);
  } catch {
    scheduleReconnect();
    return;
  }
  state.ws = ws;
  setConnection(state.wsAttempt ? "reconnecting" : "connecting");
  ws.addEventListener("open", () => {
    if (state.ws !== ws) return;
    state.lastFrameAt = Date.now();
    state.subscribed.clear();
    syncSubscriptions();
  });
  ws.addEventListener("message", (message) => {
    if (state.ws !== ws) return;
    state.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    onFrame(frame);
  });
  ws.addEventListener("close", (closed) => {
    if (state.ws !== ws) return;
    state.ws = null;
    state.subscribed.clear();
    if (!session.user) return;
    setConnection("reconnecting");
    if (closed.code === 4401 || closed.code === 4403 || closed.code === 1008) {
      // Perhaps the session ended: ask; a 401 sends the agent back to the login form.
      api("GET", "/api/auth/me").then(scheduleReconnect, () => (session.user ? scheduleReconnect() : null));
      return;
    }
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (!session.user) return;
  clearTimeout(state.wsTimer);
  const ceiling = Math.min(30000, 500 * 2 ** Math.min(state.wsAttempt, 6));
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  state.wsAttempt += 1;
  state.wsTimer = setTimeout(connect, delay);
}

export function keepAlive() {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (Date.now() - state.lastFrameAt > 45000) {
    ws.close(4000, "no answer to ping");
    return;
  }
  send({ type: "ping" });
}

export function send(frame) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

function setConnection(value) {
  const node = $("#connection");
  node.dataset.state = value;
  node.textContent = value;
}

function wantedConversations() {
  const wanted = new Set(state.lists.mine.filter((t) => t.status !== "closed").map((t) => String(t.conversation_id)));
  const open = selectedConversation();
  if (open) wanted.add(open);
  return wanted;
}

export function syncSubscriptions() {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  const wanted = wantedConversations();
  for (const cid of wanted) {
    if (state.subscribed.has(cid)) continue;
    state.subscribed.add(cid);
    send({ type: "subscribe", conversation_id: cid, last_seq: conv(cid).lastSeq });
  }
  for (const cid of [...state.subscribed]) {
    if (wanted.has(cid)) continue;
    state.subscribed.delete(cid);
    send({ type: "unsubscribe", conversation_id: cid });
  }
}

function onFrame(frame) {
  switch (frame.type) {
    case "ready":
      state.wsAttempt = 0;
      setConnection("connected");
      if (frame.agent && typeof frame.agent === "object") {
        state.agent = { ...(state.agent || {}), ...frame.agent };
      }
      // Whatever changed while we were away: presence (the server sets an agent whose console
      // was gone for a while away), lists, the open ticket, its events.
      loadAgent();
      refreshLists();
      if (state.selectedId) refreshDetail();
      break;
    case "subscribed":
      setConnection("connected");
      break;
    case "event": {
      const event = frame.event;
      if (!event || !event.conversation_id) break;
      const cid = String(event.conversation_id);
      const added = addEvents(cid, [event]);
      if (added.length) afterEvents(cid, added, true);
      break;
    }
    case "queue.changed":
      refreshListsSoon();
      if (state.selectedId) refreshDetailSoon();
      break;
    case "complaints.changed":
    case "complaint.due_soon":
    case "complaint.overdue":
      onComplaintFrame(frame);
      break;
    case "typing":
      if (frame.who && frame.who !== "customer") break;
      if (String(frame.conversation_id) === selectedConversation()) showTyping(Boolean(frame.typing));
      break;
    case "error":
      if (frame.code === "not_found" || frame.code === "forbidden") {
        if (frame.conversation_id) state.subscribed.delete(String(frame.conversation_id));
      }
      if (frame.code !== "unknown_type") console.warn("agent socket error", frame);
      break;
    default:
      break;
  }
}
