// The open ticket: selecting it, fetching its detail, its header and who may act on it.

import { api } from "/staff/assets/api.js";
import { $, debounce, h, toast } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { clearAssist, refreshAssist } from "./assist.js";
import { closePicker } from "./canned.js";
import { showComplaintFor } from "./complaints.js";
import { renderComposerState, showTyping, stopTyping } from "./composer.js";
import { renderContext, renderContextLoading } from "./context.js";
import { currentTicket, loadEvents, selectedConversation } from "./conversations.js";
import { customerName, offlineInfo, priorityBadge, ticketsById, updateTitle, waitText } from "./lists.js";
import { rich } from "./rich.js";
import { syncSubscriptions } from "./socket.js";
import { state } from "./state.js";
import { renderTranscript } from "./transcript.js";

export async function selectTicket(id, { focusReply = false } = {}) {
  if (!id) return;
  const previous = selectedConversation();
  if (state.selectedId !== id) {
    stopTyping();
    closePicker();
    clearAssist();
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
    const body = await api("GET", `/api/agent/tickets/${encodeURIComponent(id)}`);
    if (state.selectedId !== id) return;
    const previous = selectedConversation();
    state.detail = { ticket: body.ticket, context: body.context || null };
    renderHeader();
    renderContext(state.detail);
    refreshAssist(state.detail.ticket);
    showComplaintFor(state.detail.ticket);
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

export const refreshDetailSoon = debounce(() => refreshDetail(), 250);

export function role() {
  return (session.user && session.user.role) || "agent";
}

function isMine(ticket) {
  return Boolean(ticket && ticket.agent && session.user && ticket.agent.username === session.user.username);
}

export function canAct(ticket) {
  return isMine(ticket) || role() === "supervisor" || role() === "admin";
}

export function canReply(ticket) {
  return Boolean(ticket) && ticket.status === "active" && canAct(ticket);
}

export function renderHeader() {
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
