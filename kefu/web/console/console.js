// kefu agent console: plain ES2020 modules, no build step, no third-party code. Sign-in, the
// API client and the DOM helpers are the staff pages' shared modules under /staff/assets/.
//
// Protocol: docs/handoff.md (agent REST API under /api/agent, agent WebSocket /api/agent/ws).
// Rendering never uses innerHTML: every piece of server or customer text becomes a text node,
// and markdown-lite is built from DOM nodes by the widget's own renderer.
//
// One store and one direction of data (ARCHITECTURE.md, "The agent console"). Each module
// imports only from the layers below its own, so there is no import cycle
// (tests/kefu/test_console_modules.py checks both):
//   constants.js, rich.js          constants; markdown-lite and small formats
//   store.js                       the state, dispatch(action), subscribe(select, listener)
//   selectors.js                   reads derived from the state
//   desk.js, requests.js           effects: REST requests; desk.js dispatches what it learns
//   socket.js                      effects: the agent WebSocket, frames to dispatches
//   canned.js, notify.js,          parts other views use: the canned picker, the chime and
//   service-language.js            notifications, the service-language warning
//   the views                      lists, ticket (the open ticket's pane), transcript, context,
//                                  composer, assist, complaints, presence, actions,
//                                  service-language-list: each subscribes to the part of the
//                                  state it draws, and calls effects or dispatches
//   shortcuts.js                   the keyboard, over the views
//   console.js                     this entry: wires the views to the store, starts the effects

import { $ } from "/staff/assets/dom.js";
import { session, startSession } from "/staff/assets/session.js";
import { wireActions } from "./actions.js";
import { wireAssist } from "./assist.js";
import { closePicker, toggleCanned, wireCanned } from "./canned.js";
import { tickComplaints, wireComplaints } from "./complaints.js";
import { onReplyInput, sendReply, stopTyping, wireComposer } from "./composer.js";
import { BASE_TITLE, LIST_POLL_MS } from "./constants.js";
import { wireContext } from "./context.js";
import { loadAgent, refreshComplaints, refreshLists, selectTicket } from "./desk.js";
import { tick, updateTitle, wireLists } from "./lists.js";
import { unlockAudio, wireNotify } from "./notify.js";
import { showPresence, wirePresence } from "./presence.js";
import { hidePhraseWarning, wirePhraseWarning } from "./service-language.js";
import { wirePhraseList } from "./service-language-list.js";
import { onGlobalKeydown, onReplyKeydown } from "./shortcuts.js";
import { connect, disconnect, keepAlive, reconnectNow, wireSocket } from "./socket.js";
import { dispatch, state } from "./store.js";
import { wireTicket } from "./ticket.js";
import { wireTranscript } from "./transcript.js";

let intervals = [];

// ---------------------------------------------------------------------------------------
// Session: the shared sign-in opens the workspace; leaving it forgets everything

function teardown() {
  $("#wall-link").hidden = true;
  for (const id of intervals) clearInterval(id);
  intervals = [];
  disconnect();
  dispatch({ type: "session/ended" });
  $("#reply-input").value = "";
  hidePhraseWarning();
  if ($("#phrases-dialog").open) $("#phrases-dialog").close();
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

async function enterWorkspace() {
  showPresence(null);
  // The live wall is for supervisors and admins (the server refuses agents anyway).
  $("#wall-link").hidden = !["supervisor", "admin"].includes(session.user && session.user.role);
  updateTitle();
  intervals.push(setInterval(tick, 1000));
  intervals.push(setInterval(tickComplaints, 1000));
  refreshComplaints();
  intervals.push(setInterval(() => refreshLists(), LIST_POLL_MS));
  intervals.push(setInterval(keepAlive, 15000));
  loadAgent();
  await refreshLists();
  connect();
  // A reload reopens the chat that was open (the address keeps it).
  const remembered = /^#ticket=(\d+)$/.exec(location.hash);
  if (remembered && session.user && !state.selectedId) selectTicket(remembered[1]);
}

// ---------------------------------------------------------------------------------------
// Wiring: each view subscribes to the store; the page's static controls call the views

function wireStatic() {
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
  $("#canned-button").addEventListener("mousedown", (event) => event.preventDefault());
  $("#canned-button").addEventListener("click", toggleCanned);
  document.addEventListener("keydown", onGlobalKeydown);
  document.addEventListener("pointerdown", unlockAudio, { passive: true });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && session.user) {
      refreshLists();
      reconnectNow();
    }
  });
  window.addEventListener("online", reconnectNow);
}

wireLists();
wireTicket();
wireTranscript();
wireContext();
wireComposer();
wireCanned();
wireAssist();
wireComplaints();
wirePresence();
wireNotify();
wireActions();
wireSocket();
wireStatic();
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
