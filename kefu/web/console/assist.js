// Agent assist: suggested replies for the customer's latest message (issue 17, item 4).
//
// The server ranks the knowledge base's answers and the canned responses with the bot's own
// retrieval (GET /api/agent/tickets/{id}/assist, loaded into the store by desk.js); this view
// draws them above the reply box. A click puts one into the reply box and counts it
// (POST …/assist/used). Whether the panel is collapsed is this view's own (kept in localStorage).

import { $, h, toast } from "/staff/assets/dom.js";
import { countAssistUse } from "./requests.js";
import { subscribe } from "./store.js";

const KIND_LABELS = { faq: "FAQ", canned: "Canned" };
const COLLAPSED_KEY = "kefu.console.assistCollapsed";
const SNIPPET_CHARS = 140;

export function wireAssist() {
  subscribe(
    (s) => s.assist,
    (assist) => (assist ? render(assist.ticketId, assist.suggestions) : clear()),
  );
}

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

function clear() {
  $("#assist").hidden = true;
  $("#assist").replaceChildren();
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
  countAssistUse(ticketId, suggestion);
}
