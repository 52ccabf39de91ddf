// kefu live wall: the floor for supervisors and admins, for a big screen. Plain ES modules, no
// build step. Sign-in is the staff pages' shared /staff/assets/session.js.
//
// GET /api/supervisor/wall paints it first; the socket (socket.js) then pushes each change.
// store.js holds the one state (only dispatch() changes it); tiles.js draws it, and ticks the
// waits every second between pushes. docs/handoff.md, "Live wall", describes the numbers.

import { api } from "/staff/assets/api.js";
import { session, startSession } from "/staff/assets/session.js";
import { connect, disconnect, reconnectNow } from "./socket.js";
import { dispatch, state, subscribe } from "./store.js";
import { render, renderConnection, tick } from "./tiles.js";

let ticking = null;

function notForYou(username, role) {
  if (role === "supervisor" || role === "admin") return "";
  return `The live wall is for supervisors and administrators; “${username}” is ${role === "agent" ? "an agent" : `a ${role || "staff member"}`}. Use the agent console at /console.`;
}

async function enter() {
  clearInterval(ticking);
  ticking = setInterval(() => tick(state), 1000);
  try {
    const wall = await api("GET", "/api/supervisor/wall");
    if (!state.wall) dispatch({ type: "snapshot", wall, serverTime: wall.generated_at });
  } catch {
    // The socket's first frame paints it instead.
  }
  connect();
}

function leave() {
  clearInterval(ticking);
  ticking = null;
  disconnect();
  dispatch({ type: "reset" });
}

subscribe((current, action) => (action.type === "connection" ? renderConnection(current) : render(current)));
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && session.user) reconnectNow();
});
window.addEventListener("online", reconnectNow);
startSession({
  storageKey: "kefu.wall.csrf",
  title: "kefu live wall",
  lead: "Sign in to watch the floor.",
  refuse: notForYou,
  enter,
  leave,
});
