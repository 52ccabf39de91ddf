// The top bar's live parts: the agent's own presence (loaded on entry and on reconnect, changed
// from the header) and the state of the realtime connection, both drawn from the store.

import { $, toast } from "/staff/assets/dom.js";
import { describe } from "./constants.js";
import { setPresence } from "./desk.js";
import { askNotificationPermission, unlockAudio } from "./notify.js";
import { state, subscribe } from "./store.js";

export function wirePresence() {
  subscribe((s) => s.agent && s.agent.presence, showPresence);
  subscribe((s) => s.connection, showConnection);
  $("#presence").addEventListener("change", changePresence);
}

export function showPresence(presence) {
  const value = presence || "offline";
  $("#presence").value = value;
  $("#presence-dot").dataset.presence = value;
}

function showConnection(value) {
  const node = $("#connection");
  node.dataset.state = value;
  node.textContent = value;
}

async function changePresence() {
  const wanted = $("#presence").value;
  const before = state.agent ? state.agent.presence : null;
  unlockAudio();
  if (wanted === "online") askNotificationPermission();
  try {
    await setPresence(wanted);
  } catch (failure) {
    showPresence(before);
    toast(`Presence not changed: ${describe(failure)}`, "error");
  }
}
