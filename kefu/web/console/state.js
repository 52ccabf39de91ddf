// Constants and the console's one mutable state object, shared by every module.

import { describe as describeError } from "/staff/assets/api.js";

export const BASE_TITLE = "kefu console";
export const LIFECYCLE = new Set([
  "conversation.escalated",
  "agent.joined",
  "agent.left",
  "conversation.transferred",
  "conversation.returned_to_bot",
  "conversation.closed",
  "conversation.reopened",
  "offline_message.received",
]);
export const REASONS = {
  asked_for_person: "asked for a person",
  negative_sentiment: "negative sentiment",
  worsening_sentiment: "worsening sentiment",
  repeated_misses: "repeated misses",
  intent_rule: "intent rule",
};
export const FACT_LABELS = { order_number: "Order", email: "Email", phone: "Phone", amount: "Amount", card: "Card", national_id: "ID number", iban: "IBAN" };
// What the desk's refusals mean to the agent; the shared describe() knows the rest.
const DESK_ERRORS = {
  already_claimed: "Another agent has already claimed this chat.",
  at_capacity: "You are at your maximum number of chats.",
  reveal_forbidden: "Your role may not reveal personal data.",
};
export const TYPING_THROTTLE_MS = 2500;
export const TYPING_IDLE_MS = 4000;
export const TYPING_SHOW_MS = 8000;
export const LIST_POLL_MS = 20000;

export const describe = (failure) => describeError(failure, DESK_ERRORS);

export const state = {
  agent: null, // Agent from /api/agent/me
  lists: { mine: [], queue: [], offline: [] },
  listsLoaded: false,
  known: new Set(), // ticket ids seen in the lists since login
  fresh: new Set(), // new tickets the agent has not opened yet
  unread: new Set(), // conversation ids with customer messages not yet seen
  selectedId: null,
  detail: null, // {ticket, context}
  convs: new Map(), // conversation id -> {events: Map<seq, Event>, lastSeq, pending: Map, loaded}
  subscribed: new Set(),
  ws: null,
  wsAttempt: 0,
  wsTimer: null,
  lastFrameAt: 0,
  skewMs: 0, // browser clock minus server clock, estimated from queued tickets
  canned: null,
  cannedFor: null,
  drafts: new Map(), // ticket id -> unsent text
  pickerIndex: 0,
  typingSentAt: 0,
  typingOn: false,
  typingIdle: null,
  typingShown: null,
  intervals: [],
  audio: null,
};
