// The open ticket's actions: claim, hand back, close, and the transfer dialog. desk.js makes the
// requests and refetches the lists and the ticket; this view handles the buttons and the dialog.

import { $, h, toast } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { describe } from "./constants.js";
import { ticketAction, transferTicket } from "./desk.js";
import { transferTargets } from "./requests.js";
import { currentTicket } from "./store.js";

export function wireActions() {
  $("#claim").addEventListener("click", claim);
  $("#handback").addEventListener("click", () => act("handback", "Handed back to the bot."));
  $("#close-chat").addEventListener("click", () => act("close", "Conversation closed."));
  $("#transfer").addEventListener("click", openTransfer);
  $("#transfer-form").addEventListener("submit", submitTransfer);
  $("#transfer-cancel").addEventListener("click", () => $("#transfer-dialog").close());
  for (const radio of document.querySelectorAll("input[name=transfer-kind]")) {
    radio.addEventListener("change", () => {
      const team = transferKind() === "team";
      $("#transfer-agent-field").hidden = team;
      $("#transfer-team-field").hidden = !team;
    });
  }
}

export async function claim() {
  const ticket = currentTicket();
  if (!ticket || $("#claim").hidden) return;
  $("#claim").disabled = true;
  try {
    await ticketAction(ticket, "claim");
    toast("You claimed this chat.");
    $("#reply-input").focus();
  } catch (failure) {
    toast(describe(failure), "error");
  } finally {
    $("#claim").disabled = false;
  }
}

async function act(action, done) {
  const ticket = currentTicket();
  if (!ticket) return;
  try {
    await ticketAction(ticket, action);
    toast(done);
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

// Transfer ----------------------------------------------------------------------------

async function openTransfer() {
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
    const { agents, teams } = await transferTargets();
    const others = agents.filter((a) => !session.user || a.username !== session.user.username);
    const order = { online: 0, away: 1, offline: 2 };
    others.sort((a, b) => (order[a.presence] ?? 3) - (order[b.presence] ?? 3) || String(a.display_name).localeCompare(String(b.display_name)));
    agentSelect.replaceChildren(
      ...(others.length
        ? others.map((a) => h("option", { value: a.username, text: `${a.display_name || a.username} — ${a.presence || "offline"}${typeof a.active_chats === "number" ? `, ${a.active_chats}/${a.max_chats ?? "?"} chats` : ""}` }))
        : [h("option", { value: "", text: "No other agents" })]),
    );
    const teamNames = teams.map((t) => (typeof t === "string" ? t : t.name));
    teamSelect.replaceChildren(...(teamNames.length ? teamNames.map((t) => h("option", { value: t, text: t, selected: t === ticket.team })) : [h("option", { value: "", text: "No teams" })]));
  } catch (failure) {
    showTransferError(describe(failure));
  }
}

function transferKind() {
  const chosen = document.querySelector("input[name=transfer-kind]:checked");
  return chosen ? chosen.value : "agent";
}

function showTransferError(message) {
  const node = $("#transfer-error");
  node.textContent = message;
  node.hidden = false;
}

async function submitTransfer(event) {
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
    await transferTicket(ticket, body);
    $("#transfer-dialog").close();
    toast(kind === "agent" ? "Transferred." : `Transferred to team ${target}.`);
  } catch (failure) {
    showTransferError(describe(failure));
  } finally {
    $("#transfer-submit").disabled = false;
  }
}
