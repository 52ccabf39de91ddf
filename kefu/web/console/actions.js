// Actions on the open ticket: claim, hand back, close, transfer.

import { api } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { stopTyping } from "./composer.js";
import { currentTicket } from "./conversations.js";
import { refreshLists } from "./lists.js";
import { describe, state } from "./state.js";
import { refreshDetail, renderHeader } from "./ticket.js";

export async function claim() {
  const ticket = currentTicket();
  if (!ticket || $("#claim").hidden) return;
  $("#claim").disabled = true;
  try {
    const claimed = await api("POST", `/api/agent/tickets/${encodeURIComponent(ticket.id)}/claim`);
    if (claimed && claimed.id !== undefined && state.detail && String(claimed.id) === state.selectedId) state.detail.ticket = claimed;
    renderHeader();
    toast("You claimed this chat.");
    $("#reply-input").focus();
  } catch (failure) {
    toast(describe(failure), "error");
  } finally {
    $("#claim").disabled = false;
    refreshLists();
    refreshDetail();
  }
}

export async function ticketAction(action, done) {
  const ticket = currentTicket();
  if (!ticket) return;
  try {
    const updated = await api("POST", `/api/agent/tickets/${encodeURIComponent(ticket.id)}/${action}`);
    if (updated && updated.id !== undefined && state.detail && String(updated.id) === state.selectedId) state.detail.ticket = updated;
    stopTyping();
    renderHeader();
    toast(done);
  } catch (failure) {
    toast(describe(failure), "error");
  } finally {
    refreshLists();
    refreshDetail();
  }
}
// Transfer ----------------------------------------------------------------------------

export async function openTransfer() {
  const ticket = currentTicket();
  if (!ticket) return;
  const dialog = $("#transfer-dialog");
  $("#transfer-error").hidden = true;
  $("#transfer-note").value = "";
  const agentSelect = $("#transfer-agent");
  const teamSelect = $("#transfer-team");
  agentSelect.replaceChildren(h("option", { text: "Loading…", value: "" }));
  teamSelect.replaceChildren(h("option", { text: "Loading…", value: "" }));
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
  try {
    const [agents, teams] = await Promise.all([api("GET", "/api/agent/agents"), api("GET", "/api/agent/teams")]);
    const others = ((agents && agents.agents) || []).filter((a) => !session.user || a.username !== session.user.username);
    const order = { online: 0, away: 1, offline: 2 };
    others.sort((a, b) => (order[a.presence] ?? 3) - (order[b.presence] ?? 3) || String(a.display_name).localeCompare(String(b.display_name)));
    agentSelect.replaceChildren(
      ...(others.length
        ? others.map((a) => h("option", { value: a.username, text: `${a.display_name || a.username} — ${a.presence || "offline"}${typeof a.active_chats === "number" ? `, ${a.active_chats}/${a.max_chats ?? "?"} chats` : ""}` }))
        : [h("option", { value: "", text: "No other agents" })]),
    );
    const teamNames = ((teams && teams.teams) || []).map((t) => (typeof t === "string" ? t : t.name));
    teamSelect.replaceChildren(...(teamNames.length ? teamNames.map((t) => h("option", { value: t, text: t, selected: t === ticket.team })) : [h("option", { value: "", text: "No teams" })]));
  } catch (failure) {
    showTransferError(describe(failure));
  }
}

export function transferKind() {
  const chosen = document.querySelector("input[name=transfer-kind]:checked");
  return chosen ? chosen.value : "agent";
}

function showTransferError(message) {
  const node = $("#transfer-error");
  node.textContent = message;
  node.hidden = false;
}

export async function submitTransfer(event) {
  event.preventDefault();
  const ticket = currentTicket();
  if (!ticket) return;
  const kind = transferKind();
  const target = kind === "agent" ? $("#transfer-agent").value : $("#transfer-team").value;
  if (!target) {
    showTransferError(kind === "agent" ? "Pick an agent." : "Pick a team.");
    return;
  }
  const body = kind === "agent" ? { to_agent: target } : { to_team: target };
  const note = $("#transfer-note").value.trim();
  if (note) body.note = note;
  $("#transfer-submit").disabled = true;
  try {
    await api("POST", `/api/agent/tickets/${encodeURIComponent(ticket.id)}/transfer`, body);
    $("#transfer-dialog").close();
    stopTyping();
    toast(kind === "agent" ? "Transferred." : `Transferred to team ${target}.`);
  } catch (failure) {
    showTransferError(describe(failure));
  } finally {
    $("#transfer-submit").disabled = false;
    refreshLists();
    refreshDetail();
  }
}
