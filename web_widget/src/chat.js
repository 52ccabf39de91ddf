/*! kefu web widget (the chat panel), Apache-2.0. Built from web_widget/src by esbuild */
// The entry point of the chat panel, widget-chat.en.js and widget-chat.zh.js (built twice, each
// with one language's texts: texts.js), of which widget.js loads the page's when the chat is
// wanted (loader.js):
// it builds the panel into the launcher's Shadow DOM, wires its controls, resumes the
// conversation this browser kept, and hands widget.js what it offers. The launcher's modules
// (config to loader) are widget.js's own, not copies (build.mjs).

import { KEY } from "./config.js";
import { askForPerson, endChat, forget, gone, reopen } from "./conversation.js";
import { wireComposer } from "./composer.js";
import { onFrame } from "./events.js";
import { followUpOnOpen, syncFollowUp } from "./follow-up.js";
import { ready } from "./loader.js";
import { outgoing, send } from "./messages.js";
import { syncOffline } from "./offline.js";
import { close, open } from "./panel.js";
import { adopt, connect, hooks, keepAlive } from "./socket.js";
import { restore, S } from "./state.js";
import { load, outbox, remember } from "./storage.js";
import { syncSurvey } from "./survey.js";
import { $, addPart, badge, buildPanel, greet, place, setConn, shadow, sync, ui } from "./view.js";

function start() {
  restore();
  buildPanel();
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
  outbox().forEach((item) => place(outgoing(item), Infinity));
  badge();
  sync();
  if (remember()) open(false);
  if (S.cid || outbox().length) connect();
  const show = () => {
    open();
    followUpOnOpen();
  };
  return {
    // The launcher's click.
    toggle: () => (S.open ? close() : show()),
    open: show,
    close: (focusLauncher) => close(focusLauncher),
    send: (text) => send(text),
    reset: () => forget(false)
  };
}

function wire() {
  const endConfirm = $("[data-testid=kefu-end-confirm]");
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

ready(start);
