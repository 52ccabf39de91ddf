// The texts in English and Chinese and t() to fill them in. Here only the launcher's; the
// chat's join them when the chat panel runs (texts.js; each panel has its language's only).

import { LANG } from "./config.js";

const STRINGS = {
  en: {
    open: "Open chat", openUnread: "Open chat, {n} unread", minimize: "Minimize chat",
    unread: "{n} unread messages", loadFailed: "The chat could not be loaded. Please try again."
  },
  zh: {
    open: "打开客服对话", openUnread: "打开客服对话，{n} 条未读", minimize: "收起对话",
    unread: "{n} 条未读消息", loadFailed: "客服对话加载失败，请重试。"
  }
};

export function addTexts(texts) {
  Object.keys(texts).forEach((lang) => Object.assign(STRINGS[lang], texts[lang]));
}

export function t(key, values) {
  return String(STRINGS[LANG][key] || STRINGS.en[key] || key).replace(/\{(\w+)\}/g, (whole, name) => {
    return values && values[name] != null ? String(values[name]) : whole;
  });
}
