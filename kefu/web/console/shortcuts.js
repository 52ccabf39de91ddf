// Keyboard: the reply box (picker, Enter to send) and the console-wide Alt shortcuts. Above the
// views it drives; no view imports it.

import { $ } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { claim } from "./actions.js";
import { closePicker, movePicker, pickFromPicker } from "./canned.js";
import { sendReply } from "./composer.js";
import { moveSelection } from "./lists.js";

export function onReplyKeydown(event) {
  const pickerOpen = !$("#canned-picker").hidden;
  if (pickerOpen) {
    if (event.key === "ArrowDown" && !event.altKey) {
      event.preventDefault();
      movePicker(1);
      return;
    }
    if (event.key === "ArrowUp" && !event.altKey) {
      event.preventDefault();
      movePicker(-1);
      return;
    }
    if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      if (pickFromPicker()) {
        event.preventDefault();
        return;
      }
    }
    if (event.key === "Escape") {
      event.preventDefault();
      closePicker();
      return;
    }
  }
  if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
  if (event.shiftKey) return; // a new line
  event.preventDefault();
  sendReply();
}

export function onGlobalKeydown(event) {
  if (!session.user || $("#workspace").hidden) return;
  if ($("#transfer-dialog").open || $("#phrases-dialog").open) return;
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      moveSelection(1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      moveSelection(-1);
    } else if (event.code === "KeyC" || event.key === "c" || event.key === "C") {
      event.preventDefault();
      claim();
    }
  } else if (event.key === "Escape" && !$("#canned-picker").hidden) {
    closePicker();
  }
}
