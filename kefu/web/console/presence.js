// The agent's own presence: loaded on entry and on reconnect, changed from the header.

import { api } from "/staff/assets/api.js";
import { $, toast } from "/staff/assets/dom.js";
import { refreshLists } from "./lists.js";
import { askNotificationPermission, unlockAudio } from "./notify.js";
import { describe, state } from "./state.js";

let presenceVersion = 0;

export async function loadAgent() {
  const version = presenceVersion;
  try {
    const agent = await api("GET", "/api/agent/me");
    // A change the agent made meanwhile wins over this older answer.
    if (version !== presenceVersion) return;
    state.agent = agent;
    showPresence(agent.presence);
  } catch (failure) {
    if (failure.status !== 401) toast(`Could not load your agent profile: ${describe(failure)}`, "error");
  }
}

export function showPresence(presence) {
  const value = presence || "offline";
  $("#presence").value = value;
  $("#presence-dot").dataset.presence = value;
}

export async function changePresence() {
  const select = $("#presence");
  const wanted = select.value;
  const before = state.agent ? state.agent.presence : null;
  presenceVersion += 1;
  const version = presenceVersion;
  unlockAudio();
  if (wanted === "online") askNotificationPermission();
  try {
    const agent = await api("PUT", "/api/agent/me/presence", { presence: wanted });
    if (version !== presenceVersion) return;
    state.agent = agent;
    showPresence(agent.presence || wanted);
    refreshLists();
  } catch (failure) {
    if (version !== presenceVersion) return;
    showPresence(before);
    toast(`Presence not changed: ${describe(failure)}`, "error");
  }
}
