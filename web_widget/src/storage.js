// What the widget keeps in the browser: the conversation and its unsent messages per server
// origin (localStorage; memory when it is unavailable), and open or not per tab.

import { KEY } from "./config.js";

let memory = {};

export function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "{}") || {};
  } catch (e) {
    return memory;
  }
}

export function save(patch) {
  const data = Object.assign(load(), patch);
  try {
    localStorage.setItem(KEY, JSON.stringify(data));
  } catch (e) {
    memory = data;
  }
  return data;
}

// Messages not yet acknowledged by the server, in the order they were written.
export function outbox() {
  return load().outbox || [];
}
export function outboxPut(item) {
  const items = outbox().filter((o) => o.client_id !== item.client_id);
  items.push(item);
  save({ outbox: items });
}
export function outboxDrop(clientId) {
  save({ outbox: outbox().filter((o) => o.client_id !== clientId) });
}

// Open or not is per tab (sessionStorage): a reload keeps it, a new tab starts closed.
export function remember(open) {
  try {
    if (open === undefined) return sessionStorage.getItem(KEY) === "open";
    sessionStorage.setItem(KEY, open ? "open" : "");
  } catch (e) { /* storage unavailable */ }
  return false;
}

export function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  let s = "";
  for (let i = 0; i < 4; i++) s += Math.floor(Math.random() * 0x100000000).toString(16);
  return s;
}
