// The conversation as a whole: asking for a person, ending, reopening, and forgetting it.

import { api, create } from "./api.js";
import { el } from "./dom.js";
import { outgoing, send } from "./messages.js";
import { connect, dropped } from "./socket.js";
import { S } from "./state.js";
import { applyStatus } from "./status.js";
import { outbox, save } from "./storage.js";
import { t } from "./texts.js";
import { badge, cards, dropCards, greet, notice, place, setConn, sync, ui } from "./view.js";

export function askForPerson() {
  ui.human.disabled = true;
  const ready = S.cid ? Promise.resolve() : create().then(() => connect());
  ready.then(() => api("POST", "/handoff")).then((st) => {
    applyStatus(st);
    const form = cards.offline;
    if (form && S.open) form.querySelector("input").focus();
  }, (err) => {
    if (err && err.status === 404 && !err.code) {
      // A server without the handoff API: asking in words escalates too.
      send(t("humanText"));
    } else {
      notice(t("error"));
    }
  }).then(() => {
    ui.human.disabled = false;
    sync();
  });
}

export function endChat() {
  ui.confirm.hidden = true;
  if (!S.cid) return;
  ui.end.disabled = true;
  api("POST", "/close").then(applyStatus, () => notice(t("error")))
    .then(() => ui.end.disabled = false);
}

export function reopen() {
  ui.reopen.disabled = true;
  api("POST", "/reopen").then((st) => {
    S.closed = null;
    applyStatus(st);
    ui.input.focus();
  }, (err) => {
    if (err && err.code === "reopen_window_passed") {
      if (S.closed) S.closed.reopen_until = null;
      notice(t("windowPassed"));
    } else notice(t("error"));
  }).then(() => {
    ui.reopen.disabled = false;
    sync();
  });
}

// Forget the conversation: a new one starts with the next message. (From another tab's change,
// the storage is already as it should be and is left alone.)
export function forget(isGone, followed) {
  dropped();
  clearTimeout(S.timer);
  clearTimeout(S.lostTimer);
  S.timer = null;
  const keep = isGone ? outbox() : [];
  if (!followed) save({ cid: null, token: null, rotate: 0, seen: 0, outbox: keep, rated: {} });
  S.cid = S.token = null;
  S.rotateAfter = 0;
  S.lastSeq = S.seen = S.unread = S.waitingFor = S.statusSeq = 0;
  S.bySeq = {};
  S.pending = {};
  S.rated = {};
  S.state = "bot";
  S.agent = S.queue = S.offline = S.closed = S.followUp = S.followUpFor = null;
  S.offlineSent = S.feedback = false;
  ui.log.textContent = "";
  dropCards();
  greet();
  if (isGone) {
    ui.log.appendChild(el("div", { cls: "note", text: t("gone") }));
    keep.forEach((item) => place(outgoing(item), Infinity));
  }
  setConn("idle");
  badge();
  sync();
}

// The server no longer has this conversation for this browser: start again with what is unsent.
export function gone() {
  forget(true);
  if (outbox().length) connect();
}
