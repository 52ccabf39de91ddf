// The launcher: the Shadow DOM on <kefu-widget>, the round button with its unread badge, and
// the note that says the chat could not be loaded. The chat panel (widget-chat.en.js or
// widget-chat.zh.js) adds itself to the same Shadow DOM and to `ui` when it loads (view.js).
//
// The page's accent colour is used as given, or darkened until white text on it passes WCAG AA
// (a console warning says so).

import { attr, LOCALE, POSITION } from "./config.js";
import { S } from "./state.js";
import { t } from "./strings.js";
import CSS from "./launcher.css";

// Made as the script runs; buildLauncher() fills them in.
export const host = document.createElement("kefu-widget");
export const shadow = host.attachShadow({ mode: "open" });
export const ui = {};
export const $ = (selector) => shadow.querySelector(selector);

// Icons are inline SVG, stroked in the text colour.
export const svg = (paths, extra) =>
  `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"${extra || ""}>${paths}</svg>`;
export const CHAT_ICON = svg('<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/>');

function accentColour(value) {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value || "");
  let hex = m ? m[1] : "0a7cff";
  if (hex.length === 3) hex = hex.replace(/./g, "$&$&");
  let rgb = [0, 2, 4].map((i) => parseInt(hex.substr(i, 2), 16));
  const luminance = (c) => {
    const l = c.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  let n = 0;
  for (; n < 40 && 1.05 / (luminance(rgb) + 0.05) < 4.6; n++) {
    rgb = rgb.map((v) => Math.round(v * 0.92));
  }
  const colour = "rgb(" + rgb.join(",") + ")";
  if (n && m) {
    console.warn("kefu widget: data-accent #" + m[1] + " darkened to " + colour +
      " so that white text on it has a contrast of at least 4.5:1 (WCAG AA)");
  }
  return colour;
}

// Static markup only: the texts go in as textContent and attributes.
export function buildLauncher() {
  shadow.innerHTML = `<style>${CSS}.kw{--ac:${accentColour(attr("accent"))}}</style>
<div class="kw${POSITION === "left" ? " left" : ""}">
<button class="launcher" type="button" data-testid="kefu-launcher" aria-expanded="false" aria-controls="kefu-panel">${CHAT_ICON}<span class="badge" data-testid="kefu-badge" hidden></span></button>
<p class="failed" data-testid="kefu-load-error" role="alert" hidden></p></div>`;
  Object.assign(ui, { root: $(".kw"), launcher: $(".launcher"), badge: $(".badge"), failed: $(".failed") });
  ui.root.setAttribute("lang", LOCALE);
  badge();
}

export function badge() {
  const n = S.open ? 0 : S.unread;
  ui.badge.hidden = !n;
  ui.badge.textContent = n > 99 ? "99+" : String(n);
  ui.badge.setAttribute("aria-label", t("unread", { n }));
  ui.launcher.setAttribute("aria-label", S.open ? t("minimize") : n ? t("openUnread", { n }) : t("open"));
}

// While the chat loads for a customer who asked for it, and when it could not.
export function loading(on) {
  if (on) ui.launcher.setAttribute("aria-busy", "true");
  else ui.launcher.removeAttribute("aria-busy");
}
export function loadFailed(failed) {
  ui.failed.textContent = failed ? t("loadFailed") : "";
  ui.failed.hidden = !failed;
}
