// Reads derived from the store's state (and the signed-in member): who may act on a ticket, how
// to name its customer, how long it has waited. Pure functions; they change nothing.

import { formatDuration } from "./rich.js";
import { parseTime } from "/staff/assets/format.js";
import { session } from "/staff/assets/session.js";
import { selectedConversation, state } from "./store.js";

export function role() {
  return (session.user && session.user.role) || "agent";
}

export function isMine(ticket) {
  return Boolean(ticket && ticket.agent && session.user && ticket.agent.username === session.user.username);
}

export function canAct(ticket) {
  return isMine(ticket) || role() === "supervisor" || role() === "admin";
}

export function canReply(ticket) {
  return Boolean(ticket) && ticket.status === "active" && canAct(ticket);
}

/** docs/handoff.md: only the owner (or a supervisor/admin) notes. */
export function canNote(ticket) {
  return Boolean(ticket) && ticket.status !== "closed" && canAct(ticket);
}

export function customerName(ticket) {
  const customer = (ticket && ticket.customer) || {};
  if (customer.name) return customer.name;
  const cid = ticket && ticket.conversation_id ? String(ticket.conversation_id) : "";
  return cid ? `Visitor ${cid.slice(0, 6)}` : "Visitor";
}

/** The offline message as {text, email, name}; the API gives its text, the customer the rest. */
export function offlineInfo(ticket) {
  const message = ticket && ticket.offline_message;
  if (!message) return null;
  const customer = ticket.customer || {};
  if (typeof message === "string") return { text: message, email: customer.email || "", name: customer.name || "" };
  return { text: message.text || "", email: message.email || customer.email || "", name: message.name || customer.name || "" };
}

/** How long since ``createdAt``, by the server's clock. */
export function waitText(createdAt, s = state) {
  const created = parseTime(createdAt);
  if (Number.isNaN(created)) return "";
  return formatDuration((Date.now() - s.skewMs - created) / 1000);
}

/** The conversations the socket follows: my open chats and the one on screen, sorted. */
export function wantedConversations(s = state) {
  const wanted = new Set(s.lists.mine.filter((t) => t.status !== "closed").map((t) => String(t.conversation_id)));
  const open = selectedConversation(s);
  if (open) wanted.add(open);
  return [...wanted].sort();
}
