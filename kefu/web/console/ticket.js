// The open ticket's pane: shown once a ticket is selected, its header (who, status, waiting
// time, the actions the agent may take), the offline message's card, and the address (#ticket=…)
// that reopens it after a reload. Drawn from the store.

import { $, h } from "/staff/assets/dom.js";
import { channelBadge, priorityBadge, rich } from "./rich.js";
import { canAct, customerName, isMine, offlineInfo, waitText } from "./selectors.js";
import { currentTicket, subscribe } from "./store.js";

export function wireTicket() {
  subscribe((s) => s.selectedId, showPane);
  subscribe((s) => currentTicket(s), renderHeader);
}

function showPane(id) {
  $("#chat-empty").hidden = Boolean(id);
  $("#chat").hidden = !id;
  if (id && location.hash !== `#ticket=${id}`) history.replaceState(null, "", `#ticket=${encodeURIComponent(id)}`);
}

function renderHeader(ticket) {
  if (!ticket) return;
  const customer = ticket.customer || {};
  const name = customerName(ticket);
  $("#chat-avatar").textContent = Array.from(name)[0].toUpperCase();
  $("#chat-name").textContent = name;
  const status = ticket.status || "queued";
  const meta = [
    priorityBadge(ticket.priority),
    h("span", { className: `badge badge--${status === "active" ? "status" : status}`, text: status, dataset: { testid: "status" } }),
  ];
  if (ticket.sla_breached) meta.push(h("span", { className: "badge badge--sla", text: "SLA breached" }));
  if (customer.tier === "vip") meta.push(h("span", { className: "badge badge--vip", text: "VIP" }));
  meta.push(channelBadge(ticket));
  if (ticket.agent) meta.push(h("span", { text: `· ${isMine(ticket) ? "You" : ticket.agent.display_name || ticket.agent.username}` }));
  if (status !== "closed") meta.push(h("span", { text: status === "active" ? "· open " : "· waiting " }, h("span", { attrs: { id: "chat-wait" }, dataset: { created: ticket.created_at || "" }, text: waitText(ticket.created_at) })));
  $("#chat-meta").replaceChildren(...meta);

  const claimable = status === "queued" || (status === "offline" && !ticket.agent);
  $("#claim").hidden = !claimable;
  const acting = status === "active" && canAct(ticket);
  $("#transfer").hidden = !acting;
  $("#handback").hidden = !acting || ticket.kind === "offline";
  $("#close-chat").hidden = !(acting || (status === "offline" && canAct(ticket)));

  const offline = offlineInfo(ticket);
  const card = $("#offline-card");
  if (offline && (ticket.kind === "offline" || status === "offline")) {
    card.replaceChildren(
      h("h3", { text: "Offline message" }),
      h("div", { className: "muted", text: [offline.name, offline.email].filter(Boolean).join(" · ") }),
      h("div", { className: "offline-card__text" }, rich(offline.text || "")),
    );
    card.hidden = false;
  } else {
    card.hidden = true;
  }
}
