// The conversation's status from the server (state, queue, agent, offline, closed), read after
// connecting and after events that change it.

import { api } from "./api.js";
import { S } from "./state.js";
import { sync } from "./view.js";

// A status describes the conversation as of its last_seq: an older one (a slow response) is ignored.
export function applyStatus(st) {
  if (!st || st.conversation_id !== S.cid || st.last_seq < Math.max(S.lastSeq, S.statusSeq)) return;
  S.statusSeq = st.last_seq;
  S.state = st.state || S.state;
  S.queue = st.state === "waiting_for_agent" ? st.queue || null : null;
  S.agent = st.agent ? st.agent.display_name : null;
  S.offline = st.offline || null;
  if (st.state === "closed") {
    S.closed = S.closed || { survey: { csat: true, nps: true } };
    S.closed.reopen_until = st.reopen_until;
    if (st.feedback) S.feedback = true;
  } else {
    S.closed = null;
  }
  sync();
}

let statusTimer = null;
export function refreshStatus() {
  if (!S.cid) return;
  const cid = S.cid;
  api("GET", "/status").then((st) => {
    if (cid === S.cid) applyStatus(st);
  }, () => {});
}
export function refreshStatusSoon() {
  clearTimeout(statusTimer);
  statusTimer = setTimeout(refreshStatus, 250);
}
