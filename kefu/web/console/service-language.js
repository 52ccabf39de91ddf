// The service-language warning above the reply box. The server checks every reply against the
// list (docs/handoff.md, "Service language") and refuses one with listed phrases (422
// service_language, nothing stored or sent); this panel shows each phrase found with its
// alternatives. Clicking one puts it in the reply in place of the phrase; "Send anyway" sends
// the reply as it stands with confirm_phrases; "Edit" (or Escape) closes the panel. Nothing is
// matched here: the server's matches say where each phrase is, in code points of the text sent.

import { $, h } from "/staff/assets/dom.js";

const warning = { cid: null, matches: [], sendAnyway: null };

function input() {
  return $("#reply-input");
}

/** Show the server's matches for the reply just refused in conversation ``cid``. */
export function showPhraseWarning(cid, matches, sendAnyway) {
  warning.cid = cid;
  warning.matches = matches.map((m) => ({ ...m }));
  warning.sendAnyway = sendAnyway;
  render();
  const first = $("#phrase-warning button");
  if (first) first.focus();
}

export function hidePhraseWarning() {
  warning.cid = null;
  warning.matches = [];
  const panel = $("#phrase-warning");
  panel.hidden = true;
  panel.replaceChildren();
}

/** The panel belongs to one conversation's reply: another chat, or a note, closes it. */
export function syncPhraseWarning(cid, note) {
  if (warning.cid !== null && (warning.cid !== cid || note)) hidePhraseWarning();
}

function render() {
  const panel = $("#phrase-warning");
  const rows = warning.matches.map((match, index) =>
    h(
      "li",
      { className: "phrase-warning__item", attrs: { "data-testid": "phrase-match" } },
      h("span", { className: "phrase-warning__phrase", text: `“${match.text || match.phrase}”` }),
      match.alternatives.length
        ? h(
            "span",
            { className: "phrase-warning__alternatives" },
            h("span", { className: "visually-hidden", text: "Say instead:" }),
            match.alternatives.map((alternative) =>
              h("button", {
                className: "btn btn--small phrase-warning__alternative",
                type: "button",
                text: alternative,
                attrs: { "data-testid": "phrase-alternative", title: `Put “${alternative}” in its place` },
                on: { click: () => replace(index, alternative) },
              }),
            ),
          )
        : h("span", { className: "muted", text: "Rephrase this part." }),
    ),
  );
  panel.replaceChildren(
    h("p", { className: "phrase-warning__title", text: "Not sent: this reply has words to avoid." }),
    h("ul", { className: "phrase-warning__list" }, rows),
    h(
      "div",
      { className: "phrase-warning__actions" },
      h("button", { className: "btn btn--small btn--ghost", type: "button", text: "Edit", attrs: { "data-testid": "phrase-edit" }, on: { click: edit } }),
      h("button", { className: "btn btn--small", type: "button", text: "Send anyway", attrs: { "data-testid": "phrase-send-anyway" }, on: { click: sendAnyway } }),
    ),
  );
  panel.hidden = false;
}

function edit() {
  hidePhraseWarning();
  input().focus();
}

function sendAnyway() {
  const send = warning.sendAnyway;
  hidePhraseWarning();
  if (send) send();
}

/** Where the match is now: at the server's place if the reply still has it there, else its
 * first occurrence as written (the agent may have edited around it), else nowhere. */
function locate(chars, match) {
  if (chars.slice(match.start, match.end).join("") === match.text) return match.start;
  const found = chars.join("").indexOf(match.text);
  return found < 0 ? -1 : Array.from(chars.join("").slice(0, found)).length;
}

function replace(index, alternative) {
  const match = warning.matches[index];
  const box = input();
  const chars = Array.from(box.value);
  const start = locate(chars, match);
  const length = Array.from(match.text).length;
  if (start >= 0) {
    const inserted = Array.from(alternative);
    box.value = [...chars.slice(0, start), ...inserted, ...chars.slice(start + length)].join("");
    const shift = inserted.length - length;
    for (const other of warning.matches) {
      if (other !== match && other.start >= start + length) {
        other.start += shift;
        other.end += shift;
      }
    }
    const caret = [...chars.slice(0, start), ...inserted].join("").length;
    box.setSelectionRange(caret, caret);
  }
  warning.matches.splice(index, 1);
  if (!warning.matches.length) {
    hidePhraseWarning();
    box.focus();
    return;
  }
  render();
  $("#phrase-warning button").focus();
}

export function wirePhraseWarning() {
  $("#phrase-warning").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      edit();
    }
  });
}
