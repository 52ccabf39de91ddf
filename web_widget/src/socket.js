// The WebSocket: connecting (starting the conversation or rotating its token first when
// needed), reconnecting with backoff, pings, and a token that stopped working.
//
// What the frames mean is not this module's business: main.js sets hooks.frame (events.js) and
// hooks.gone (conversation.js, for a conversation the server no longer has for this browser).

import { BACKOFF_BASE, BACKOFF_MAX, LOST_GRACE_MS, SERVER } from "./config.js";
import { conversationUrl, create, keepToken, request } from "./api.js";
import { S } from "./state.js";
import { load, outbox, save } from "./storage.js";
import { t } from "./texts.js";
import { botTyping, notice, setConn } from "./view.js";

export const hooks = { frame() {}, gone() {} };

export function wsSend(frame) {
  if (!S.ws || !S.ready) return false;
  try {
    S.ws.send(JSON.stringify(frame));
    return true;
  } catch (e) {
    return false;
  }
}

const connecting = () => setConn(S.attempts ? "reconnecting" : "connecting");

export function connect() {
  clearTimeout(S.timer);
  S.timer = null;
  if (S.ws) return;
  if (!S.cid) {
    if (!outbox().length) return;
    connecting();
    create().then(connect, scheduleReconnect);
    return;
  }
  if (S.rotating) return;
  if (rotationDue()) {
    connecting();
    rotateToken().then(connect, () => {});
    return;
  }
  // The token goes in the subprotocol header, never in the URL, which servers and proxies log.
  const url = SERVER.replace(/^http/i, "ws") + "/api/chat/ws?conversation_id=" +
    encodeURIComponent(S.cid) + "&last_seq=" + S.lastSeq;
  let ws;
  try {
    ws = new WebSocket(url, ["kefu.v1", "kefu.token." + S.token]);
  } catch (e) {
    scheduleReconnect();
    return;
  }
  S.ws = ws;
  connecting();
  ws.onmessage = (message) => {
    if (S.ws !== ws) return;
    S.lastFrame = Date.now();
    let frame;
    try { frame = JSON.parse(message.data); } catch (e) { return; }
    hooks.frame(frame);
  };
  ws.onclose = (event) => {
    if (S.ws !== ws) return;
    dropped();
    if (event.code === 4401) return tokenLost();
    if (event.code === 4404) return hooks.gone();
    if (event.code === 4403) return notice(t("error")); // this site may not embed the chat
    scheduleReconnect();
  };
}

export function dropped() {
  const ws = S.ws;
  S.ws = null;
  S.ready = false;
  S.typingSent = false;
  botTyping(false);
  if (ws) {
    ws.onmessage = ws.onclose = null;
    try { ws.close(); } catch (e) { /* already closed */ }
  }
}

function scheduleReconnect() {
  clearTimeout(S.timer);
  setConn(navigator.onLine === false ? "offline" : "reconnecting");
  // Exponential backoff with jitter: half the step plus a random part of the other half.
  const step = Math.min(BACKOFF_MAX, BACKOFF_BASE * Math.pow(2, S.attempts));
  S.attempts = Math.min(S.attempts + 1, 20);
  S.timer = setTimeout(connect, step / 2 + Math.random() * step / 2);
}

// A dead connection does not always say so: ping when quiet, and reconnect if nothing answers.
export function keepAlive() {
  setInterval(() => {
    if (!S.ws || !S.ready) return;
    const quiet = Date.now() - S.lastFrame;
    if (quiet > 45000) {
      dropped();
      scheduleReconnect();
    } else if (quiet > 20000) {
      wsSend({ type: "ping" });
    }
  }, 10000);
}

// -- the token: rotated once half its life has passed, before connecting

function rotationDue() {
  return S.cid && S.token && !S.rotating && Date.now() >= S.rotateAfter;
}

function rotateToken() {
  const cid = S.cid, token = S.token;
  S.rotating = request("POST", conversationUrl(cid) + "/token", null, token).then((data) => {
    S.rotating = null;
    if (cid !== S.cid || token !== S.token) return; // forgotten, or another tab's token taken
    keepToken(data);
    save({ token: S.token, rotate: S.rotateAfter });
  }, (err) => {
    S.rotating = null;
    if (cid !== S.cid || token !== S.token) return;
    if (err && err.status === 401) tokenLost();
    else if (err && err.status === 404) hooks.gone();
    else scheduleReconnect();
    throw err;
  });
  return S.rotating;
}

// Another tab rotated the token: use the new one.
export function adopt(data) {
  clearTimeout(S.lostTimer);
  dropped();
  S.token = data.token;
  S.rotateAfter = data.rotate || 0;
  S.attempts = 0;
  connect();
}

// The token stopped working: another tab rotated it (take its new one), or it expired (start
// a new conversation with the unsent messages; the old one is no longer reachable).
export function tokenLost() {
  dropped();
  clearTimeout(S.lostTimer);
  const cid = S.cid, token = S.token;
  const settle = () => {
    const data = load();
    if (cid !== S.cid || token !== S.token) return;
    if (data.cid === cid && data.token && data.token !== token) adopt(data);
    else hooks.gone();
  };
  const data = load();
  if (data.cid === cid && data.token && data.token !== token) adopt(data);
  // Another tab's rotation closes this socket a moment before that tab stores its new token.
  else S.lostTimer = setTimeout(settle, LOST_GRACE_MS);
}
