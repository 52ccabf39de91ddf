// The reply box: who may write, sending replies and notes, typing both ways.

import { api } from "/staff/assets/api.js";
import { $, toast } from "/staff/assets/dom.js";
import { closePicker, updatePickerFromInput } from "./canned.js";
import { addEvents, afterEvents, conv, currentTicket, selectedConversation } from "./conversations.js";
import { offlineInfo, refreshListsSoon } from "./lists.js";
import { newClientId } from "./rich.js";
import { send } from "./socket.js";
import { describe, state, TYPING_IDLE_MS, TYPING_SHOW_MS, TYPING_THROTTLE_MS } from "./state.js";
import { canAct, canReply } from "./ticket.js";
import { hidePhraseWarning, showPhraseWarning, syncPhraseWarning } from "./service-language.js";
import { renderTranscript } from "./transcript.js";

/** docs/handoff.md: only the owner (or a supervisor/admin) notes. */
function canNote(ticket) {
  return Boolean(ticket) && ticket.status !== "closed" && canAct(ticket);
}

/** Replies need the chat to be yours and active; notes need it to be yours and open. */
function composerAllows(ticket) {
  return $("#note-toggle").checked ? canNote(ticket) : canReply(ticket);
}

export function renderComposerState(ticket) {
  const input = $("#reply-input");
  const note = $("#note-toggle").checked;
  const enabled = composerAllows(ticket);
  syncPhraseWarning(ticket ? String(ticket.conversation_id) : null, note);
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

/** ``confirmPhrases``: send even with service-language phrases (the warning's "Send anyway"). */
export async function sendReply({ confirmPhrases = false } = {}) {
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
  hidePhraseWarning();
  store.pending.set(clientId, { text, note });
  renderTranscript(true);
  const path = `/api/agent/tickets/${encodeURIComponent(ticket.id)}/${note ? "notes" : "messages"}`;
  try {
    const reply = { text, client_id: clientId, ...(confirmPhrases ? { confirm_phrases: true } : {}) };
    const body = await api("POST", path, note ? { text } : reply);
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
      // Nothing was sent: the reply stays in the box, and the warning says what to change.
      if (failure.code === "service_language") return showPhraseWarning(cid, failure.details, () => sendReply({ confirmPhrases: true }));
    }
    toast(`Not sent: ${describe(failure)}`, "error");
  }
}

// Typing, both ways --------------------------------------------------------------------

export function onReplyInput() {
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

export function stopTyping() {
  clearTimeout(state.typingIdle);
  if (!state.typingOn) return;
  state.typingOn = false;
  const cid = selectedConversation();
  if (cid) send({ type: "typing", conversation_id: cid, typing: false });
}

export function showTyping(on) {
  clearTimeout(state.typingShown);
  $("#typing").hidden = !on;
  if (on) state.typingShown = setTimeout(() => ($("#typing").hidden = true), TYPING_SHOW_MS);
}
