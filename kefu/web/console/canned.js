// Canned responses: the picker above the reply box, opened by "/" or the button. The open
// ticket's responses are in the store (desk.js loads them once per ticket); which row is
// highlighted is this picker's own.

import { $, h } from "/staff/assets/dom.js";
import { loadCanned } from "./desk.js";
import { state, subscribe } from "./store.js";

let pickerIndex = 0;

/** Another chat opened: its picker starts closed. */
export function wireCanned() {
  subscribe((s) => s.selectedId, closePicker);
}

function shortcutOf(item) {
  return String(item.shortcut || "").replace(/^\//, "");
}

function slashQuery() {
  const match = /^\/([^\s/]*)$/.exec($("#reply-input").value);
  return match ? match[1].toLowerCase() : null;
}

export async function toggleCanned() {
  if (!$("#canned-picker").hidden) {
    closePicker();
    return;
  }
  await openPicker("", "button");
  $("#reply-input").focus();
}

let pickerRequest = 0;

/** Show the picker for ``query``; an older request answering late never reopens it. */
async function openPicker(query, via = "slash") {
  pickerRequest += 1;
  const request = pickerRequest;
  const ticketId = state.selectedId;
  const items = await loadCanned();
  if (request !== pickerRequest || state.selectedId !== ticketId) return;
  if (via === "slash" && slashQuery() !== query.toLowerCase()) return;
  const q = query.toLowerCase();
  const matches = items.filter((item) => !q || shortcutOf(item).toLowerCase().startsWith(q) || String(item.title || "").toLowerCase().includes(q));
  const picker = $("#canned-picker");
  pickerIndex = 0;
  if (!matches.length) {
    picker.replaceChildren(h("div", { className: "canned-empty", text: items.length ? `No canned response matches “/${query}”.` : "No canned responses yet." }));
  } else {
    picker.replaceChildren(
      ...matches.map((item, index) =>
        h(
          "button",
          {
            className: "canned",
            type: "button",
            attrs: { role: "option", "aria-selected": String(index === 0), tabindex: "-1" },
            dataset: { testid: "canned-item", cannedId: item.id, shortcut: shortcutOf(item) },
            on: {
              mousedown: (event) => event.preventDefault(),
              click: () => insertCanned(item),
            },
          },
          h("span", { className: "canned__head" }, h("span", { className: "canned__shortcut", text: `/${shortcutOf(item)}` }), h("span", { className: "canned__title", text: item.title || "" })),
          h("span", { className: "canned__text", text: item.text || "" }),
        ),
      ),
    );
  }
  picker.hidden = false;
}

export function closePicker() {
  pickerRequest += 1; // whatever is still loading must not reopen it
  const picker = $("#canned-picker");
  picker.hidden = true;
  picker.replaceChildren();
}

export function movePicker(step) {
  const options = [...document.querySelectorAll("#canned-picker [data-testid=canned-item]")];
  if (!options.length) return;
  pickerIndex = (pickerIndex + step + options.length) % options.length;
  options.forEach((node, index) => node.setAttribute("aria-selected", String(index === pickerIndex)));
  options[pickerIndex].scrollIntoView({ block: "nearest" });
}

export function pickFromPicker() {
  const options = [...document.querySelectorAll("#canned-picker [data-testid=canned-item]")];
  const chosen = options[pickerIndex];
  if (!chosen) return false;
  chosen.click();
  return true;
}

function insertCanned(item) {
  const input = $("#reply-input");
  const text = String(item.text || "");
  if (slashQuery() !== null || !input.value.trim()) {
    input.value = text;
  } else {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.value = `${input.value.slice(0, start)}${text}${input.value.slice(end)}`;
  }
  closePicker();
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
  // The reply box's own input handler takes it from here (typing notice, picker).
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

export function updatePickerFromInput() {
  const query = slashQuery();
  if (query === null) {
    // Writing anything but a "/shortcut" closes the picker, however it was opened.
    if (!$("#canned-picker").hidden || pickerRequest) closePicker();
    return;
  }
  openPicker(query);
}
