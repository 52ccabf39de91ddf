// The one state object the modules share: the conversation, its connection and what is shown.
// Starts from what this browser kept (storage.js).

import { load, save } from "./storage.js";

export const S = {
  cid: null,
  token: null,
  // When to rotate the token (ms); 0 (a token stored before tokens expired) means now.
  rotateAfter: 0,
  rotating: null,
  lostTimer: null,
  seen: 0,
  lastSeq: 0,
  bySeq: {},
  pending: {},
  state: "bot",
  agent: null,
  lastAgent: null,
  queue: null,
  offline: null,
  offlineSent: false,
  closed: null,
  feedback: false,
  // The follow-up survey's question for this conversation (follow-up.js), and the conversation
  // it was fetched for.
  followUp: null,
  followUpFor: null,
  ws: null,
  ready: false,
  attempts: 0,
  timer: null,
  creating: null,
  // This tab told the agent that the customer is typing (and has not yet said it stopped).
  typingSent: false,
  open: false,
  unread: 0,
  waitingFor: 0,
  lastFrame: 0,
  statusSeq: 0,
  rated: {}
};

// The conversation this browser kept: read as the page loads, and again when the chat loads
// later (another tab may have started or rotated one since).
export function restore() {
  const stored = load();
  Object.assign(S, { cid: stored.cid || null, token: stored.token || null,
    rotateAfter: stored.rotate || 0, seen: stored.seen || 0, rated: stored.rated || {} });
}
restore();

export function markSeen() {
  if (S.lastSeq > S.seen) {
    S.seen = S.lastSeq;
    save({ seen: S.seen });
  }
  S.unread = 0;
}
