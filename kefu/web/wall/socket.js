// The wall's WebSocket (/api/supervisor/wall/ws): a "wall" frame on connect and whenever the
// floor changes; reconnects with exponential backoff and jitter; pings so that a dead line is
// noticed (a quiet floor sends nothing).

import { api } from "/staff/assets/api.js";
import { session } from "/staff/assets/session.js";
import { dispatch } from "./store.js";

const PING_MS = 15000;
const SILENT_MS = 45000;
const line = { ws: null, attempt: 0, timer: null, pinger: null, lastFrameAt: 0 };

export function connect() {
  if (!session.user) return;
  clearTimeout(line.timer);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let ws;
  try {
    ws = new WebSocket(`${scheme}//${location.host}/api/supervisor/wall/ws`);
  } catch {
    scheduleReconnect();
    return;
  }
  line.ws = ws;
  dispatch({ type: "connection", state: line.attempt ? "reconnecting" : "connecting" });
  ws.addEventListener("message", (message) => {
    if (line.ws !== ws) return;
    line.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    if (frame.type === "wall") {
      line.attempt = 0;
      const { type: _type, server_time: serverTime, ...wall } = frame;
      dispatch({ type: "connection", state: "connected" });
      dispatch({ type: "snapshot", wall, serverTime });
    }
  });
  ws.addEventListener("open", () => {
    line.lastFrameAt = Date.now();
    clearInterval(line.pinger);
    line.pinger = setInterval(() => keepAlive(ws), PING_MS);
  });
  ws.addEventListener("close", (closed) => {
    if (line.ws !== ws) return;
    line.ws = null;
    clearInterval(line.pinger);
    if (!session.user) return;
    if (closed.code === 4401 || closed.code === 4403) {
      // The session may have ended (a 401 signs the page out) or the role changed.
      api("GET", "/api/auth/me").then(
        (me) => {
          if (me.role === "supervisor" || me.role === "admin") scheduleReconnect();
          else dispatch({ type: "connection", state: "refused" });
        },
        () => (session.user ? scheduleReconnect() : null),
      );
      dispatch({ type: "connection", state: "reconnecting" });
      return;
    }
    dispatch({ type: "connection", state: "reconnecting" });
    scheduleReconnect();
  });
}

function keepAlive(ws) {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (Date.now() - line.lastFrameAt > SILENT_MS) {
    ws.close(4000, "no answer to ping");
    return;
  }
  ws.send(JSON.stringify({ type: "ping" }));
}

function scheduleReconnect() {
  if (!session.user) return;
  clearTimeout(line.timer);
  const ceiling = Math.min(30000, 500 * 2 ** Math.min(line.attempt, 6));
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  line.attempt += 1;
  line.timer = setTimeout(connect, delay);
}

/** Connect now if the line is down (the tab came back into view, the network returned). */
export function reconnectNow() {
  if (!session.user || line.ws) return;
  line.attempt = 0;
  connect();
}

export function disconnect() {
  clearTimeout(line.timer);
  clearInterval(line.pinger);
  const ws = line.ws;
  line.ws = null;
  line.attempt = 0;
  if (ws) ws.close(1000, "signed out");
}
