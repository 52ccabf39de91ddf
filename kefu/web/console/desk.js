// Effects over the agent REST API (docs/handoff.md): every request whose answer the desk keeps.
// Each one fetches or posts, then dispatches what it learnt; views call these and render from
// the store. Requests whose answer only fills one dialog are in requests.js; the socket is
// socket.js. Nothing here touches the page, except a toast when a request fails.

import { api } from "/staff/assets/api.js";
import { debounce, toast } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { describe, LIFECYCLE } from "./constants.js";
import { newClientId } from "./rich.js";
import { conv, currentTicket, dispatch, newEvents, selectedConversation, state, ticketsById } from "./store.js";

const ticketPath = (id) => `/api/agent/tickets/${encodeURIComponent(id)}`;

// The agent's own profile and presence ------------------------------------------------------

let presenceVersion = 0;

export async function loadAgent() {
  const version = presenceVersion;
  try {
    const agent = await api("GET", "/api/agent/me");
    // A change the agent made meanwhile wins over this older answer.
    if (version !== presenceVersion) return;
    dispatch({ type: "agent/loaded", agent });
  } catch (failure) {
    if (failure.status !== 401) toast(`Could not load your agent profile: ${describe(failure)}`, "error");
  }
}

/** Set the agent's presence; throws the refusal, unless a later change has superseded this one. */
export async function setPresence(wanted) {
  presenceVersion += 1;
  const version = presenceVersion;
  try {
    const agent = await api("PUT", "/api/agent/me/presence", { presence: wanted });
    if (version !== presenceVersion) return;
    dispatch({ type: "agent/loaded", agent: { ...agent, presence: agent.presence || wanted } });
    refreshLists();
  } catch (failure) {
    if (version === presenceVersion) throw failure;
  }
}

// The three lists ---------------------------------------------------------------------------

let listsRun = null;
let listsAgain = false;

/** Refetch the three lists; calls during a fetch run once more afterwards (nothing is lost). */
export async function refreshLists() {
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
    const lists = Object.fromEntries(views.map((view, index) => [view, (results[index] && results[index].tickets) || []]));
    dispatch({ type: "lists/loaded", lists, now: Date.now() });
    const open = state.selectedId && ticketsById().get(state.selectedId);
    if (open && state.detail && open.status !== state.detail.ticket.status) refreshDetail();
  } catch (failure) {
    if (failure.status !== 401) console.warn("ticket lists", failure);
  }
}

export const refreshListsSoon = debounce(() => refreshLists(), 250);

// The open ticket ---------------------------------------------------------------------------

/** Open ticket ``id``: select it at once, then fetch its detail and its conversation's events. */
export async function selectTicket(id) {
  if (!id) return;
  dispatch({ type: "ticket/selected", id });
  await refreshDetail();
  const now = selectedConversation();
  if (now && state.selectedId === id) await loadEvents(now);
}

let detailRun = null;
let detailAgain = false;

/** Fetch the open ticket and its context; calls during a fetch run once more afterwards. */
export async function refreshDetail() {
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
    const body = await api("GET", ticketPath(id));
    if (state.selectedId !== id) return;
    dispatch({ type: "ticket/loaded", id, ticket: body.ticket, context: body.context });
    refreshAssist(body.ticket);
    loadComplaintFor(body.ticket);
  } catch (failure) {
    if (failure.status === 404 || failure.status === 403) {
      if (state.selectedId === id) toast("That conversation is no longer available to you.", "error");
    } else if (failure.status !== 401) {
      console.warn("ticket", failure);
    }
  }
}

export const refreshDetailSoon = debounce(() => refreshDetail(), 250);

/** Claim, hand back or close (``action``); the lists and the ticket are refetched either way. */
export async function ticketAction(ticket, action) {
  try {
    const updated = await api("POST", `${ticketPath(ticket.id)}/${action}`);
    dispatch({ type: "ticket/changed", ticket: updated });
  } finally {
    refreshLists();
    refreshDetail();
  }
}

export async function transferTicket(ticket, body) {
  try {
    await api("POST", `${ticketPath(ticket.id)}/transfer`, body);
  } finally {
    refreshLists();
    refreshDetail();
  }
}

// Conversations: events by (conversation, seq), so nothing is shown twice --------------------

export async function loadEvents(cid, after) {
  const record = conv(state, cid);
  const from = after === undefined ? (record.loaded ? record.lastSeq : 0) : after;
  try {
    const body = await api("GET", `/api/agent/conversations/${encodeURIComponent(cid)}/events?after=${from}`);
    receiveEvents(cid, body.events, false, { loaded: true });
  } catch (failure) {
    if (failure.status !== 401) console.warn("events", failure);
  }
}

/** Keep ``events`` of conversation ``cid`` (``live``: pushed by the socket), and act on new ones. */
export function receiveEvents(cid, events, live, { loaded = false } = {}) {
  const added = newEvents(state, cid, events);
  dispatch({ type: "events/added", cid, events: added, live, loaded });
  if (!added.length) return;
  fillGaps(cid);
  afterEvents(cid, added, live);
}

/** Should the live feed ever skip a number, fetch the missing events once over REST. */
function fillGaps(cid) {
  const record = conv(state, cid);
  let missing = 0;
  for (let seq = 1; seq <= record.lastSeq; seq += 1) {
    if (!record.events.has(seq)) {
      missing = seq;
      break;
    }
  }
  if (!missing || record.gapAsked >= record.lastSeq) return;
  dispatch({ type: "events/gap-asked", cid, seq: record.lastSeq });
  loadEvents(cid, missing - 1);
}

// A burst of customer messages asks for suggestions once, for the last of them.
const assistSoon = debounce(() => refreshAssist(currentTicket()), 250);

function afterEvents(cid, added, live) {
  const open = selectedConversation() === cid;
  if (open && added.some((event) => event.author === "customer" && event.type === "message")) assistSoon();
  if (live && added.some((event) => LIFECYCLE.has(event.type))) {
    refreshListsSoon();
    if (open) refreshDetailSoon();
  }
}

/** Send a reply (or, with ``note``, an internal note) on ``ticket``; shown as pending until the
 * server answers. Throws the server's refusal (``service_language``: nothing was stored). */
export async function postReply({ ticket, text, note, confirmPhrases = false }) {
  const cid = String(ticket.conversation_id);
  const clientId = newClientId();
  dispatch({ type: "reply/pending", cid, clientId, text, note });
  const path = `${ticketPath(ticket.id)}/${note ? "notes" : "messages"}`;
  try {
    const reply = { text, client_id: clientId, ...(confirmPhrases ? { confirm_phrases: true } : {}) };
    const body = await api("POST", path, note ? { text } : reply);
    dispatch({ type: "reply/settled", cid, clientId });
    receiveEvents(cid, body && body.event ? [body.event] : [], false);
    if (!note && ticket.first_response_at === null) refreshListsSoon();
  } catch (failure) {
    dispatch({ type: "reply/settled", cid, clientId });
    throw failure;
  }
}

// Canned responses and suggested replies for the open ticket ---------------------------------

let cannedLoading = null; // {id, promise}: one request per ticket, however fast the typing

export async function loadCanned() {
  const ticket = currentTicket();
  if (!ticket) return [];
  const id = state.selectedId;
  if (state.canned && state.canned.ticketId === id) return state.canned.items;
  if (cannedLoading && cannedLoading.id === id) return cannedLoading.promise;
  const promise = (async () => {
    try {
      const body = await api("GET", `${ticketPath(ticket.id)}/canned`);
      const items = (body && body.canned) || [];
      dispatch({ type: "canned/loaded", ticketId: id, items });
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

let assistRequest = 0; // only the newest request may answer

function clearAssist() {
  assistRequest += 1;
  dispatch({ type: "assist/cleared" });
}

/** The server's suggestions for ``ticket``'s latest customer message (issue 17, item 4). */
export async function refreshAssist(ticket) {
  if (!ticket || ticket.status === "closed") {
    clearAssist();
    return;
  }
  assistRequest += 1;
  const mine = assistRequest;
  const ticketId = String(ticket.id);
  try {
    const body = await api("GET", `${ticketPath(ticketId)}/assist`);
    if (mine !== assistRequest) return;
    if (!body || !body.suggestions || !body.suggestions.length) {
      clearAssist();
      return;
    }
    dispatch({ type: "assist/loaded", ticketId, seq: body.message_seq, suggestions: body.suggestions });
  } catch (failure) {
    if (mine === assistRequest) clearAssist();
    if (failure.status !== 401 && failure.status !== 403 && failure.status !== 404) console.warn("assist", failure);
  }
}

// Complaints (docs/handoff.md, "Complaints") ---------------------------------------------------

export async function refreshComplaints() {
  try {
    const body = await api("GET", "/api/agent/complaints");
    dispatch({ type: "complaints/loaded", items: body.complaints || [], loadedAt: Date.now() });
  } catch (failure) {
    if (failure.status !== 401) console.warn("complaints", failure);
  }
  if (state.detail && state.detail.loaded) loadComplaintFor(state.detail.ticket);
}

async function loadComplaintFor(ticket) {
  const ticketId = String(ticket.id);
  let complaint = state.complaint && state.complaint.ticketId === ticketId ? state.complaint.complaint : null;
  try {
    const body = await api("GET", `/api/agent/complaints?status=all&conversation_id=${encodeURIComponent(ticket.conversation_id)}`);
    complaint = (body.complaints || [])[0] || null;
  } catch (failure) {
    if (failure.status === 401) return;
    console.warn("complaint", failure);
  }
  dispatch({ type: "complaint/loaded", ticketId, complaint, loadedAt: Date.now() });
}

export async function markComplaint(ticketId, body) {
  const complaint = await api("POST", `${ticketPath(ticketId)}/complaint`, body);
  dispatch({ type: "complaint/loaded", ticketId: String(ticketId), complaint, loadedAt: Date.now() });
  refreshComplaints();
}

export async function resolveComplaint(ticketId, complaintId, body) {
  const complaint = await api("POST", `/api/agent/complaints/${encodeURIComponent(complaintId)}/resolve`, body);
  dispatch({ type: "complaint/loaded", ticketId: String(ticketId), complaint, loadedAt: Date.now() });
  refreshComplaints();
}
