// Ticket lists: mine, queue and offline, drawn from the store; the wait clocks, the title's
// count of new chats, and Alt+arrow selection.

import { $, h } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { BASE_TITLE, REASONS } from "./constants.js";
import { selectTicket } from "./desk.js";
import { channelBadge, priorityBadge } from "./rich.js";
import { customerName, offlineInfo, waitText } from "./selectors.js";
import { state, subscribe } from "./store.js";

export function wireLists() {
  subscribe((s) => [s.lists, s.fresh, s.unread, s.selectedId, s.skewMs], renderLists);
  subscribe((s) => s.fresh.size, updateTitle);
}

export function updateTitle() {
  const count = state.fresh.size;
  document.title = count ? `(${count}) New chat – ${BASE_TITLE}` : BASE_TITLE;
}

function renderLists() {
  const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.ticketId : null;
  for (const view of ["mine", "queue", "offline"]) {
    const items = state.lists[view].map((ticket) => ticketItem(ticket, view));
    $(`#${view}-list`).replaceChildren(...items);
    $(`#${view}-count`).textContent = String(items.length);
  }
  if (focusedId) {
    const again = document.querySelector(`[data-testid=ticket-item][data-ticket-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
}

function ticketItem(ticket, view) {
  const id = String(ticket.id);
  const customer = ticket.customer || {};
  const offline = offlineInfo(ticket);
  const summary = view === "offline" && offline ? offline.text : ticket.summary || REASONS[ticket.reason] || ticket.reason || "";
  const tags = [priorityBadge(ticket.priority)];
  if (ticket.sla_breached) tags.push(h("span", { className: "badge badge--sla", text: "SLA", attrs: { title: "Waiting past the first-response target" }, dataset: { testid: "sla" } }));
  if (customer.tier === "vip") tags.push(h("span", { className: "badge badge--vip", text: "VIP" }));
  if (ticket.language) tags.push(h("span", { className: "badge", text: String(ticket.language).toUpperCase() }));
  if (ticket.team) tags.push(h("span", { className: "badge", text: ticket.team }));
  tags.push(channelBadge(ticket));
  if (view === "queue" && ticket.agent) tags.push(h("span", { className: "badge badge--status", text: ticket.agent.display_name || ticket.agent.username }));
  const name = view === "offline" && !customer.name && offline && offline.email ? offline.email : customerName(ticket);
  const item = h(
    "li",
    {
      className: `ticket${state.fresh.has(id) ? " ticket--new" : ""}`,
      attrs: { role: "option", tabindex: "0", "aria-selected": String(state.selectedId === id), title: summary },
      dataset: {
        testid: "ticket-item",
        ticketId: id,
        status: ticket.status,
        priority: ticket.priority || "normal",
        slaBreached: String(Boolean(ticket.sla_breached)),
        view,
      },
      on: {
        click: () => selectTicket(id),
        keydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            selectTicket(id);
            $("#reply-input").focus();
          }
        },
      },
    },
    h(
      "div",
      { className: "ticket__row" },
      h("span", { className: "ticket__name", text: name }),
      state.unread.has(String(ticket.conversation_id)) ? h("span", { className: "ticket__unread", attrs: { title: "New customer message" } }) : null,
      h("span", { className: "ticket__wait", dataset: { created: ticket.created_at || "" }, attrs: { title: `Opened ${formatDate(ticket.created_at)}` }, text: waitText(ticket.created_at) }),
    ),
    summary ? h("div", { className: "ticket__summary", text: summary }) : null,
    h("div", { className: "ticket__tags" }, tags),
  );
  return item;
}

export function tick() {
  for (const node of document.querySelectorAll(".ticket__wait[data-created]")) node.textContent = waitText(node.dataset.created);
  const wait = $("#chat-wait");
  if (wait && wait.dataset.created) wait.textContent = waitText(wait.dataset.created);
}

function visibleOrder() {
  return [...document.querySelectorAll("#mine-list [data-testid=ticket-item], #queue-list [data-testid=ticket-item], #offline-list [data-testid=ticket-item]")].map(
    (node) => node.dataset.ticketId,
  );
}

export function moveSelection(step) {
  const order = visibleOrder();
  if (!order.length) return;
  const at = order.indexOf(state.selectedId);
  const next = at === -1 ? (step > 0 ? 0 : order.length - 1) : (at + step + order.length) % order.length;
  selectTicket(order[next]);
  const node = document.querySelector(`[data-testid=ticket-item][data-ticket-id="${CSS.escape(order[next])}"]`);
  if (node) node.scrollIntoView({ block: "nearest" });
}
