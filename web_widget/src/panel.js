// Opening and closing the chat panel.

import { connect } from "./socket.js";
import { markSeen, S } from "./state.js";
import { remember } from "./storage.js";
import { badge, toBottom, ui } from "./view.js";

export function open(focus) {
  S.open = true;
  ui.panel.hidden = false;
  ui.root.classList.add("open");
  ui.launcher.setAttribute("aria-expanded", "true");
  remember(true);
  markSeen();
  badge();
  toBottom();
  if (focus !== false) {
    if (!ui.form.hidden) ui.input.focus();
    else ui.panel.querySelector("button:not([hidden])").focus();
  }
  if (S.cid && !S.ws && !S.timer) connect();
}

export function close(focusLauncher) {
  S.open = false;
  ui.panel.hidden = true;
  ui.root.classList.remove("open");
  ui.launcher.setAttribute("aria-expanded", "false");
  ui.confirm.hidden = true;
  remember(false);
  badge();
  if (focusLauncher !== false) ui.launcher.focus();
}
