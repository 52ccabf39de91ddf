// kefu agent console: plain ES2020 modules, no build step, no third-party code. Sign-in, the
// API client and the DOM helpers are the staff pages' shared modules under /staff/assets/.
//
// Protocol: docs/handoff.md (agent REST API under /api/agent, agent WebSocket /api/agent/ws).
// Rendering never uses innerHTML: every piece of server or customer text becomes a text node,
// and markdown-lite is built from DOM nodes by the widget's own renderer.
//
// This module is the entry point: it wires the page's static controls and opens the workspace
// on sign-in. The desk itself lives beside it: state.js (constants, the shared state object),
// lists.js, notify.js, presence.js, conversations.js (events by seq), socket.js, ticket.js (the
// open ticket), transcript.js, context.js, composer.js, canned.js, actions.js (claim, hand back,
// close, transfer), shortcuts.js, rich.js, service-language.js (the warning above the reply
// box) and service-language-list.js (the list and its report). The modules import each
// other's functions; only this one runs code when loaded, so the import cycles between them
// are harmless.

import { $ } from "/staff/assets/dom.js";
import { session, startSession } from "/staff/assets/session.js";
import { claim, openTransfer, submitTransfer, ticketAction, transferKind } from "./actions.js";
import { refreshComplaints, tickComplaints, wireComplaints } from "./complaints.js";
import { closePicker, toggleCanned } from "./canned.js";
import { onReplyInput, renderComposerState, sendReply, stopTyping } from "./composer.js";
import { renderContextEmpty } from "./context.js";
import { currentTicket } from "./conversations.js";
import { refreshLists, tick, updateTitle } from "./lists.js";
import { unlockAudio } from "./notify.js";
import { changePresence, loadAgent, showPresence } from "./presence.js";
import { hidePhraseWarning, wirePhraseWarning } from "./service-language.js";
import { wirePhraseList } from "./service-language-list.js";
import { onGlobalKeydown, onReplyKeydown } from "./shortcuts.js";
import { connect, keepAlive } from "./socket.js";
import { BASE_TITLE, LIST_POLL_MS, state } from "./state.js";
import { canAct, selectTicket } from "./ticket.js";

// ---------------------------------------------------------------------------------------
// Session: the shared sign-in opens the workspace; leaving it forgets everything

function teardown() {
  state.agent = null;
  $("#wall-link").hidden = true;
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
  hidePhraseWarning();
  if ($("#phrases-dialog").open) $("#phrases-dialog").close();
  for (const id of ["mine-list", "queue-list", "offline-list", "complaints-list"]) $(`#${id}`).replaceChildren();
  $("#transcript").replaceChildren();
  $("#chat").hidden = true;
  $("#chat-empty").hidden = false;
  renderContextEmpty();
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

async function enterWorkspace() {
  showPresence(null);
  // The live wall is for supervisors and admins (the server refuses agents anyway).
  $("#wall-link").hidden = !["supervisor", "admin"].includes(session.user && session.user.role);
  updateTitle();
  state.intervals.push(setInterval(tick, 1000));
  state.intervals.push(setInterval(tickComplaints, 1000));
  refreshComplaints();
  state.intervals.push(setInterval(() => refreshLists(), LIST_POLL_MS));
  state.intervals.push(setInterval(keepAlive, 15000));
  loadAgent();
  await refreshLists();
  connect();
  // A reload reopens the chat that was open (the address keeps it).
  const remembered = /^#ticket=(\d+)$/.exec(location.hash);
  if (remembered && session.user && !state.selectedId) selectTicket(remembered[1]);
}

// ---------------------------------------------------------------------------------------
// Wiring

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
wireComplaints({ open: (id) => selectTicket(id, { focusReply: true }), canAct });
wirePhraseWarning();
wirePhraseList();
startSession({
  storageKey: "kefu.console.csrf",
  title: BASE_TITLE,
  lead: "Sign in to answer customers.",
  enter: enterWorkspace,
  leave: teardown,
  beforeSignIn: unlockAudio,
});
