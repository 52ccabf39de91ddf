// The agent WebSocket (/api/agent/ws): reconnect with exponential backoff and jitter; replay
// with last_seq. It follows the conversations the store says are wanted (my open chats and the
// one on screen), and turns each frame into a dispatch or a desk effect. The line itself (the
// socket, its timers, what it is subscribed to) is this module's own bookkeeping.

import { api } from "/staff/assets/api.js";
import { toast } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { loadAgent, receiveEvents, refreshComplaints, refreshDetail, refreshDetailSoon, refreshLists, refreshListsSoon } from "./desk.js";
import { timeLeft } from "./rich.js";
import { wantedConversations } from "./selectors.js";
import { conv, dispatch, state, subscribe } from "./store.js";

const line = { ws: null, attempt: 0, timer: null, lastFrameAt: 0, subscribed: new Set() };

/** Follow the store: subscribe to what becomes wanted, unsubscribe from what no longer is. */
export function wireSocket() {
  subscribe(wantedConversations, syncSubscriptions);
}

export function connect() {
  if (!session.user) return;
  clearTimeout(line.timer);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let ws;
  try {
    ws = new WebSocket(`${scheme}//${location.host}/api/agent/ws`);
  } catch {
    scheduleReconnect();
    return;
  }
  line.ws = ws;
  dispatch({ type: "connection/changed", connection: line.attempt ? "reconnecting" : "connecting" });
  ws.addEventListener("open", () => {
    if (line.ws !== ws) return;
    line.lastFrameAt = Date.now();
    line.subscribed.clear();
    syncSubscriptions();
  });
  ws.addEventListener("message", (message) => {
    if (line.ws !== ws) return;
    line.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    onFrame(frame);
  });
  ws.addEventListener("close", (closed) => {
    if (line.ws !== ws) return;
    line.ws = null;
    line.subscribed.clear();
    if (!session.user) return;
    dispatch({ type: "connection/changed", connection: "reconnecting" });
    if (closed.code === 4401 || closed.code === 4403 || closed.code === 1008) {
      // Perhaps the session ended: ask; a 401 sends the agent back to the login form.
      api("GET", "/api/auth/me").then(scheduleReconnect, () => (session.user ? scheduleReconnect() : null));
      return;
    }
    scheduleReconnect();
  });
}

/** Signing out: close the line and stop reconnecting. */
export function disconnect() {
  clearTimeout(line.timer);
  const ws = line.ws;
  line.ws = null;
  line.subscribed.clear();
  if (ws) ws.close(1000, "logout");
}

/** The page is back (visible again, or online): connect at once if the line is down. */
export function reconnectNow() {
  if (!session.user || line.ws) return;
  line.attempt = 0;
  connect();
}

function scheduleReconnect() {
  if (!session.user) return;
  clearTimeout(line.timer);
  const ceiling = Math.min(30000, 500 * 2 ** Math.min(line.attempt, 6));
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  line.attempt += 1;
  line.timer = setTimeout(connect, delay);
}

export function keepAlive() {
  const ws = line.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (Date.now() - line.lastFrameAt > 45000) {
    ws.close(4000, "no answer to ping");
    return;
  }
  send({ type: "ping" });
}

export function send(frame) {
  const ws = line.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

function syncSubscriptions() {
  const ws = line.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  const wanted = new Set(wantedConversations());
  for (const cid of wanted) {
    if (line.subscribed.has(cid)) continue;
    line.subscribed.add(cid);
    send({ type: "subscribe", conversation_id: cid, last_seq: conv(state, cid).lastSeq });
  }
  for (const cid of [...line.subscribed]) {
    if (wanted.has(cid)) continue;
    line.subscribed.delete(cid);
    send({ type: "unsubscribe", conversation_id: cid });
  }
}

/** The dispatcher's notices: a complaint near its deadline (to its owner), or overdue. */
function onComplaintFrame(frame) {
  const c = frame.complaint || {};
  const who = c.customer_name || "a customer";
  if (frame.type === "complaint.due_soon") toast(`Complaint from ${who} is due soon: ${timeLeft(c.seconds_left ?? 0)}.`, "error");
  else if (frame.type === "complaint.overdue") toast(`Complaint from ${who} is overdue${c.owner ? ` (owner: ${c.owner})` : ""}.`, "error");
  refreshComplaints();
}

/** A customer answered the follow-up survey that the problem came back (to the chat's last agent
 * and to supervisors). */
function onFollowUpFrame(frame) {
  toast(`${frame.customer_name || "A customer"} says the problem came back (follow-up survey).`, "error");
}

function onFrame(frame) {
  switch (frame.type) {
    case "ready":
      line.attempt = 0;
      dispatch({ type: "connection/changed", connection: "connected" });
      if (frame.agent && typeof frame.agent === "object") dispatch({ type: "agent/greeted", agent: frame.agent });
      // Whatever changed while we were away: presence (the server sets an agent whose console
      // was gone for a while away), lists, the open ticket, its events.
      loadAgent();
      refreshLists();
      if (state.selectedId) refreshDetail();
      break;
    case "subscribed":
      dispatch({ type: "connection/changed", connection: "connected" });
      break;
    case "event": {
      const event = frame.event;
      if (!event || !event.conversation_id) break;
      receiveEvents(String(event.conversation_id), [event], true);
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
    case "follow_up.not_solved":
      onFollowUpFrame(frame);
      break;
    case "typing":
      if (frame.who && frame.who !== "customer") break;
      dispatch({ type: "typing/customer", cid: String(frame.conversation_id), typing: Boolean(frame.typing) });
      break;
    case "error":
      if (frame.code === "not_found" || frame.code === "forbidden") {
        if (frame.conversation_id) line.subscribed.delete(String(frame.conversation_id));
      }
      if (frame.code !== "unknown_type") console.warn("agent socket error", frame);
      break;
    default:
      break;
  }
}
