// Requests whose answer only one dialog or one node uses, so the store keeps nothing of them:
// whom a chat can be transferred to, the complaint dialogs' choices, the service-language list
// and its report, revealing one masked message, and counting a suggestion used.

import { api } from "/staff/assets/api.js";

export async function transferTargets() {
  const [agents, teams] = await Promise.all([api("GET", "/api/agent/agents"), api("GET", "/api/agent/teams")]);
  return { agents: (agents && agents.agents) || [], teams: (teams && teams.teams) || [] };
}

let complaintChoices = null;

/** GET /api/agent/complaints/options: levels, categories, causes (asked once). */
export async function complaintOptions() {
  if (!complaintChoices) complaintChoices = await api("GET", "/api/agent/complaints/options");
  return complaintChoices;
}

/** Personal data is masked for agents; permitted roles may reveal one message (audited). */
export function revealEvent(conversationId, seq) {
  return api("POST", `/api/agent/conversations/${encodeURIComponent(conversationId)}/events/${seq}/reveal`);
}

export function countAssistUse(ticketId, suggestion) {
  api("POST", `/api/agent/tickets/${encodeURIComponent(ticketId)}/assist/used`, {
    kind: suggestion.kind,
    id: suggestion.id,
    rank: suggestion.rank,
  }).catch((failure) => console.warn("assist used", failure));
}

export async function phraseList() {
  const { phrases } = await api("GET", "/api/agent/service-language");
  return phrases;
}

export function phraseReport(days) {
  return api("GET", `/api/agent/service-language/report?days=${days}`);
}

/** Add a phrase, or change phrase ``id``. */
export function savePhrase(id, body) {
  return id ? api("PUT", `/api/agent/service-language/${encodeURIComponent(id)}`, body) : api("POST", "/api/agent/service-language", body);
}

export function deletePhrase(id) {
  return api("DELETE", `/api/agent/service-language/${encodeURIComponent(id)}`);
}
