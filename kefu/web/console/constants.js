// Constants every layer may read: event kinds, labels, timings, and the desk's error messages.

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
