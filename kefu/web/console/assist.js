// Agent assist: suggested replies for the customer's latest message (issue 17, item 4).
//
// The server ranks the knowledge base's answers and the canned responses with the bot's own
// retrieval (GET /api/agent/tickets/{id}/assist); a click puts one into the reply box and
// counts it (POST …/assist/used). This module is given the ticket by its callers and imports
// no other console module, so it adds no import cycle.

import { api } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";

const KIND_LABELS = { faq: "FAQ", canned: "Canned" };
const COLLAPSED_KEY = "kefu.console.assistCollapsed";
const SNIPPET_CHARS = 140;

let request = 0; // only the newest request may render
let shown = null; // {ticketId, seq} of the suggestions on screen

function collapsed() {
  try {
    return localStorage.getItem(COLLAPSED_KEY) === "1";
  } catch {
    return false;
  }
}

function setCollapsed(value) {
  try {
    localStorage.setItem(COLLAPSED_KEY, value ? "1" : "0");
  } catch {
    // private mode: the choice lasts until reload
  }
  $("#assist").classList.toggle("assist--collapsed", value);
  $("#assist-toggle").setAttribute("aria-expanded", String(!value));
  $("#assist-toggle").textContent = value ? "Show" : "Hide";
}

/** Nothing to suggest: another ticket was opened, or this one has no customer message. */
export function clearAssist() {
  request += 1;
  shown = null;
  $("#assist").hidden = true;
  $("#assist").replaceChildren();
}

/** Fetch and show the suggestions for ``ticket``'s latest customer message. */
export async function refreshAssist(ticket) {
  if (!ticket || ticket.status === "closed") {
    clearAssist();
    return;
  }
  request += 1;
  const mine = request;
  const ticketId = String(ticket.id);
  try {
    const body = await api("GET", `/api/agent/tickets/${encodeURIComponent(ticketId)}/assist`);
    if (mine !== request) return;
    if (!body || !body.suggestions || !body.suggestions.length) {
      clearAssist();
      return;
    }
    if (shown && shown.ticketId === ticketId && shown.seq === body.message_seq) return;
    shown = { ticketId, seq: body.message_seq };
    render(ticketId, body.suggestions);
  } catch (failure) {
    if (mine === request) clearAssist();
    if (failure.status !== 401 && failure.status !== 403 && failure.status !== 404) console.warn("assist", failure);
  }
}

function snippet(text) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS - 1)}…` : flat;
}

function render(ticketId, suggestions) {
  const panel = $("#assist");
  const items = suggestions.map((s) =>
    h("li", {}, [
      h(
        "button",
        {
          type: "button",
          className: "assist__item",
          title: s.text,
          dataset: { testid: "assist-suggestion", kind: s.kind, id: s.id },
          onclick: () => use(ticketId, s),
        },
        [
          h("span", { className: `assist__kind assist__kind--${s.kind}`, text: KIND_LABELS[s.kind] || s.kind }),
          h("span", { className: "assist__title", text: s.title }),
          h("span", { className: "assist__text", text: snippet(s.text) }),
        ],
      ),
    ]),
  );
  const toggle = h("button", {
    type: "button",
    id: "assist-toggle",
    className: "btn btn--ghost btn--small",
    onclick: () => setCollapsed(!collapsed()),
  });
  panel.replaceChildren(
    h("div", { className: "assist__head" }, [
      h("span", { className: "assist__label", id: "assist-label", text: "Suggested replies" }),
      h("span", { className: "assist__hint", text: "for the customer's latest message · click to insert" }),
      toggle,
    ]),
    h("ul", { className: "assist__list", attrs: { "aria-labelledby": "assist-label" } }, items),
  );
  panel.hidden = false;
  setCollapsed(collapsed());
}

/** Put the suggestion's text into the reply box at the cursor, and count it. */
function use(ticketId, suggestion) {
  const input = $("#reply-input");
  if (input.disabled) {
    toast("Claim this chat to reply with a suggestion.", "error");
    return;
  }
  if (!input.value.trim()) input.value = suggestion.text;
  else {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? start;
    const before = start > 0 && !/\s$/.test(input.value.slice(0, start)) ? " " : "";
    input.setRangeText(before + suggestion.text, start, end, "end");
  }
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.focus();
  api("POST", `/api/agent/tickets/${encodeURIComponent(ticketId)}/assist/used`, {
    kind: suggestion.kind,
    id: suggestion.id,
    rank: suggestion.rank,
  }).catch((failure) => console.warn("assist used", failure));
}
