// The reply box: who may write, sending replies and notes, each chat's draft, typing both ways.
// The agent's own typing notices (a timer, the chat they were sent for) are this view's
// bookkeeping; everything else comes from the store.

import { $, toast } from "/staff/assets/dom.js";
import { closePicker, updatePickerFromInput } from "./canned.js";
import { describe, TYPING_IDLE_MS, TYPING_SHOW_MS, TYPING_THROTTLE_MS } from "./constants.js";
import { postReply } from "./desk.js";
import { canNote, canReply, offlineInfo } from "./selectors.js";
import { hidePhraseWarning, showPhraseWarning, syncPhraseWarning } from "./service-language.js";
import { send } from "./socket.js";
import { currentTicket, dispatch, selectedConversation, state, subscribe } from "./store.js";

const typing = { on: false, sentAt: 0, cid: null, idle: null, shown: null };

export function wireComposer() {
  subscribe((s) => s.selectedId, switchDraft);
  subscribe((s) => currentTicket(s), renderComposerState);
  // A chat the agent may no longer reply in (closed, handed back, transferred) ends their typing.
  subscribe(
    (s) => canReply(currentTicket(s)),
    (can) => {
      if (!can) stopTyping();
    },
  );
  subscribe((s) => s.customerTyping, (shown) => showTyping(Boolean(shown)));
  $("#note-toggle").addEventListener("change", () => {
    if ($("#note-toggle").checked) stopTyping();
    renderComposerState(currentTicket());
    $("#reply-input").focus();
  });
}

/** Each chat keeps its own unsent draft. */
function switchDraft(id, before) {
  stopTyping();
  const input = $("#reply-input");
  if (before && id) dispatch({ type: "draft/kept", id: before, text: input.value });
  input.value = id ? state.drafts.get(id) || "" : "";
}

/** Replies need the chat to be yours and active; notes need it to be yours and open. */
function composerAllows(ticket) {
  return $("#note-toggle").checked ? canNote(ticket) : canReply(ticket);
}

function renderComposerState(ticket) {
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
  input.value = "";
  closePicker();
  stopTyping();
  hidePhraseWarning();
  try {
    await postReply({ ticket, text, note, confirmPhrases });
  } catch (failure) {
    if (selectedConversation() === cid) {
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
  const cid = String(ticket.conversation_id);
  if (!typing.on || typing.cid !== cid || now - typing.sentAt > TYPING_THROTTLE_MS) {
    if (send({ type: "typing", conversation_id: cid, typing: true })) {
      typing.on = true;
      typing.sentAt = now;
      typing.cid = cid;
    }
  }
  clearTimeout(typing.idle);
  typing.idle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

/** Tell the customer the agent stopped typing (in the chat they were typing in). */
export function stopTyping() {
  clearTimeout(typing.idle);
  if (!typing.on) return;
  typing.on = false;
  if (typing.cid) send({ type: "typing", conversation_id: typing.cid, typing: false });
}

function showTyping(on) {
  clearTimeout(typing.shown);
  $("#typing").hidden = !on;
  if (on) typing.shown = setTimeout(() => ($("#typing").hidden = true), TYPING_SHOW_MS);
}
