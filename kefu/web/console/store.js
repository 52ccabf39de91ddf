// The console's one store: what the desk knows, and the only place it changes.
//
// `state` is a frozen snapshot. dispatch(action) makes the next one: the handler named by the
// action's type returns the fields it changes, copying whatever it touches (a new Map, Set, array
// or object) and never editing the old snapshot. So a view tells what changed by identity, and no
// other module can write to the state: `state` is a read-only import there, and every object in
// it is frozen (a Map's or Set's entries cannot be: a test checks that no other module calls
// their mutators, nor assigns to the state).
//
// subscribe(select, listener) calls listener(now, before) whenever select(state) changes (arrays
// are compared element by element; subscribe(listener) hears of every new state). A listener
// may dispatch; every listener then hears of the newest state once the current round is over,
// so none is told of an older one after a newer.
//
// Beside the store, a view may keep private UI state that no other module reads (the picker's
// highlighted row), and an effect its own bookkeeping (the socket, timers, request counters).

import { parseTime } from "/staff/assets/format.js";

function initialState() {
  return {
    agent: null, // Agent from /api/agent/me
    connection: "connecting", // the realtime line: connecting, connected, reconnecting
    lists: EMPTY_LISTS, // {mine, queue, offline}: tickets as GET /api/agent/tickets lists them
    listsLoaded: false,
    arrivals: null, // {tickets}: new waiting tickets found by the newest list load (the chime's)
    known: new Set(), // ticket ids seen in the lists since sign-in
    fresh: new Set(), // new tickets the agent has not opened yet
    unread: new Set(), // conversation ids with customer messages not yet seen
    skewMs: 0, // browser clock minus server clock, estimated from queued tickets
    selectedId: null, // the open ticket's id (a string)
    detail: null, // {ticket, context, loaded}: the open ticket; loaded once its own GET answered
    convs: new Map(), // conversation id -> {events: Map<seq, Event>, lastSeq, pending: Map, loaded, gapAsked}
    drafts: new Map(), // ticket id -> unsent text
    canned: null, // {ticketId, items}: the open ticket's canned responses
    assist: null, // {ticketId, seq, suggestions}: suggested replies for the open ticket
    customerTyping: null, // a new {} for each "typing" frame from the open chat's customer
    complaints: { items: [], loadedAt: 0 }, // the register, most pressing first; loadedAt: Date.now()
    complaint: null, // {ticketId, complaint, loadedAt}: the open chat's complaint, if any
  };
}

function freeze(value) {
  if (!value || typeof value !== "object" || Object.isFrozen(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (value instanceof Map) {
    Object.freeze(value);
    for (const inner of value.values()) freeze(inner);
  } else if (value instanceof Set) {
    Object.freeze(value);
  } else if (Array.isArray(value) || proto === Object.prototype || proto === null) {
    Object.freeze(value);
    for (const inner of Object.values(value)) freeze(inner);
  }
  return value;
}

const EMPTY_LISTS = freeze({ mine: [], queue: [], offline: [] });
const NO_CONVERSATION = freeze({ events: new Map(), lastSeq: 0, pending: new Map(), loaded: false, gapAsked: 0 });

export let state = freeze(initialState());

// Reads every layer shares (the reducers below need them too) -------------------------------

export function ticketsById(s = state) {
  const map = new Map();
  for (const view of ["offline", "queue", "mine"]) for (const ticket of s.lists[view]) map.set(String(ticket.id), ticket);
  return map;
}

export function currentTicket(s = state) {
  if (!s.selectedId) return null;
  if (s.detail && String(s.detail.ticket.id) === s.selectedId) return s.detail.ticket;
  return ticketsById(s).get(s.selectedId) || null;
}

export function selectedConversation(s = state) {
  const ticket = currentTicket(s);
  return ticket ? String(ticket.conversation_id) : null;
}

export function conv(s, cid) {
  return s.convs.get(cid) || NO_CONVERSATION;
}

/** The events of ``events`` this conversation does not have yet, each once. */
export function newEvents(s, cid, events) {
  const have = conv(s, cid).events;
  const seen = new Set();
  return (events || []).filter((event) => {
    if (!event || typeof event.seq !== "number" || have.has(event.seq) || seen.has(event.seq)) return false;
    seen.add(event.seq);
    return true;
  });
}

// Handlers: (state, action) -> the fields that change, or null for none ---------------------

const withItem = (set, item) => (set.has(item) ? set : new Set(set).add(item));

function without(set, item) {
  if (!set.has(item)) return set;
  const copy = new Set(set);
  copy.delete(item);
  return copy;
}

function withConversation(s, cid, changes) {
  return { convs: new Map(s.convs).set(cid, { ...conv(s, cid), ...changes }) };
}

function estimateSkew(queue, now, previous) {
  for (const ticket of queue) {
    const created = parseTime(ticket.created_at);
    if (typeof ticket.waiting_seconds === "number" && !Number.isNaN(created)) return now - created - ticket.waiting_seconds * 1000;
  }
  return previous;
}

function listsLoaded(s, { lists, now }) {
  const live = [...lists.queue, ...lists.mine].filter((t) => t.status !== "closed");
  const current = new Set([...live, ...lists.offline].map((t) => String(t.id)));
  const arrived = live.filter((t) => !s.known.has(String(t.id)));
  const fresh = new Set([...s.fresh].filter((id) => current.has(id)));
  if (s.listsLoaded) for (const ticket of arrived) if (String(ticket.id) !== s.selectedId) fresh.add(String(ticket.id));
  return {
    lists,
    listsLoaded: true,
    skewMs: estimateSkew(lists.queue, now, s.skewMs),
    known: new Set([...s.known, ...current]),
    fresh: fresh.size === s.fresh.size && [...fresh].every((id) => s.fresh.has(id)) ? s.fresh : fresh,
    arrivals: s.listsLoaded && arrived.length ? { tickets: arrived } : s.arrivals,
  };
}

function ticketSelected(s, { id }) {
  const fromList = ticketsById(s).get(id) || null;
  const detail = s.detail && String(s.detail.ticket.id) === id ? s.detail : fromList ? { ticket: fromList, context: null, loaded: false } : null;
  const next = { ...s, selectedId: id, detail };
  const cid = selectedConversation(next);
  const changes = { selectedId: id, detail, fresh: without(s.fresh, id) };
  if (cid) changes.unread = without(s.unread, cid);
  if (s.selectedId !== id) Object.assign(changes, { canned: null, assist: null });
  if (cid !== selectedConversation(s)) changes.customerTyping = null;
  return changes;
}

function eventsAdded(s, { cid, events, live, loaded }) {
  const record = conv(s, cid);
  if (!events.length) return loaded && !record.loaded ? withConversation(s, cid, { loaded: true }) : null;
  const all = new Map(record.events);
  const pending = new Map(record.pending);
  let lastSeq = record.lastSeq;
  for (const event of events) {
    all.set(event.seq, event);
    if (event.seq > lastSeq) lastSeq = event.seq;
    if (event.client_id) pending.delete(event.client_id);
  }
  const changes = withConversation(s, cid, { events: all, lastSeq, pending: pending.size === record.pending.size ? record.pending : pending, loaded: record.loaded || loaded });
  const open = selectedConversation(s) === cid;
  if (open && events.some((event) => event.author === "customer")) changes.customerTyping = null;
  if (live && !open && events.some((event) => event.author === "customer" && event.type === "message")) changes.unread = withItem(s.unread, cid);
  return changes;
}

const handlers = {
  "session/ended": () => initialState(),
  "agent/loaded": (s, { agent }) => ({ agent }),
  "agent/greeted": (s, { agent }) => ({ agent: { ...(s.agent || {}), ...agent } }),
  "connection/changed": (s, { connection }) => (connection === s.connection ? null : { connection }),
  "lists/loaded": listsLoaded,
  "ticket/selected": ticketSelected,
  "ticket/loaded": (s, { id, ticket, context }) => (s.selectedId === id ? { detail: { ticket, context: context || null, loaded: true } } : null),
  "ticket/changed": (s, { ticket }) =>
    ticket && ticket.id !== undefined && s.detail && String(ticket.id) === s.selectedId ? { detail: { ...s.detail, ticket } } : null,
  "draft/kept": (s, { id, text }) => ((s.drafts.get(id) || "") === text ? null : { drafts: new Map(s.drafts).set(id, text) }),
  "events/added": eventsAdded,
  "events/gap-asked": (s, { cid, seq }) => withConversation(s, cid, { gapAsked: seq }),
  "reply/pending": (s, { cid, clientId, text, note }) => withConversation(s, cid, { pending: new Map(conv(s, cid).pending).set(clientId, { text, note }) }),
  "reply/settled": (s, { cid, clientId }) => {
    const pending = conv(s, cid).pending;
    if (!pending.has(clientId)) return null;
    const rest = new Map(pending);
    rest.delete(clientId);
    return withConversation(s, cid, { pending: rest });
  },
  "typing/customer": (s, { cid, typing }) => {
    if (cid !== selectedConversation(s) || (!typing && !s.customerTyping)) return null;
    return { customerTyping: typing ? {} : null };
  },
  "canned/loaded": (s, { ticketId, items }) => (s.selectedId === ticketId ? { canned: { ticketId, items } } : null),
  "assist/loaded": (s, { ticketId, seq, suggestions }) => {
    if (s.selectedId !== ticketId || (s.assist && s.assist.ticketId === ticketId && s.assist.seq === seq)) return null;
    return { assist: { ticketId, seq, suggestions } };
  },
  "assist/cleared": (s) => (s.assist ? { assist: null } : null),
  "complaints/loaded": (s, { items, loadedAt }) => ({ complaints: { items, loadedAt } }),
  "complaint/loaded": (s, { ticketId, complaint, loadedAt }) => (s.selectedId === ticketId ? { complaint: { ticketId, complaint, loadedAt } } : null),
};

// Dispatch and subscribe ----------------------------------------------------------------------

const listeners = [];
let notifying = false;
let again = false;

export function dispatch(action) {
  const handle = handlers[action.type];
  if (!handle) throw new Error(`unknown console action ${action.type}`);
  const changes = handle(state, action);
  if (!changes) return;
  state = freeze({ ...state, ...changes });
  if (notifying) {
    again = true;
    return;
  }
  notifying = true;
  try {
    do {
      again = false;
      for (const listener of [...listeners]) {
        try {
          listener();
        } catch (error) {
          // One view's failure must not keep the others stale; it still reaches the console.
          setTimeout(() => {
            throw error;
          });
        }
      }
    } while (again);
  } finally {
    notifying = false;
  }
}

function same(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => Object.is(item, b[index]));
  return Object.is(a, b);
}

/** Call ``listener(now, before)`` whenever ``select(state)`` changes (without a selector, on
 * every new state); returns the unsubscribe. */
export function subscribe(select, listener) {
  if (listener === undefined) [select, listener] = [(s) => s, select];
  let seen = select(state);
  const watch = () => {
    const now = select(state);
    if (same(now, seen)) return;
    const before = seen;
    seen = now;
    listener(now, before);
  };
  listeners.push(watch);
  return () => {
    const at = listeners.indexOf(watch);
    if (at >= 0) listeners.splice(at, 1);
  };
}
