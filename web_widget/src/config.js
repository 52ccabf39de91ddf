// The script tag's data-attributes and the fixed numbers. This module reads
// document.currentScript, which is set only while the script first runs: the bundle runs every
// module's top level in that one synchronous pass, and main.js imports this module first.

export const script = document.currentScript || (() => {
  const all = document.getElementsByTagName("script");
  for (let i = all.length - 1; i >= 0; i--) {
    if (/\/widget\.js([?#]|$)/.test(all[i].src)) return all[i];
  }
  return null;
})();

export function attr(name) {
  const value = script && script.getAttribute("data-" + name);
  return value && value.trim() ? value.trim() : "";
}

export const SERVER = (attr("server") ||
  (script && script.src ? new URL(script.src, location.href).origin : location.origin))
  .replace(/\/+$/, "");
export const LANG = (() => {
  const wanted = attr("language").toLowerCase();
  if (wanted === "en" || wanted === "zh") return wanted;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return /^zh\b/i.test(nav) ? "zh" : "en";
})();
// For the lang attribute and for numbers and times written in the customer's language.
export const LOCALE = LANG === "zh" ? "zh-CN" : "en";
export const POSITION = attr("position") === "left" ? "left" : "right";
// The server's KEFU_MAX_MESSAGE_CHARS; set data-max-chars when the server's differs.
export const MAX_CHARS = Math.max(1, parseInt(attr("max-chars"), 10) || 2000);
export const CUSTOMER = { name: attr("customer-name"), email: attr("customer-email"),
  id: attr("customer-id"), tier: attr("customer-tier"), expires: attr("customer-expires"),
  hash: attr("customer-hash") };
// data-bot-name: what the bot is called in the chat (default "Assistant", 智能助手).
export const BOT_NAME = attr("bot-name");
// localStorage (per server origin) and sessionStorage key.
export const KEY = "kefu:v1:" + SERVER;
export const BACKOFF_BASE = 500;
export const BACKOFF_MAX = 8000;
// How long a tab whose token stopped working waits for another tab's rotated token to arrive.
export const LOST_GRACE_MS = 1500;
