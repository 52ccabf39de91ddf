// kefu agent console: plain ES2020 modules, no build step, no third-party code. Sign-in, the
// API client and the DOM helpers are the staff pages' shared modules under /staff/assets/.
//
// Protocol: docs/handoff.md (agent REST API under /api/agent, agent WebSocket /api/agent/ws).
// Rendering never uses innerHTML: every piece of server or customer text becomes a text node,
// and markdown-lite is built from DOM nodes by the widget's own renderer.

import { api, describe as describeError } from "/staff/assets/api.js";
import { $, debounce, h, toast } from "/staff/assets/dom.js";
import { formatDate, parseTime } from "/staff/assets/format.js";
import { session, startSession } from "/staff/assets/session.js";

const BASE_TITLE = "kefu console";
const LIFECYCLE = new Set([
  "conversation.escalated",
  "agent.joined",
  "agent.left",
  "conversation.transferred",
  "conversation.returned_to_bot",
  "conversation.closed",
  "conversation.reopened",
  "offline_message.received",
]);
const REASONS = {
  asked_for_person: "asked for a person",
  negative_sentiment: "negative sentiment",
  worsening_sentiment: "worsening sentiment",
  repeated_misses: "repeated misses",
  intent_rule: "intent rule",
};
const FACT_LABELS = { order_number: "Order", email: "Email", phone: "Phone", amount: "Amount" };
// What the desk's refusals mean to the agent; the shared describe() knows the rest.
const DESK_ERRORS = {
  already_claimed: "Another agent has already claimed this chat.",
  at_capacity: "You are at your maximum number of chats.",
};
const TYPING_THROTTLE_MS = 2500;
const TYPING_IDLE_MS = 4000;
const TYPING_SHOW_MS = 8000;
const LIST_POLL_MS = 20000;

const describe = (failure) => describeError(failure, DESK_ERRORS);

// ---------------------------------------------------------------------------------------
// Rich text and small formats

const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/**
 * Markdown-lite as customers see it: the widget's own renderer (loaded with data-mount="none")
 * builds safe DOM nodes (text nodes only; lists, **bold**, *italic*, `code`, http(s) links).
 */
function rich(text) {
  const holder = h("div", { className: "md" });
  const widget = window.KefuWidget;
  if (widget && typeof widget.renderMarkdown === "function") widget.renderMarkdown(String(text ?? ""), holder);
  else holder.textContent = String(text ?? "");
  return holder;
}

function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function formatClock(value) {
  const time = parseTime(value);
  if (Number.isNaN(time)) return "";
  return new Date(time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function newClientId() {
  if (window.crypto && typeof crypto.randomUUID === "function" && window.isSecureContext) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------------------
// State

const state = {
  agent: null, // Agent from /api/agent/me
  lists: { mine: [], queue: [], offline: [] },
  listsLoaded: false,
  known: new Set(), // ticket ids seen in the lists since login
  fresh: new Set(), // new tickets the agent has not opened yet
  unread: new Set(), // conversation ids with customer messages not yet seen
  selectedId: null,
  detail: null, // {ticket, context}
  convs: new Map(), // conversation id -> {events: Map<seq, Event>, lastSeq, pending: Map, loaded}
  subscribed: new Set(),
  ws: null,
  wsAttempt: 0,
  wsTimer: null,
  lastFrameAt: 0,
  skewMs: 0, // browser clock minus server clock, estimated from queued tickets
  canned: null,
  cannedFor: null,
  drafts: new Map(), // ticket id -> unsent text
  pickerIndex: 0,
  typingSentAt: 0,
  typingOn: false,
  typingIdle: null,
  typingShown: null,
  intervals: [],
  audio: null,
};

// ---------------------------------------------------------------------------------------
// Session: the shared sign-in opens the workspace; leaving it forgets everything

function teardown() {
  state.agent = null;
  for (const id of state.intervals) clearInterval(id);
  state.intervals = [];
  clearTimeout(state.wsTimer);
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close(1000, "logout");
  state.lists = { mine: [], queue: [], offline: [] };
  state.listsLoaded = false;
  state.known.clear();
  state.fresh.clear();
  state.unread.clear();
  state.selectedId = null;
  state.detail = null;
  state.convs.clear();
  state.subscribed.clear();
  state.canned = null;
  state.cannedFor = null;
  state.drafts.clear();
  $("#reply-input").value = "";
  for (const id of ["mine-list", "queue-list", "offline-list"]) $(`#${id}`).replaceChildren();
  $("#transcript").replaceChildren();
  $("#chat").hidden = true;
  $("#chat-empty").hidden = false;
  renderContextEmpty();
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

async function enterWorkspace() {
  showPresence(null);
  updateTitle();
  state.intervals.push(setInterval(tick, 1000));
  state.intervals.push(setInterval(() => refreshLists(), LIST_POLL_MS));
  state.intervals.push(setInterval(keepAlive, 15000));
  loadAgent();
  await refreshLists();
  connect();
  // A reload reopens the chat that was open (the address keeps it).
  const remembered = /^#ticket=(\d+)$/.exec(location.hash);
  if (remembered && session.user && !state.selectedId) selectTicket(remembered[1]);
}

let presenceVersion = 0;

async function loadAgent() {
  const version = presenceVersion;
  try {
    const agent = await api("GET", "/api/agent/me");
    // A change the agent made meanwhile wins over this older answer.
    if (version !== presenceVersion) return;
    state.agent = agent;
    showPresence(agent.presence);
  } catch (failure) {
    if (failure.status !== 401) toast(`Could not load your agent profile: ${describe(failure)}`, "error");
  }
}

function showPresence(presence) {
  const value = presence || "offline";
  $("#presence").value = value;
  $("#presence-dot").dataset.presence = value;
}

async function changePresence() {
  const select = $("#presence");
  const wanted = select.value;
  const before = state.agent ? state.agent.presence : null;
  presenceVersion += 1;
  const version = presenceVersion;
  unlockAudio();
  if (wanted === "online") askNotificationPermission();
  try {
    const agent = await api("PUT", "/api/agent/me/presence", { presence: wanted });
    if (version !== presenceVersion) return;
    state.agent = agent;
    showPresence(agent.presence || wanted);
    refreshLists();
  } catch (failure) {
    if (version !== presenceVersion) return;
    showPresence(before);
    toast(`Presence not changed: ${describe(failure)}`, "error");
  }
}

// ---------------------------------------------------------------------------------------
// Ticket lists

function ticketsById() {
  const map = new Map();
  for (const view of ["offline", "queue", "mine"]) for (const ticket of state.lists[view]) map.set(String(ticket.id), ticket);
  return map;
}

let listsRun = null;
let listsAgain = false;

/** Refetch the three lists; calls during a fetch run once more afterwards (nothing is lost). */
async function refreshLists() {
  if (!session.user) return;
  if (listsRun) {
    listsAgain = true;
    return listsRun;
  }
  listsRun = (async () => {
    do {
      listsAgain = false;
      await fetchLists();
    } while (listsAgain && session.user);
  })();
  try {
    await listsRun;
  } finally {
    listsRun = null;
  }
}

async function fetchLists() {
  try {
    const views = ["mine", "queue", "offline"];
    const results = await Promise.all(views.map((view) => api("GET", `/api/agent/tickets?view=${view}`)));
    if (!session.user) return;
    views.forEach((view, index) => {
      state.lists[view] = (results[index] && results[index].tickets) || [];
    });
    estimateSkew();
    noticeNewTickets();
    renderLists();
    syncSubscriptions();
    const open = state.selectedId && ticketsById().get(state.selectedId);
    if (open && state.detail && open.status !== state.detail.ticket.status) refreshDetail();
  } catch (failure) {
    if (failure.status !== 401) console.warn("ticket lists", failure);
  }
}

const refreshListsSoon = debounce(() => refreshLists(), 250);

function estimateSkew() {
  for (const ticket of state.lists.queue) {
    const created = parseTime(ticket.created_at);
    if (typeof ticket.waiting_seconds === "number" && !Number.isNaN(created)) {
      state.skewMs = Date.now() - created - ticket.waiting_seconds * 1000;
      return;
    }
  }
}

function noticeNewTickets() {
  const live = [...state.lists.queue, ...state.lists.mine].filter((t) => t.status !== "closed");
  const current = new Set([...live, ...state.lists.offline].map((t) => String(t.id)));
  const arrivals = live.filter((t) => !state.known.has(String(t.id)));
  if (state.listsLoaded && arrivals.length) {
    for (const ticket of arrivals) if (String(ticket.id) !== state.selectedId) state.fresh.add(String(ticket.id));
    notify(arrivals);
  }
  for (const id of current) state.known.add(id);
  for (const id of [...state.fresh]) if (!current.has(id)) state.fresh.delete(id);
  state.listsLoaded = true;
  updateTitle();
}

function updateTitle() {
  const count = state.fresh.size;
  document.title = count ? `(${count}) New chat – ${BASE_TITLE}` : BASE_TITLE;
}

function customerName(ticket) {
  const customer = (ticket && ticket.customer) || {};
  if (customer.name) return customer.name;
  const cid = ticket && ticket.conversation_id ? String(ticket.conversation_id) : "";
  return cid ? `Visitor ${cid.slice(0, 6)}` : "Visitor";
}

/** The offline message as {text, email, name}; the API gives its text, the customer the rest. */
function offlineInfo(ticket) {
  const message = ticket && ticket.offline_message;
  if (!message) return null;
  const customer = ticket.customer || {};
  if (typeof message === "string") return { text: message, email: customer.email || "", name: customer.name || "" };
  return { text: message.text || "", email: message.email || customer.email || "", name: message.name || customer.name || "" };
}

function renderLists() {
  const counts = { mine: 0, queue: 0, offline: 0 };
  const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.ticketId : null;
  for (const view of ["mine", "queue", "offline"]) {
    const items = state.lists[view].map((ticket) => ticketItem(ticket, view));
    counts[view] = items.length;
    $(`#${view}-list`).replaceChildren(...items);
    $(`#${view}-count`).textContent = String(items.length);
  }
  if (focusedId) {
    const again = document.querySelector(`[data-testid=ticket-item][data-ticket-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
}

function priorityBadge(priority) {
  const value = priority || "normal";
  return h("span", { className: `badge badge--${value}`, text: value, dataset: { testid: "priority", priority: value } });
}

function ticketItem(ticket, view) {
  const id = String(ticket.id);
  const customer = ticket.customer || {};
  const offline = offlineInfo(ticket);
  const summary = view === "offline" && offline ? offline.text : ticket.summary || REASONS[ticket.reason] || ticket.reason || "";
  const tags = [priorityBadge(ticket.priority)];
  if (ticket.sla_breached) tags.push(h("span", { className: "badge badge--sla", text: "SLA", attrs: { title: "Waiting past the first-response target" }, dataset: { testid: "sla" } }));
  if (customer.tier === "vip") tags.push(h("span", { className: "badge badge--vip", text: "VIP" }));
  if (ticket.language) tags.push(h("span", { className: "badge", text: String(ticket.language).toUpperCase() }));
  if (ticket.team) tags.push(h("span", { className: "badge", text: ticket.team }));
  if (view === "queue" && ticket.agent) tags.push(h("span", { className: "badge badge--status", text: ticket.agent.display_name || ticket.agent.username }));
  const name = view === "offline" && !customer.name && offline && offline.email ? offline.email : customerName(ticket);
  const item = h(
    "li",
    {
      className: `ticket${state.fresh.has(id) ? " ticket--new" : ""}`,
      attrs: { role: "option", tabindex: "0", "aria-selected": String(state.selectedId === id), title: summary },
      dataset: {
        testid: "ticket-item",
        ticketId: id,
        status: ticket.status,
        priority: ticket.priority || "normal",
        slaBreached: String(Boolean(ticket.sla_breached)),
        view,
      },
      on: {
        click: () => selectTicket(id),
        keydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            selectTicket(id, { focusReply: true });
          }
        },
      },
    },
    h(
      "div",
      { className: "ticket__row" },
      h("span", { className: "ticket__name", text: name }),
      state.unread.has(String(ticket.conversation_id)) ? h("span", { className: "ticket__unread", attrs: { title: "New customer message" } }) : null,
      h("span", { className: "ticket__wait", dataset: { created: ticket.created_at || "" }, attrs: { title: `Opened ${formatDate(ticket.created_at)}` }, text: waitText(ticket.created_at) }),
    ),
    summary ? h("div", { className: "ticket__summary", text: summary }) : null,
    h("div", { className: "ticket__tags" }, tags),
  );
  return item;
}

function waitText(createdAt) {
  const created = parseTime(createdAt);
  if (Number.isNaN(created)) return "";
  return formatDuration((Date.now() - state.skewMs - created) / 1000);
}

function tick() {
  for (const node of document.querySelectorAll(".ticket__wait[data-created]")) node.textContent = waitText(node.dataset.created);
  const wait = $("#chat-wait");
  if (wait && wait.dataset.created) wait.textContent = waitText(wait.dataset.created);
}

function visibleOrder() {
  return [...document.querySelectorAll("#mine-list [data-testid=ticket-item], #queue-list [data-testid=ticket-item], #offline-list [data-testid=ticket-item]")].map(
    (node) => node.dataset.ticketId,
  );
}

function moveSelection(step) {
  const order = visibleOrder();
  if (!order.length) return;
  const at = order.indexOf(state.selectedId);
  const next = at === -1 ? (step > 0 ? 0 : order.length - 1) : (at + step + order.length) % order.length;
  selectTicket(order[next]);
  const node = document.querySelector(`[data-testid=ticket-item][data-ticket-id="${CSS.escape(order[next])}"]`);
  if (node) node.scrollIntoView({ block: "nearest" });
}

// ---------------------------------------------------------------------------------------
// Notifications: title, a short WebAudio chime, and the Notification API when allowed

function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!state.audio) state.audio = new Context();
    if (state.audio.state === "suspended") state.audio.resume();
  } catch {
    state.audio = null;
  }
}

function chime() {
  const audio = state.audio;
  if (!audio || audio.state !== "running") return;
  const start = audio.currentTime + 0.01;
  [880, 1320].forEach((frequency, index) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const at = start + index * 0.14;
    osc.type = "sine";
    osc.frequency.setValueAtTime(frequency, at);
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.12, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.25);
  });
}

function askNotificationPermission() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  try {
    const asked = Notification.requestPermission();
    if (asked && typeof asked.catch === "function") asked.catch(() => {});
  } catch {
    // Older browsers want a callback; not worth supporting.
  }
}

function notify(tickets) {
  chime();
  if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
  const first = tickets[0];
  try {
    const note = new Notification(tickets.length > 1 ? `${tickets.length} new chats` : "New chat", {
      body: `${customerName(first)} — ${first.summary || REASONS[first.reason] || "waiting for an agent"}`,
      tag: `kefu-ticket-${first.id}`,
    });
    note.onclick = () => {
      window.focus();
      selectTicket(String(first.id));
      note.close();
    };
  } catch {
    // Some platforms only allow notifications from a service worker.
  }
}

// ---------------------------------------------------------------------------------------
// Conversations: events by (conversation, seq), so nothing is shown twice

function conv(cid) {
  let found = state.convs.get(cid);
  if (!found) {
    found = { events: new Map(), lastSeq: 0, pending: new Map(), loaded: false, gapAsked: 0 };
    state.convs.set(cid, found);
  }
  return found;
}

function addEvents(cid, events) {
  const store = conv(cid);
  const added = [];
  for (const event of events || []) {
    if (!event || typeof event.seq !== "number") continue;
    if (store.events.has(event.seq)) continue;
    store.events.set(event.seq, event);
    if (event.seq > store.lastSeq) store.lastSeq = event.seq;
    if (event.client_id) store.pending.delete(event.client_id);
    added.push(event);
  }
  if (added.length) fillGaps(cid);
  return added;
}

/** Should the live feed ever skip a number, fetch the missing events once over REST. */
function fillGaps(cid) {
  const store = conv(cid);
  let missing = 0;
  for (let seq = 1; seq <= store.lastSeq; seq += 1) {
    if (!store.events.has(seq)) {
      missing = seq;
      break;
    }
  }
  if (!missing || store.gapAsked >= store.lastSeq) return;
  store.gapAsked = store.lastSeq;
  loadEvents(cid, missing - 1);
}

async function loadEvents(cid, after) {
  const store = conv(cid);
  const from = after === undefined ? (store.loaded ? store.lastSeq : 0) : after;
  try {
    const body = await api("GET", `/api/agent/conversations/${encodeURIComponent(cid)}/events?after=${from}`);
    store.loaded = true;
    const added = addEvents(cid, body.events);
    if (added.length) afterEvents(cid, added, false);
  } catch (failure) {
    if (failure.status !== 401) console.warn("events", failure);
  }
}

function afterEvents(cid, added, live) {
  const open = selectedConversation() === cid;
  if (open) renderTranscript();
  let lifecycle = false;
  for (const event of added) {
    if (LIFECYCLE.has(event.type)) lifecycle = true;
    if (open && event.author === "customer") showTyping(false);
    if (live && !open && event.author === "customer" && event.type === "message") {
      state.unread.add(cid);
      const node = document.querySelector(`[data-testid=ticket-item][data-ticket-id="${CSS.escape(ticketIdFor(cid) || "")}"] .ticket__row`);
      if (node && !node.querySelector(".ticket__unread")) node.insertBefore(h("span", { className: "ticket__unread" }), node.lastChild);
    }
  }
  if (lifecycle && live) {
    refreshListsSoon();
    if (open) refreshDetailSoon();
  }
}

function ticketIdFor(cid) {
  for (const ticket of ticketsById().values()) if (String(ticket.conversation_id) === cid) return String(ticket.id);
  return null;
}

function selectedConversation() {
  const ticket = currentTicket();
  return ticket ? String(ticket.conversation_id) : null;
}

function currentTicket() {
  if (!state.selectedId) return null;
  if (state.detail && String(state.detail.ticket.id) === state.selectedId) return state.detail.ticket;
  return ticketsById().get(state.selectedId) || null;
}

// ---------------------------------------------------------------------------------------
// WebSocket: reconnect with exponential backoff and jitter; replay with last_seq

function connect() {
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

function keepAlive() {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (Date.now() - state.lastFrameAt > 45000) {
    ws.close(4000, "no answer to ping");
    return;
  }
  send({ type: "ping" });
}

function send(frame) {
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

function syncSubscriptions() {
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

// ---------------------------------------------------------------------------------------
// The open ticket

async function selectTicket(id, { focusReply = false } = {}) {
  if (!id) return;
  const previous = selectedConversation();
  if (state.selectedId !== id) {
    stopTyping();
    closePicker();
    state.canned = null;
    state.cannedFor = null;
    // Each chat keeps its own unsent draft.
    const input = $("#reply-input");
    if (state.selectedId) state.drafts.set(state.selectedId, input.value);
    input.value = state.drafts.get(id) || "";
  }
  state.selectedId = id;
  state.fresh.delete(id);
  updateTitle();
  if (location.hash !== `#ticket=${id}`) history.replaceState(null, "", `#ticket=${encodeURIComponent(id)}`);
  const fromList = ticketsById().get(id) || null;
  if (!state.detail || String(state.detail.ticket.id) !== id) state.detail = fromList ? { ticket: fromList, context: null } : null;
  for (const node of document.querySelectorAll("[data-testid=ticket-item]")) {
    node.setAttribute("aria-selected", String(node.dataset.ticketId === id));
    if (node.dataset.ticketId === id) node.classList.remove("ticket--new");
  }
  $("#chat-empty").hidden = true;
  $("#chat").hidden = false;
  const cid = selectedConversation();
  if (cid !== previous) {
    $("#transcript").replaceChildren();
    showTyping(false);
  }
  if (cid) state.unread.delete(cid);
  renderHeader();
  renderTranscript(true);
  if (state.detail && state.detail.context) renderContext(state.detail);
  else renderContextLoading();
  if (focusReply) $("#reply-input").focus();
  await refreshDetail();
  const now = selectedConversation();
  if (now && state.selectedId === id) {
    syncSubscriptions();
    await loadEvents(now);
  }
}

let detailRun = null;
let detailAgain = false;

/** Fetch the open ticket and its context; calls during a fetch run once more afterwards. */
async function refreshDetail() {
  if (detailRun) {
    detailAgain = true;
    return detailRun;
  }
  detailRun = (async () => {
    do {
      detailAgain = false;
      await fetchDetail();
    } while (detailAgain);
  })();
  try {
    await detailRun;
  } finally {
    detailRun = null;
  }
}

async function fetchDetail() {
  const id = state.selectedId;
  if (!id) return;
  try {
    const body = await api("GET", `/api/agent/tickets/${encodeURIComponent(id)}`);
    if (state.selectedId !== id) return;
    const previous = selectedConversation();
    state.detail = { ticket: body.ticket, context: body.context || null };
    renderHeader();
    renderContext(state.detail);
    const cid = selectedConversation();
    if (cid && cid !== previous) {
      $("#transcript").replaceChildren();
      renderTranscript(true);
    }
    syncSubscriptions();
  } catch (failure) {
    if (failure.status === 404 || failure.status === 403) {
      if (state.selectedId === id) toast("That conversation is no longer available to you.", "error");
    } else if (failure.status !== 401) {
      console.warn("ticket", failure);
    }
  }
}

const refreshDetailSoon = debounce(() => refreshDetail(), 250);

function role() {
  return (session.user && session.user.role) || "agent";
}

function isMine(ticket) {
  return Boolean(ticket && ticket.agent && session.user && ticket.agent.username === session.user.username);
}

function canAct(ticket) {
  return isMine(ticket) || role() === "supervisor" || role() === "admin";
}

function canReply(ticket) {
  return Boolean(ticket) && ticket.status === "active" && canAct(ticket);
}

function renderHeader() {
  const ticket = currentTicket();
  if (!ticket) return;
  const customer = ticket.customer || {};
  const name = customerName(ticket);
  $("#chat-avatar").textContent = Array.from(name)[0].toUpperCase();
  $("#chat-name").textContent = name;
  const status = ticket.status || "queued";
  const meta = [
    priorityBadge(ticket.priority),
    h("span", { className: `badge badge--${status === "active" ? "status" : status}`, text: status, dataset: { testid: "status" } }),
  ];
  if (ticket.sla_breached) meta.push(h("span", { className: "badge badge--sla", text: "SLA breached" }));
  if (customer.tier === "vip") meta.push(h("span", { className: "badge badge--vip", text: "VIP" }));
  if (ticket.agent) meta.push(h("span", { text: `· ${isMine(ticket) ? "You" : ticket.agent.display_name || ticket.agent.username}` }));
  if (status !== "closed") meta.push(h("span", { text: status === "active" ? "· open " : "· waiting " }, h("span", { attrs: { id: "chat-wait" }, dataset: { created: ticket.created_at || "" }, text: waitText(ticket.created_at) })));
  $("#chat-meta").replaceChildren(...meta);

  const claimable = status === "queued" || (status === "offline" && !ticket.agent);
  $("#claim").hidden = !claimable;
  const acting = status === "active" && canAct(ticket);
  $("#transfer").hidden = !acting;
  $("#handback").hidden = !acting || ticket.kind === "offline";
  $("#close-chat").hidden = !(acting || (status === "offline" && canAct(ticket)));

  const offline = offlineInfo(ticket);
  const card = $("#offline-card");
  if (offline && (ticket.kind === "offline" || status === "offline")) {
    card.replaceChildren(
      h("h3", { text: "Offline message" }),
      h("div", { className: "muted", text: [offline.name, offline.email].filter(Boolean).join(" · ") }),
      h("div", { className: "offline-card__text" }, rich(offline.text || "")),
    );
    card.hidden = false;
  } else {
    card.hidden = true;
  }
  renderComposerState(ticket);
}

/** docs/handoff.md: only the owner (or a supervisor/admin) notes. */
function canNote(ticket) {
  return Boolean(ticket) && ticket.status !== "closed" && canAct(ticket);
}

/** Replies need the chat to be yours and active; notes need it to be yours and open. */
function composerAllows(ticket) {
  return $("#note-toggle").checked ? canNote(ticket) : canReply(ticket);
}

function renderComposerState(ticket) {
  const input = $("#reply-input");
  const note = $("#note-toggle").checked;
  const enabled = composerAllows(ticket);
  input.disabled = !enabled;
  $("#reply-send").disabled = !enabled;
  $("#canned-button").disabled = !enabled;
  $("#note-toggle").disabled = !canNote(ticket);
  $("#reply-send").textContent = note ? "Add note" : "Send";
  $("#composer").classList.toggle("composer--note", note && enabled);
  $("#composer").classList.toggle("composer--disabled", !enabled);
  let hint = "";
  if (!ticket) hint = "";
  else if (ticket.status === "closed") hint = "This conversation is closed.";
  else if (note) hint = "Internal note: only agents see this.";
  else if (ticket.status === "queued") hint = canNote(ticket) ? "Claim this chat to reply (Alt+C), or write an internal note." : "Claim this chat to reply (Alt+C).";
  else if (ticket.status === "offline") hint = offlineInfo(ticket) && offlineInfo(ticket).email ? `Offline message: claim it, then reply by email to ${offlineInfo(ticket).email}.` : "Offline message.";
  else if (!enabled && ticket.agent) hint = `${ticket.agent.display_name || ticket.agent.username} is handling this chat.`;
  input.placeholder = !enabled ? hint || "You cannot reply here." : note ? "Write an internal note (only agents see it)…" : "Reply to the customer…  (type / for canned responses)";
  // Disabled states say it in the placeholder; the hint line is for the note mode.
  $("#composer-hint").textContent = enabled && note ? hint : "";
}

// ---------------------------------------------------------------------------------------
// Transcript

function isInternal(event) {
  const payload = event.payload || {};
  return event.internal === true || payload.internal === true || event.type === "note" || event.type === "internal_note" || event.type === "note.added";
}

function authorLabel(event) {
  const payload = event.payload || {};
  const author = String(event.author || "");
  if (author === "customer") return customerName(currentTicket());
  if (author === "bot") return "Bot";
  if (author === "system") return "System";
  if (author.startsWith("agent:")) {
    const username = author.slice(6);
    if (session.user && username === session.user.username) return "You";
    return payload.agent || payload.agent_name || username;
  }
  return author;
}

function systemText(event) {
  const p = event.payload || {};
  switch (event.type) {
    case "conversation.escalated": {
      const reason = REASONS[p.reason] || p.reason || "escalated";
      if (p.state === "bot") return `Escalation (${reason}): nobody could take it${p.offline && p.offline.reason ? ` — ${String(p.offline.reason).replace(/_/g, " ")}` : ""}`;
      return `Escalated to a person: ${reason}${p.detail ? ` — ${p.detail}` : ""}`;
    }
    case "agent.joined":
      return `${p.agent || "An agent"} joined the conversation`;
    case "agent.left":
      return `${p.agent || "The agent"} left${p.reason ? ` (${String(p.reason).replace(/_/g, " ")})` : ""}`;
    case "conversation.transferred":
      return `Transferred to ${p.agent || (p.team ? `team ${p.team}` : "another agent")}`;
    case "conversation.returned_to_bot":
      return "Handed back to the bot";
    case "conversation.closed":
      return `Conversation closed${p.by ? ` by the ${p.by}` : ""}`;
    case "conversation.reopened":
      return "The customer reopened the conversation";
    case "offline_message.received":
      return `Offline message left${p.email ? ` (${p.email})` : ""}`;
    case "feedback.received":
      return `Feedback: CSAT ${p.csat ?? "–"}/5${p.nps !== undefined && p.nps !== null ? `, NPS ${p.nps}` : ""}`;
    default:
      return String(event.type || "event").replace(/[._]/g, " ");
  }
}

function eventNode(event) {
  const payload = event.payload || {};
  const author = String(event.author || "");
  const internal = isInternal(event);
  const dataset = { testid: "message", seq: event.seq, author, type: event.type || "" };
  if (internal) dataset.internal = "true";
  const time = formatClock(event.created_at);

  if (event.type !== "message" && !internal) {
    const alert = event.type === "conversation.escalated" || event.type === "conversation.closed";
    return h("div", { className: `sys${alert ? " sys--alert" : ""}`, dataset, attrs: { title: formatDate(event.created_at) } }, systemText(event), time ? ` · ${time}` : "");
  }

  let kind = "customer";
  if (internal) kind = "note";
  else if (author === "bot") kind = "bot";
  else if (author.startsWith("agent:")) kind = "agent";
  const meta = h(
    "div",
    { className: "msg__meta" },
    internal ? h("span", { className: "badge badge--internal", text: "Internal" }) : null,
    h("span", { className: "msg__author", text: authorLabel(event) }),
    internal && payload.transfer_to ? h("span", { text: `· transfer note for ${payload.transfer_to}` }) : null,
    author === "bot" && payload.kind && payload.kind !== "answer" ? h("span", { className: "msg__kind", text: `· ${payload.kind}` }) : null,
    time ? h("span", { text: `· ${time}`, attrs: { title: formatDate(event.created_at) } }) : null,
  );
  const bubble = h("div", { className: "msg__bubble" }, rich(payload.text ?? ""));
  if (Array.isArray(payload.suggestions) && payload.suggestions.length) {
    bubble.append(h("ul", { className: "msg__suggestions" }, payload.suggestions.map((s) => h("li", { text: s.question || s.entry_id || "" }))));
  }
  if (payload.suggestion) meta.append(h("span", { className: "muted", text: "· picked a suggestion" }));
  return h("div", { className: `msg msg--${kind}`, dataset }, meta, bubble);
}

function pendingNode(clientId, item) {
  const dataset = { pending: clientId };
  return h(
    "div",
    { className: `msg msg--${item.note ? "note" : "agent"} msg--pending`, dataset },
    h("div", { className: "msg__meta" }, item.note ? h("span", { className: "badge badge--internal", text: "Internal" }) : null, h("span", { className: "msg__author", text: "You" }), h("span", { text: "· sending…" })),
    h("div", { className: "msg__bubble" }, rich(item.text)),
  );
}

/** Bring the transcript up to date: insert missing events in seq order, never twice. */
function renderTranscript(forceBottom = false) {
  const cid = selectedConversation();
  const box = $("#transcript");
  if (!cid) {
    box.replaceChildren();
    return;
  }
  const store = conv(cid);
  const nearBottom = forceBottom || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const present = new Map();
  for (const node of box.querySelectorAll(":scope > [data-seq]")) present.set(Number(node.dataset.seq), node);
  const seqs = [...store.events.keys()].sort((a, b) => a - b);
  let previous = null;
  for (const seq of seqs) {
    let node = present.get(seq);
    if (!node) {
      node = eventNode(store.events.get(seq));
      if (previous) previous.after(node);
      else box.prepend(node);
    }
    previous = node;
  }
  for (const node of box.querySelectorAll(":scope > [data-pending]")) {
    if (!store.pending.has(node.dataset.pending)) node.remove();
  }
  for (const [clientId, item] of store.pending) {
    if (!box.querySelector(`:scope > [data-pending="${CSS.escape(clientId)}"]`)) box.append(pendingNode(clientId, item));
  }
  if (!seqs.length && !store.pending.size && store.loaded) {
    if (!box.querySelector(".sys--empty")) box.append(h("div", { className: "sys sys--empty", text: "No messages yet." }));
  } else {
    const empty = box.querySelector(".sys--empty");
    if (empty) empty.remove();
  }
  if (nearBottom) box.scrollTop = box.scrollHeight;
}

// ---------------------------------------------------------------------------------------
// Context packet

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

function renderContext(detail) {
  const ticket = detail.ticket || {};
  const context = detail.context || {};
  const customer = { ...(ticket.customer || {}), ...(context.customer || {}) };
  const parts = [];

  const name = customer.name || customerName(ticket);
  parts.push(
    section(
      "Customer",
      h(
        "div",
        { className: "ctx-customer" },
        h("div", { className: "avatar", text: Array.from(name)[0].toUpperCase(), attrs: { "aria-hidden": "true" } }),
        h("div", {}, h("div", { className: "ctx-customer__name", text: name }), customer.tier === "vip" ? h("span", { className: "badge badge--vip", text: "VIP" }) : h("span", { className: "muted", text: customer.tier || "standard" })),
      ),
      kv([
        ["Email", customer.email],
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

// ---------------------------------------------------------------------------------------
// Actions

async function claim() {
  const ticket = currentTicket();
  if (!ticket || $("#claim").hidden) return;
  $("#claim").disabled = true;
  try {
    const claimed = await api("POST", `/api/agent/tickets/${encodeURIComponent(ticket.id)}/claim`);
    if (claimed && claimed.id !== undefined && state.detail && String(claimed.id) === state.selectedId) state.detail.ticket = claimed;
    renderHeader();
    toast("You claimed this chat.");
    $("#reply-input").focus();
  } catch (failure) {
    toast(describe(failure), "error");
  } finally {
    $("#claim").disabled = false;
    refreshLists();
    refreshDetail();
  }
}

async function ticketAction(action, done) {
  const ticket = currentTicket();
  if (!ticket) return;
  try {
    const updated = await api("POST", `/api/agent/tickets/${encodeURIComponent(ticket.id)}/${action}`);
    if (updated && updated.id !== undefined && state.detail && String(updated.id) === state.selectedId) state.detail.ticket = updated;
    stopTyping();
    renderHeader();
    toast(done);
  } catch (failure) {
    toast(describe(failure), "error");
  } finally {
    refreshLists();
    refreshDetail();
  }
}

async function sendReply() {
  const input = $("#reply-input");
  const ticket = currentTicket();
  const text = input.value.trim();
  if (!text || !composerAllows(ticket)) return;
  const note = $("#note-toggle").checked;
  const cid = String(ticket.conversation_id);
  const store = conv(cid);
  const clientId = newClientId();
  input.value = "";
  closePicker();
  stopTyping();
  store.pending.set(clientId, { text, note });
  renderTranscript(true);
  const path = `/api/agent/tickets/${encodeURIComponent(ticket.id)}/${note ? "notes" : "messages"}`;
  try {
    const body = await api("POST", path, note ? { text } : { text, client_id: clientId });
    store.pending.delete(clientId);
    const added = addEvents(cid, body && body.event ? [body.event] : []);
    if (selectedConversation() === cid) renderTranscript(true);
    if (added.length) afterEvents(cid, added, false);
    if (!note && ticket.first_response_at === null) refreshListsSoon();
  } catch (failure) {
    store.pending.delete(clientId);
    if (selectedConversation() === cid) {
      renderTranscript();
      if (!input.value) input.value = text;
    }
    toast(`Not sent: ${describe(failure)}`, "error");
  }
}

// Typing, both ways --------------------------------------------------------------------

function onReplyInput() {
  updatePickerFromInput();
  const ticket = currentTicket();
  if (!canReply(ticket) || $("#note-toggle").checked) return;
  const text = $("#reply-input").value;
  if (!text) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (!state.typingOn || now - state.typingSentAt > TYPING_THROTTLE_MS) {
    if (send({ type: "typing", conversation_id: String(ticket.conversation_id), typing: true })) {
      state.typingOn = true;
      state.typingSentAt = now;
    }
  }
  clearTimeout(state.typingIdle);
  state.typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(state.typingIdle);
  if (!state.typingOn) return;
  state.typingOn = false;
  const cid = selectedConversation();
  if (cid) send({ type: "typing", conversation_id: cid, typing: false });
}

function showTyping(on) {
  clearTimeout(state.typingShown);
  $("#typing").hidden = !on;
  if (on) state.typingShown = setTimeout(() => ($("#typing").hidden = true), TYPING_SHOW_MS);
}

// Canned responses --------------------------------------------------------------------

let cannedLoading = null; // {id, promise}: one request per ticket, however fast the typing

async function loadCanned() {
  const ticket = currentTicket();
  if (!ticket) return [];
  const id = state.selectedId;
  if (state.canned && state.cannedFor === id) return state.canned;
  if (cannedLoading && cannedLoading.id === id) return cannedLoading.promise;
  const promise = (async () => {
    try {
      const body = await api("GET", `/api/agent/tickets/${encodeURIComponent(ticket.id)}/canned`);
      const items = (body && body.canned) || [];
      if (state.selectedId === id) {
        state.canned = items;
        state.cannedFor = id;
      }
      return items;
    } catch (failure) {
      toast(`Canned responses unavailable: ${describe(failure)}`, "error");
      return [];
    } finally {
      if (cannedLoading && cannedLoading.id === id) cannedLoading = null;
    }
  })();
  cannedLoading = { id, promise };
  return promise;
}

function shortcutOf(item) {
  return String(item.shortcut || "").replace(/^\//, "");
}

function slashQuery() {
  const match = /^\/([^\s/]*)$/.exec($("#reply-input").value);
  return match ? match[1].toLowerCase() : null;
}

async function toggleCanned() {
  if (!$("#canned-picker").hidden) {
    closePicker();
    return;
  }
  await openPicker("", "button");
  $("#reply-input").focus();
}

let pickerRequest = 0;

/** Show the picker for ``query``; an older request answering late never reopens it. */
async function openPicker(query, via = "slash") {
  pickerRequest += 1;
  const request = pickerRequest;
  const ticketId = state.selectedId;
  const items = await loadCanned();
  if (request !== pickerRequest || state.selectedId !== ticketId) return;
  if (via === "slash" && slashQuery() !== query.toLowerCase()) return;
  const q = query.toLowerCase();
  const matches = items.filter((item) => !q || shortcutOf(item).toLowerCase().startsWith(q) || String(item.title || "").toLowerCase().includes(q));
  const picker = $("#canned-picker");
  state.pickerIndex = 0;
  if (!matches.length) {
    picker.replaceChildren(h("div", { className: "canned-empty", text: items.length ? `No canned response matches “/${query}”.` : "No canned responses yet." }));
  } else {
    picker.replaceChildren(
      ...matches.map((item, index) =>
        h(
          "button",
          {
            className: "canned",
            type: "button",
            attrs: { role: "option", "aria-selected": String(index === 0), tabindex: "-1" },
            dataset: { testid: "canned-item", cannedId: item.id, shortcut: shortcutOf(item) },
            on: {
              mousedown: (event) => event.preventDefault(),
              click: () => insertCanned(item),
            },
          },
          h("span", { className: "canned__head" }, h("span", { className: "canned__shortcut", text: `/${shortcutOf(item)}` }), h("span", { className: "canned__title", text: item.title || "" })),
          h("span", { className: "canned__text", text: item.text || "" }),
        ),
      ),
    );
  }
  picker.hidden = false;
}

function closePicker() {
  pickerRequest += 1; // whatever is still loading must not reopen it
  const picker = $("#canned-picker");
  picker.hidden = true;
  picker.replaceChildren();
}

function movePicker(step) {
  const options = [...document.querySelectorAll("#canned-picker [data-testid=canned-item]")];
  if (!options.length) return;
  state.pickerIndex = (state.pickerIndex + step + options.length) % options.length;
  options.forEach((node, index) => node.setAttribute("aria-selected", String(index === state.pickerIndex)));
  options[state.pickerIndex].scrollIntoView({ block: "nearest" });
}

function pickFromPicker() {
  const options = [...document.querySelectorAll("#canned-picker [data-testid=canned-item]")];
  const chosen = options[state.pickerIndex];
  if (!chosen) return false;
  chosen.click();
  return true;
}

function insertCanned(item) {
  const input = $("#reply-input");
  const text = String(item.text || "");
  if (slashQuery() !== null || !input.value.trim()) {
    input.value = text;
  } else {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.value = `${input.value.slice(0, start)}${text}${input.value.slice(end)}`;
  }
  closePicker();
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
  onReplyInput();
}

function updatePickerFromInput() {
  const query = slashQuery();
  if (query === null) {
    // Writing anything but a "/shortcut" closes the picker, however it was opened.
    if (!$("#canned-picker").hidden || pickerRequest) closePicker();
    return;
  }
  openPicker(query);
}

// Transfer ----------------------------------------------------------------------------

async function openTransfer() {
  const ticket = currentTicket();
  if (!ticket) return;
  const dialog = $("#transfer-dialog");
  $("#transfer-error").hidden = true;
  $("#transfer-note").value = "";
  const agentSelect = $("#transfer-agent");
  const teamSelect = $("#transfer-team");
  agentSelect.replaceChildren(h("option", { text: "Loading…", value: "" }));
  teamSelect.replaceChildren(h("option", { text: "Loading…", value: "" }));
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
  try {
    const [agents, teams] = await Promise.all([api("GET", "/api/agent/agents"), api("GET", "/api/agent/teams")]);
    const others = ((agents && agents.agents) || []).filter((a) => !session.user || a.username !== session.user.username);
    const order = { online: 0, away: 1, offline: 2 };
    others.sort((a, b) => (order[a.presence] ?? 3) - (order[b.presence] ?? 3) || String(a.display_name).localeCompare(String(b.display_name)));
    agentSelect.replaceChildren(
      ...(others.length
        ? others.map((a) => h("option", { value: a.username, text: `${a.display_name || a.username} — ${a.presence || "offline"}${typeof a.active_chats === "number" ? `, ${a.active_chats}/${a.max_chats ?? "?"} chats` : ""}` }))
        : [h("option", { value: "", text: "No other agents" })]),
    );
    const teamNames = ((teams && teams.teams) || []).map((t) => (typeof t === "string" ? t : t.name));
    teamSelect.replaceChildren(...(teamNames.length ? teamNames.map((t) => h("option", { value: t, text: t, selected: t === ticket.team })) : [h("option", { value: "", text: "No teams" })]));
  } catch (failure) {
    showTransferError(describe(failure));
  }
}

function transferKind() {
  const chosen = document.querySelector("input[name=transfer-kind]:checked");
  return chosen ? chosen.value : "agent";
}

function showTransferError(message) {
  const node = $("#transfer-error");
  node.textContent = message;
  node.hidden = false;
}

async function submitTransfer(event) {
  event.preventDefault();
  const ticket = currentTicket();
  if (!ticket) return;
  const kind = transferKind();
  const target = kind === "agent" ? $("#transfer-agent").value : $("#transfer-team").value;
  if (!target) {
    showTransferError(kind === "agent" ? "Pick an agent." : "Pick a team.");
    return;
  }
  const body = kind === "agent" ? { to_agent: target } : { to_team: target };
  const note = $("#transfer-note").value.trim();
  if (note) body.note = note;
  $("#transfer-submit").disabled = true;
  try {
    await api("POST", `/api/agent/tickets/${encodeURIComponent(ticket.id)}/transfer`, body);
    $("#transfer-dialog").close();
    stopTyping();
    toast(kind === "agent" ? "Transferred." : `Transferred to team ${target}.`);
  } catch (failure) {
    showTransferError(describe(failure));
  } finally {
    $("#transfer-submit").disabled = false;
    refreshLists();
    refreshDetail();
  }
}

// ---------------------------------------------------------------------------------------
// Wiring

function onReplyKeydown(event) {
  const pickerOpen = !$("#canned-picker").hidden;
  if (pickerOpen) {
    if (event.key === "ArrowDown" && !event.altKey) {
      event.preventDefault();
      movePicker(1);
      return;
    }
    if (event.key === "ArrowUp" && !event.altKey) {
      event.preventDefault();
      movePicker(-1);
      return;
    }
    if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      if (pickFromPicker()) {
        event.preventDefault();
        return;
      }
    }
    if (event.key === "Escape") {
      event.preventDefault();
      closePicker();
      return;
    }
  }
  if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
  if (event.shiftKey) return; // a new line
  event.preventDefault();
  sendReply();
}

function onGlobalKeydown(event) {
  if (!session.user || $("#workspace").hidden) return;
  if ($("#transfer-dialog").open) return;
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      moveSelection(1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      moveSelection(-1);
    } else if (event.code === "KeyC" || event.key === "c" || event.key === "C") {
      event.preventDefault();
      claim();
    }
  } else if (event.key === "Escape" && !$("#canned-picker").hidden) {
    closePicker();
  }
}

function wireStatic() {
  $("#presence").addEventListener("change", changePresence);
  $("#claim").addEventListener("click", claim);
  $("#handback").addEventListener("click", () => ticketAction("handback", "Handed back to the bot."));
  $("#close-chat").addEventListener("click", () => ticketAction("close", "Conversation closed."));
  $("#transfer").addEventListener("click", openTransfer);
  $("#transfer-form").addEventListener("submit", submitTransfer);
  $("#transfer-cancel").addEventListener("click", () => $("#transfer-dialog").close());
  for (const radio of document.querySelectorAll("input[name=transfer-kind]")) {
    radio.addEventListener("change", () => {
      const team = transferKind() === "team";
      $("#transfer-agent-field").hidden = team;
      $("#transfer-team-field").hidden = !team;
    });
  }
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });
  const input = $("#reply-input");
  input.addEventListener("keydown", onReplyKeydown);
  input.addEventListener("input", onReplyInput);
  input.addEventListener("blur", () => {
    stopTyping();
    setTimeout(() => {
      if (document.activeElement !== input && !$("#canned-picker").matches(":hover")) closePicker();
    }, 150);
  });
  $("#note-toggle").addEventListener("change", () => {
    if ($("#note-toggle").checked) stopTyping();
    renderComposerState(currentTicket());
    input.focus();
  });
  $("#canned-button").addEventListener("mousedown", (event) => event.preventDefault());
  $("#canned-button").addEventListener("click", toggleCanned);
  document.addEventListener("keydown", onGlobalKeydown);
  document.addEventListener("pointerdown", unlockAudio, { passive: true });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && session.user) {
      refreshLists();
      if (state.ws === null) {
        state.wsAttempt = 0;
        connect();
      }
    }
  });
  window.addEventListener("online", () => {
    if (session.user && !state.ws) {
      state.wsAttempt = 0;
      connect();
    }
  });
}

wireStatic();
startSession({
  storageKey: "kefu.console.csrf",
  title: BASE_TITLE,
  lead: "Sign in to answer customers.",
  enter: enterWorkspace,
  leave: teardown,
  beforeSignIn: unlockAudio,
});
