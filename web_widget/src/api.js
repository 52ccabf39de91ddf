// The chat's REST calls: starting a conversation, and the calls on it with its token.

import { CUSTOMER, LANG, SERVER } from "./config.js";
import { S } from "./state.js";
import { save } from "./storage.js";
import { parseTime } from "./texts.js";

// JSON in and out; a refusal rejects with the server's message, status and error code.
export function request(method, url, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  return fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined,
    credentials: "omit", mode: "cors" })
    .then((response) => response.text().then((raw) => {
      let data = null;
      try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
      if (!response.ok) {
        const err = new Error((data && data.error && data.error.message) || response.statusText);
        err.status = response.status;
        err.code = data && data.error ? data.error.code : null;
        throw err;
      }
      return data;
    }));
}

export const conversationUrl = (cid) => SERVER + "/api/chat/conversations/" + encodeURIComponent(cid);

export function api(method, path, body) {
  return request(method, conversationUrl(S.cid) + path, body, S.token);
}

export function create(unsigned) {
  if (S.creating) return S.creating;
  const body = { language: LANG };
  if (CUSTOMER.name) body.name = CUSTOMER.name;
  if (CUSTOMER.email) body.email = CUSTOMER.email;
  if (CUSTOMER.tier === "standard" || CUSTOMER.tier === "vip") body.tier = CUSTOMER.tier;
  if (CUSTOMER.hash && !unsigned) {
    body.identity_hash = CUSTOMER.hash;
    if (CUSTOMER.id) body.external_id = CUSTOMER.id;
    if (CUSTOMER.expires) body.identity_expires = +CUSTOMER.expires;
  }
  S.creating = request("POST", SERVER + "/api/chat/conversations", body).then((data) => {
    S.creating = null;
    S.cid = data.conversation_id;
    keepToken(data);
    save({ cid: S.cid, token: S.token, rotate: S.rotateAfter, seen: 0 });
    return data;
  }, (err) => {
    S.creating = null;
    // A signature the server refuses (expired, another secret): the customer chats on, and
    // the claims go unsigned, shown to agents as unverified.
    if (body.identity_hash && err && /^identity_/.test(err.code || "")) {
      if (window.console) console.warn("kefu: " + err.message);
      return create(true);
    }
    throw err;
  });
  return S.creating;
}

// The token expires; it is rotated once half its life has passed (socket.js, before
// connecting), counted from this browser's clock, which may be hours or days off the server's.
export function keepToken(data) {
  S.token = data.token;
  const rotateIn = Number(data.token_rotate_in_seconds);
  S.rotateAfter = isFinite(rotateIn) ? Date.now() + rotateIn * 1000
    : parseTime(data.token_rotate_after) || 0;
}
