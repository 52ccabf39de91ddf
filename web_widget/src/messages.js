// What the customer sends: messages (kept in the outbox until the server acknowledges them,
// sent again after reconnecting, retried on demand), suggestion chips, ratings of the bot's
// answers, and the typing notice.

import { api } from "./api.js";
import { el } from "./dom.js";
import { connect, tokenLost, wsSend } from "./socket.js";
import { S } from "./state.js";
import { newId, outbox, outboxDrop, outboxPut, save } from "./storage.js";
import { t } from "./texts.js";
import { icon } from "./template.js";
import { botTyping, bubble, place, toBottom, ui } from "./view.js";

// -- the customer's messages in the log

export function outgoing(item) {
  const node = bubble("customer", item.text);
  node.setAttribute("data-client-id", item.client_id);
  node.appendChild(el("div", { cls: "meta" }));
  S.pending[item.client_id] = node;
  markState(node, item.state || "sending", item.error);
  return node;
}

export function markState(node, state, error) {
  node.setAttribute("data-state", state);
  const meta = node.querySelector(".meta");
  meta.textContent = "";
  meta.appendChild(el("span", { text: t(state) + (state === "failed" && error ? " · " + error : "") }));
  if (state === "failed") {
    meta.appendChild(el("button", {
      cls: "retry", type: "button", "data-testid": "kefu-retry", text: t("retry"),
      onclick: () => retry(node.getAttribute("data-client-id"))
    }));
  }
}

// -- sending

export function send(text, suggestion) {
  text = String(text || "").trim();
  if (!text) return;
  const item = { client_id: newId(), text, state: "sending" };
  if (suggestion) item.suggestion = suggestion;
  outboxPut(item);
  place(outgoing(item), Infinity);
  toBottom();
  stopTyping();
  if (S.ready) transmit(item);
  else if (!S.ws && !S.creating) {
    S.attempts = Math.min(S.attempts, 1);
    connect();
  }
}

function transmit(item) {
  const frame = { type: "message", text: item.text, client_id: item.client_id };
  if (item.suggestion) frame.suggestion = item.suggestion;
  wsSend(frame);
}

// After (re)connecting: everything not yet acknowledged goes again with the same client_id;
// the server stores each client_id once.
export function flush() {
  outbox().forEach((item) => {
    if (!S.pending[item.client_id]) place(outgoing(item), Infinity);
    if (item.state !== "failed") transmit(item);
  });
}

function retry(clientId) {
  let item = outbox().find((o) => o.client_id === clientId);
  const node = S.pending[clientId];
  if (!item && node) item = { client_id: clientId, text: node.querySelector(".bubble").textContent };
  if (!item) return;
  item.state = "sending";
  delete item.error;
  outboxPut(item);
  if (node) markState(node, "sending");
  if (S.ready) transmit(item);
  else connect();
}

export function onAck(frame) {
  const node = S.pending[frame.client_id];
  if (!node) return;
  delete S.pending[frame.client_id];
  outboxDrop(frame.client_id);
  const seq = +frame.seq;
  if (S.bySeq[seq] && S.bySeq[seq] !== node) {
    node.remove();
    return;
  }
  node.setAttribute("data-seq", seq);
  S.bySeq[seq] = node;
  markState(node, "sent");
  if (!frame.duplicate && S.state === "bot") {
    S.waitingFor = seq;
    botTyping(true);
  }
}

export function onError(frame) {
  // The message was not taken because the token no longer works: it stays in the outbox and
  // goes again once there is a working token or a new conversation.
  if (frame.code === "token_expired" || frame.code === "invalid_token") return tokenLost();
  const node = frame.client_id && S.pending[frame.client_id];
  if (node) {
    const kept = outbox().find((o) => o.client_id === frame.client_id) ||
      { client_id: frame.client_id, text: node.querySelector(".bubble").textContent };
    kept.state = "failed";
    kept.error = frame.message;
    outboxPut(kept);
    markState(node, "failed", frame.message);
    // Over the rate limit: nothing was stored; it goes again by itself when allowed.
    if (frame.code === "rate_limited" && frame.retry_after > 0) {
      setTimeout(() => retry(frame.client_id), Math.min(frame.retry_after, 300) * 1000);
    }
  }
}

// -- the bot's suggestions and the customer's ratings

export function chips(suggestions) {
  const box = el("div", { cls: "chips", role: "group", "aria-label": t("suggestions") });
  suggestions.forEach((s) => {
    box.appendChild(el("button", {
      cls: "chip", type: "button", "data-testid": "kefu-chip", "data-entry-id": s.entry_id,
      text: s.question,
      onclick: () => {
        disableChips();
        send(s.question, s.entry_id);
      }
    }));
  });
  return box;
}

export function disableChips() {
  ui.log.querySelectorAll(".chip").forEach((chip) => chip.disabled = true);
}

export function rating(seq) {
  const box = el("div", { cls: "meta", role: "group", "aria-label": t("helpful") + " / " + t("unhelpful") });
  [true, false].forEach((helpful) => {
    const label = t(helpful ? "helpful" : "unhelpful");
    box.appendChild(el("button", {
      cls: "rate", type: "button", "data-testid": helpful ? "kefu-rate-up" : "kefu-rate-down",
      "aria-label": label, title: label, "aria-pressed": S.rated[seq] === helpful,
      onclick: () => rate(seq, helpful)
    })).innerHTML = icon("up", helpful ? "" : ' style="transform:rotate(180deg)"');
  });
  return box;
}

export function markRated(seq, helpful) {
  S.rated[seq] = helpful;
  save({ rated: S.rated });
  const node = S.bySeq[seq];
  if (!node || node === true) return;
  const up = node.querySelector("[data-testid=kefu-rate-up]");
  const down = node.querySelector("[data-testid=kefu-rate-down]");
  if (up) up.setAttribute("aria-pressed", helpful === true);
  if (down) down.setAttribute("aria-pressed", helpful === false);
}

function rate(seq, helpful) {
  markRated(seq, helpful);
  if (S.ready) {
    wsSend({ type: "rate", seq, helpful });
  } else {
    api("POST", "/ratings", { seq, helpful }).catch(() => {});
  }
}

// -- the customer is typing: said at most every 3 s, and stopped after 4 s without a key

let typingAt = 0;
let typingIdle = null;
export function typed() {
  if (!S.ready || !ui.input.value.trim()) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (!S.typingSent || now - typingAt > 3000) {
    wsSend({ type: "typing", typing: true });
    S.typingSent = true;
    typingAt = now;
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, 4000);
}
export function stopTyping() {
  clearTimeout(typingIdle);
  if (S.typingSent && S.ready) wsSend({ type: "typing", typing: false });
  S.typingSent = false;
}
