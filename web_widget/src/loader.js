// Fetching the chat: the chat panel of the page's language, widget-chat.en.js or
// widget-chat.zh.js (the same modules, each with one language's texts: texts.js), from beside
// widget.js (the same origin and path), with a script tag as widget.js came, carrying widget.js's nonce if it had one: a page whose CSP lets
// widget.js run by its origin, a nonce or 'strict-dynamic' lets the chat run too.
// One fetch at a time: any number of calls while it loads wait for the same one. A failure (an
// error, or nothing after TIMEOUT_MS) is forgotten, so the next call fetches again.
//
// The chat uses the launcher's modules instead of carrying copies (build.mjs bundles it so):
// they reach it on its script tag, with this build's id, which it checks. KEFU_BUILD is that id,
// put in by the build (esbuild's define); in the URL, it also keeps caches from mixing releases.

import { LANG, script, SERVER } from "./config.js";
import { loadFailed, loading } from "./launcher.js";

const CHAT_URL = new URL("widget-chat." + LANG + ".js?v=" + KEFU_BUILD, script && script.src ? script.src : SERVER + "/").href;
const TIMEOUT_MS = 20000;

let modules = null;
let chat = null;
let fetching = null;

// main.js hands over the launcher's modules once, before anything loads.
export function share(launcherModules) {
  modules = launcherModules;
}

// The chat panel calls this as it runs: `start` builds the chat and returns what it offers
// (open, close, toggle, send, reset). A second copy of the script (one that arrived after its
// time ran out) starts nothing.
export function ready(start) {
  if (!chat) chat = start();
}

export const loaded = () => chat;

export function loadChat() {
  if (chat) return Promise.resolve(chat);
  if (fetching) return fetching;
  fetching = new Promise((resolve, reject) => {
    const tag = document.createElement("script");
    const done = () => {
      clearTimeout(timer);
      tag.onload = tag.onerror = null;
      fetching = null;
      if (chat) return resolve(chat);
      tag.remove();
      reject(new Error("kefu widget: " + CHAT_URL + " did not load"));
    };
    const timer = setTimeout(done, TIMEOUT_MS);
    tag.onload = tag.onerror = done;
    tag.kefu = { build: KEFU_BUILD, modules };
    if (script && script.nonce) tag.nonce = script.nonce;
    tag.src = CHAT_URL;
    (document.head || document.documentElement).appendChild(tag);
  });
  return fetching;
}

// The customer or the page asked for the chat: use it once it is there. While it loads the
// launcher says it is busy; if it cannot load, a note says so until the next try.
export function withChat(use) {
  loadFailed(false);
  if (!chat) loading(true);
  return loadChat().then(use, (error) => {
    loadFailed(true);
    if (window.console) console.warn(error.message);
  }).finally(() => loading(false));
}
