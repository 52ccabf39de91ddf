/*! kefu web widget, Apache-2.0. Built from web_widget/src by esbuild; docs/protocol.md */
// The entry point of widget.js, the script a page embeds: it shows the launcher, defines
// window.KefuWidget (the one global), and loads the chat panel in the page's language,
// widget-chat.en.js or widget-chat.zh.js (entry chat.js), when it is wanted: on the first open,
// or at once when this browser has a conversation to resume (its socket counts unread messages
// while the panel is closed). A pointer over the launcher or focus on it starts the fetch
// early, so the panel opens at once on the click.
//
// Embedding, with one script tag (every data-attribute is optional):
//   <script src="https://host/widget.js" data-server="https://host" data-language="auto|en|zh"
//     data-title="..." data-greeting="..." data-accent="#0a7cff" data-position="right|left"
//     data-customer-name="..." data-customer-email="..." data-bot-name="..." data-max-chars="2000"
//     async></script>
// The chat panel is fetched from beside widget.js. data-mount="none" loads the renderer only
// (the staff consoles render markdown-lite with it). An accent too light for white text on it
// is darkened until it reaches WCAG AA (a console warning says so). A signed-in customer's
// identity, signed by the site's server (docs/security.md, "Signed identity"):
// data-customer-id, -email, -name, -tier, -expires and data-customer-hash. Renders in a Shadow
// DOM on <kefu-widget>. Protocol: docs/protocol.md and docs/handoff.md.
//
// Modules, each importing only those above it in this list (tests/web_widget checks there is
// no cycle). In widget.js: config (the script tag's data-attributes), strings (t() and the
// launcher's texts), storage, dom (el and markdown-lite), state (the one shared state object
// S), launcher (the Shadow DOM, the button and badge), loader (fetching the chat), and this one.
// In the chat panel (widget-chat.en.js, widget-chat.zh.js), which takes those from widget.js:
// texts (the chat's), template, view (the panel, the log, cards, sync), api (REST), socket
// (WebSocket, reconnect, token), status, messages (what the customer sends), events (frames and
// events from the server), offline, survey and follow-up (cards, added to sync as parts),
// conversation, panel (open and close), composer, and chat (its entry).

import { attr, KEY } from "./config.js";
import { markdown } from "./dom.js";
import { buildLauncher, host, ui } from "./launcher.js";
import { loadChat, loaded, share, withChat } from "./loader.js";
import { S } from "./state.js";
import { load, outbox, remember } from "./storage.js";
// The same modules as wholes, for the chat panel.
import * as config from "./config.js";
import * as dom from "./dom.js";
import * as launcher from "./launcher.js";
import * as loader from "./loader.js";
import * as state from "./state.js";
import * as storage from "./storage.js";
import * as strings from "./strings.js";

function start() {
  buildLauncher();
  // Every module of this bundle, by file name: the chat panel takes them from here (build.mjs
  // resolves its imports of them so, and tests/web_widget checks this list is whole).
  share({
    "config.js": config, "dom.js": dom, "launcher.js": launcher, "loader.js": loader,
    "state.js": state, "storage.js": storage, "strings.js": strings
  });
  const close = () => {
    if (loaded()) loaded().close(false);
  };
  const open = () => withChat((chat) => chat.open());
  window.KefuWidget = {
    // Renders markdown-lite exactly as the chat shows it, as safe DOM nodes under `parent`.
    renderMarkdown: (text, parent) => markdown(text, parent),
    open,
    close,
    toggle: () => (S.open ? close() : open()),
    send: (text) => withChat((chat) => chat.send(text)),
    reset: () => {
      // Nothing to forget without a chat or a conversation.
      if (loaded() || S.cid || outbox().length) withChat((chat) => chat.reset());
    },
    get conversationId() { return S.cid; },
    get connected() { return S.ready; }
  };
  if (attr("mount") !== "none") {
    if (document.body) mount();
    else document.addEventListener("DOMContentLoaded", mount);
  }
}

function mount() {
  document.body.appendChild(host);
  if (remember()) {
    // Open in this tab before a reload: the launcher shows once the panel is back open.
    ui.launcher.hidden = true;
    withChat(() => {}).then(() => ui.launcher.hidden = false);
  } else if (S.cid || outbox().length) {
    loadChat().catch(() => {});
  }
  const early = () => loadChat().catch(() => {});
  ui.launcher.addEventListener("pointerenter", early);
  ui.launcher.addEventListener("focus", early);
  ui.launcher.addEventListener("click", () => {
    if (loaded()) loaded().toggle();
    else withChat((chat) => chat.open());
  });
  // Another tab started a conversation: load the chat to follow it (it listens from then on).
  window.addEventListener("storage", (e) => {
    if (e.key === KEY && !loaded() && load().cid) loadChat().catch(() => {});
  });
}

// A page that loads the script twice gets one widget.
if (!window.KefuWidget) start();
