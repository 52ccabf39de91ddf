// Conversations: events by (conversation, seq), so nothing is shown twice

import { api } from "/staff/assets/api.js";
import { debounce, h } from "/staff/assets/dom.js";
import { refreshAssist } from "./assist.js";
import { showTyping } from "./composer.js";
import { refreshListsSoon, ticketsById } from "./lists.js";
import { LIFECYCLE, state } from "./state.js";
import { refreshDetailSoon } from "./ticket.js";
import { renderTranscript } from "./transcript.js";

export function conv(cid) {
  let found = state.convs.get(cid);
  if (!found) {
    found = { events: new Map(), lastSeq: 0, pending: new Map(), loaded: false, gapAsked: 0 };
    state.convs.set(cid, found);
  }
  return found;
}

export function addEvents(cid, events) {
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

export async function loadEvents(cid, after) {
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

// A burst of customer messages asks for suggestions once, for the last of them.
const assistSoon = debounce(() => refreshAssist(currentTicket()), 250);

export function afterEvents(cid, added, live) {
  const open = selectedConversation() === cid;
  if (open) renderTranscript();
  if (open && added.some((event) => event.author === "customer" && event.type === "message")) assistSoon();
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

export function selectedConversation() {
  const ticket = currentTicket();
  return ticket ? String(ticket.conversation_id) : null;
}

export function currentTicket() {
  if (!state.selectedId) return null;
  if (state.detail && String(state.detail.ticket.id) === state.selectedId) return state.detail.ticket;
  return ticketsById().get(state.selectedId) || null;
}
