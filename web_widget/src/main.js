/*! kefu web widget, Apache-2.0. Built from web_widget/src by esbuild; docs/protocol.md */
// The entry point, and the only module that does anything when loaded: it builds the widget,
// wires its controls and defines window.KefuWidget, the one global.
//
// Embedding, with one script tag (every data-attribute is optional):
//   <script src="https://host/widget.js" data-server="https://host" data-language="auto|en|zh"
//     data-title="..." data-greeting="..." data-accent="#0a7cff" data-position="right|left"
//     data-customer-name="..." data-customer-email="..." data-bot-name="..." data-max-chars="2000"
//     async></script>
// data-mount="none" loads the renderer only (the staff consoles render markdown-lite with it).
// An accent too light for white text on it is darkened until it reaches WCAG AA (a console
// warning says so). A signed-in customer's identity, signed by the site's server
// (docs/security.md, "Signed identity"): data-customer-id, -email, -name, -tier, -expires and
// data-customer-hash. Renders in a Shadow DOM on <kefu-widget>. Protocol: docs/protocol.md and
// docs/handoff.md.
//
// Modules, each importing only those above it in this list (tests/web_widget checks there is
// no cycle): config (the script tag's data-attributes), strings, storage, dom (el and
// markdown-lite), style, template, state (the one shared state object S), view (the Shadow DOM,
// the log, cards, sync), api (REST), socket (WebSocket, reconnect, token), status, messages
// (what the customer sends), events (frames and events from the server), offline, survey and
// follow-up (cards, added to sync as parts), conversation, panel, composer, and this one.

import { attr, KEY } from "./config.js";
import { askForPerson, endChat, forget, gone, reopen } from "./conversation.js";
import { wireComposer } from "./composer.js";
import { markdown } from "./dom.js";
import { onFrame } from "./events.js";
import { followUpOnOpen, syncFollowUp } from "./follow-up.js";
import { outgoing, send } from "./messages.js";
import { syncOffline } from "./offline.js";
import { close, open } from "./panel.js";
import { adopt, connect, hooks, keepAlive } from "./socket.js";
import { S } from "./state.js";
import { load, outbox, remember } from "./storage.js";
import { syncSurvey } from "./survey.js";
import { $, addPart, badge, build, greet, host, place, setConn, shadow, sync, ui } from "./view.js";

function start() {
  build();
  greet();
  setConn("idle");
  // The cards under the log, in this order; a new card's module is added here.
  addPart(syncOffline);
  addPart(syncSurvey);
  addPart(syncFollowUp);
  hooks.frame = onFrame;
  hooks.gone = gone;
  keepAlive();
  wire();
  // data-mount="none" loads the renderer only: the admin console previews answers with it.
  if (attr("mount") !== "none") {
    if (document.body) mount();
    else document.addEventListener("DOMContentLoaded", mount);
  }
  window.KefuWidget = {
    // Renders markdown-lite exactly as the chat shows it, as safe DOM nodes under `parent`.
    renderMarkdown: (text, parent) => markdown(text, parent),
    open: () => open(),
    close: () => close(false),
    toggle: () => { if (S.open) close(false); else open(); },
    send: (text) => send(text),
    reset: () => forget(false),
    get conversationId() { return S.cid; },
    get connected() { return S.ready; }
  };
}

function mount() {
  document.body.appendChild(host);
  outbox().forEach((item) => place(outgoing(item), Infinity));
  badge();
  sync();
  if (remember()) open(false);
  if (S.cid || outbox().length) connect();
}

function wire() {
  const endConfirm = $("[data-testid=kefu-end-confirm]");
  ui.launcher.addEventListener("click", () => {
    if (S.open) close();
    else {
      open();
      followUpOnOpen();
    }
  });
  ui.min.addEventListener("click", () => close());
  ui.human.addEventListener("click", askForPerson);
  ui.end.addEventListener("click", () => {
    ui.confirm.hidden = false;
    endConfirm.focus();
  });
  endConfirm.addEventListener("click", endChat);
  $("[data-testid=kefu-end-cancel]").addEventListener("click", () => {
    ui.confirm.hidden = true;
    ui.end.focus();
  });
  ui.reopen.addEventListener("click", reopen);
  $("[data-testid=kefu-new-chat]").addEventListener("click", () => {
    forget(false);
    ui.input.focus();
  });
  wireComposer();
  shadow.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !S.open) return;
    e.stopPropagation();
    if (!ui.confirm.hidden) {
      ui.confirm.hidden = true;
      ui.end.focus();
      return;
    }
    close();
  });

  window.addEventListener("online", () => {
    if (!S.ws && S.timer) connect();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !S.ws && S.timer) connect();
  });
  // Another tab started or forgot a conversation: follow it.
  window.addEventListener("storage", (e) => {
    if (e.key !== KEY) return;
    const data = load();
    if ((data.cid || null) === S.cid) {
      if (S.cid && data.token && data.token !== S.token) adopt(data);
      return;
    }
    forget(false, true);
    if (data.cid) {
      S.cid = data.cid;
      S.token = data.token;
      S.rotateAfter = data.rotate || 0;
      S.seen = data.seen || 0;
      connect();
    }
  });
}

// A page that loads the script twice gets one widget.
if (!window.KefuWidget) start();
