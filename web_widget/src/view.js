// The chat panel on the page: its elements (added to the launcher's `ui`), the log's order, the
// cards under the log, and sync(), which brings what is shown in line with the state.
//
// A feature that shows a card (offline.js, survey.js) registers a part with addPart(): sync()
// calls every part, in the order chat.js added them, and each part shows or drops its card.

import { attr } from "./config.js";
import { el, markdown, txt } from "./dom.js";
import { $, shadow, ui } from "./launcher.js";
import { S } from "./state.js";
import { TEMPLATE } from "./template.js";
import { parseTime, t } from "./texts.js";
import CSS from "./chat.css";

export { $, badge, shadow, ui } from "./launcher.js";

// The panel goes into the launcher's Shadow DOM, after the launcher, with its own sheet.
export function buildPanel() {
  shadow.appendChild(el("style", { text: CSS }));
  ui.root.insertAdjacentHTML("beforeend", TEMPLATE);
  Object.assign(ui, {
    panel: $(".panel"), title: $(".title"), status: $(".status"), statusText: $(".st"), end: $(".end"),
    min: $(".min"), confirm: $(".confirm"), queue: $(".queue"), scroll: $(".scroll"), log: $(".log"),
    typing: $(".typing"), extras: $(".extras"), actions: $(".actions"), human: $(".human"),
    form: $(".composer"), input: $(".composer textarea"), send: $(".send"), count: $(".count"),
    ended: $(".ended"), reopen: $("[data-testid=kefu-reopen]")
  });
  shadow.querySelectorAll("[data-t]").forEach((n) => n.textContent = t(n.dataset.t));
  shadow.querySelectorAll("[data-l]").forEach((n) => {
    n.title = t(n.dataset.l);
    n.setAttribute("aria-label", n.title);
  });
  ui.title.textContent = attr("title") || t("title");
  ui.log.setAttribute("aria-label", ui.title.textContent);
  ui.input.placeholder = t("placeholder");
}

export function greet() {
  const g = el("div", { cls: "msg bot", "data-testid": "kefu-greeting", "data-who": "bot:" + t("bot") }, [
    el("div", { cls: "who", text: t("bot") }), el("div", { cls: "bubble" })]);
  markdown(attr("greeting") || t("greeting"), g.lastChild);
  ui.log.appendChild(g);
}

// -- connection status

export function setConn(status) {
  ui.status.setAttribute("data-status", status);
  ui.statusText.textContent = t(status);
}

// -- the log

// Keep the log in seq order; messages still waiting for their seq stay at the end.
export function place(node, seq) {
  const kids = ui.log.children;
  for (let i = 0; seq !== Infinity && i < kids.length; i++) {
    const s = kids[i].getAttribute("data-seq");
    const waiting = s == null && kids[i].hasAttribute("data-client-id");
    if (waiting || (s != null && +s > seq)) {
      ui.log.insertBefore(node, kids[i]);
      return lastOut();
    }
  }
  ui.log.appendChild(node);
  lastOut();
}

function lastOut() {
  const outs = ui.log.querySelectorAll(".msg.customer");
  for (let i = 0; i < outs.length; i++) outs[i].classList.toggle("last", i === outs.length - 1);
}

export function nearBottom() {
  const s = ui.scroll;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}
export function toBottom() {
  ui.scroll.scrollTop = ui.scroll.scrollHeight;
}

// A speaker's name shows once per run of messages from the same speaker.
export function relabel(node) {
  [node, node && node.nextElementSibling].forEach((n) => {
    if (!n || !n.querySelector) return;
    const who = n.querySelector(".who");
    if (!who) return;
    const prev = n.previousElementSibling;
    who.hidden = !!(prev && prev.getAttribute("data-who") === n.getAttribute("data-who"));
  });
}

export function bubble(author, text, name) {
  const node = el("div", { cls: "msg " + author, "data-testid": "kefu-message", "data-author": author,
    "data-who": author === "customer" ? "customer" : author + ":" + (name || "") });
  if (author !== "customer") node.appendChild(el("div", { cls: "who", text: name }));
  markdown(text, node.appendChild(el("div", { cls: "bubble" })));
  return node;
}

export function notice(text) {
  const node = el("div", { cls: "note", role: "alert", text });
  ui.log.appendChild(node);
  toBottom();
  setTimeout(() => node.remove(), 6000);
}

// -- typing indicators (the agent's, and the bot's while it thinks)

let typingTimer = null;
let typingWho = null;
export function showTyping(name, bot) {
  clearTimeout(typingTimer);
  typingWho = name ? (bot ? "bot" : "agent") : null;
  ui.typing.hidden = !name;
  if (!name) return;
  const stick = nearBottom();
  ui.typing.lastChild.textContent = t("typing", { name });
  if (stick) toBottom();
  typingTimer = setTimeout(() => showTyping(null), bot ? 20000 : 8000);
}
export function botTyping(on) {
  if (on) showTyping(t("bot"), true);
  else if (typingWho === "bot") showTyping(null);
}

// -- cards under the log

export const cards = {};
export function card(name, make) {
  if (!cards[name]) {
    cards[name] = make();
    ui.extras.appendChild(cards[name]);
  }
  return cards[name];
}
export function dropCard(name) {
  if (cards[name]) {
    cards[name].remove();
    delete cards[name];
  }
}
export function dropCards() {
  Object.keys(cards).forEach(dropCard);
}

// A labelled control in a form card, a card's line for its errors (hidden until fail() fills
// it in), and fail(), which shows an error there.
export const field = (label, control, tag) => el(tag || "label", { cls: "field" }, [txt(label), control]);
export const errorLine = () => el("p", { cls: "err", role: "alert", hidden: "" });
export function fail(error, message, focus) {
  error.textContent = message || t("error");
  error.hidden = false;
  if (focus) focus.focus();
}

// -- view sync

const parts = [];
export function addPart(part) {
  parts.push(part);
}

let reopenTimer = null;
export function sync() {
  const closed = S.state === "closed";
  const waiting = S.state === "waiting_for_agent";
  ui.human.hidden = S.state !== "bot" || !!(S.offline && !S.offlineSent);
  ui.actions.hidden = ui.human.hidden;
  ui.end.hidden = !S.cid || closed;
  if (closed) ui.confirm.hidden = true;

  ui.queue.hidden = !waiting;
  if (waiting) {
    const q = S.queue;
    let text = !q || !q.position ? t("queueWait")
      : q.position === 1 ? t("queueNext") : t("queueAt", { n: q.position, before: q.position - 1 });
    if (q && q.eta_seconds != null) {
      text += " · " + (q.eta_seconds < 60 ? t("etaSoon") : t("eta", { m: Math.round(q.eta_seconds / 60) }));
    }
    ui.queue.firstChild.textContent = text;
  }

  parts.forEach((part) => part());

  ui.form.hidden = closed;
  ui.ended.hidden = !closed;
  clearTimeout(reopenTimer);
  const until = closed && S.closed && S.closed.reopen_until ? parseTime(S.closed.reopen_until) : 0;
  const canReopen = until > Date.now();
  ui.reopen.hidden = !canReopen;
  if (canReopen) reopenTimer = setTimeout(sync, Math.min(until - Date.now() + 50, 2147483000));
  if (closed) showTyping(null);
}
