// Ticket lists: mine, queue and offline; the wait clocks and Alt+arrow selection.

import { api } from "/staff/assets/api.js";
import { $, debounce, h } from "/staff/assets/dom.js";
import { formatDate, parseTime } from "/staff/assets/format.js";
import { session } from "/staff/assets/session.js";
import { notify } from "./notify.js";
import { formatDuration } from "./rich.js";
import { syncSubscriptions } from "./socket.js";
import { BASE_TITLE, REASONS, state } from "./state.js";
import { refreshDetail, role, selectTicket } from "./ticket.js";

export function ticketsById() {
  const map = new Map();
  for (const view of ["offline", "queue", "mine"]) for (const ticket of state.lists[view]) map.set(String(ticket.id), ticket);
  return map;
}

let listsRun = null;
let listsAgain = false;

/** Refetch the three lists; calls during a fetch run once more afterwards (nothing is lost). */
export async function refreshLists() {
  if (!session.user) return;
  if (listsRun) {
    listsAgain = true;
    return listsRun;
  }
  listsRun = (async () => {
    do {
      listsAgain = false;
      await fetchLists();
    } while (listsAgain && session.user);
  })();
  try {
    await listsRun;
  } finally {
    listsRun = null;
  }
}

async function fetchLists() {
  try {
    const views = ["mine", "queue", "offline"];
    const results = await Promise.all(views.map((view) => api("GET", `/api/agent/tickets?view=${view}`)));
    if (!session.user) return;
    views.forEach((view, index) => {
      state.lists[view] = (results[index] && results[index].tickets) || [];
    });
    estimateSkew();
    noticeNewTickets();
    renderLists();
    syncSubscriptions();
    const open = state.selectedId && ticketsById().get(state.selectedId);
    if (open && state.detail && open.status !== state.detail.ticket.status) refreshDetail();
  } catch (failure) {
    if (failure.status !== 401) console.warn("ticket lists", failure);
  }
}

export const refreshListsSoon = debounce(() => refreshLists(), 250);

function estimateSkew() {
  for (const ticket of state.lists.queue) {
    const created = parseTime(ticket.created_at);
    if (typeof ticket.waiting_seconds === "number" && !Number.isNaN(created)) {
      state.skewMs = Date.now() - created - ticket.waiting_seconds * 1000;
      return;
    }
  }
}

function noticeNewTickets() {
  const live = [...state.lists.queue, ...state.lists.mine].filter((t) => t.status !== "closed");
  const current = new Set([...live, ...state.lists.offline].map((t) => String(t.id)));
  const arrivals = live.filter((t) => !state.known.has(String(t.id)));
  if (state.listsLoaded && arrivals.length) {
    for (const ticket of arrivals) if (String(ticket.id) !== state.selectedId) state.fresh.add(String(ticket.id));
    notify(arrivals);
  }
  for (const id of current) state.known.add(id);
  for (const id of [...state.fresh]) if (!current.has(id)) state.fresh.delete(id);
  state.listsLoaded = true;
  updateTitle();
}

export function updateTitle() {
  const count = state.fresh.size;
  document.title = count ? `(${count}) New chat – ${BASE_TITLE}` : BASE_TITLE;
}

export function customerName(ticket) {
  const customer = (ticket && ticket.customer) || {};
  if (customer.name) return customer.name;
  const cid = ticket && ticket.conversation_id ? String(ticket.conversation_id) : "";
  return cid ? `Visitor ${cid.slice(0, 6)}` : "Visitor";
}

/** The offline message as {text, email, name}; the API gives its text, the customer the rest. */
export function offlineInfo(ticket) {
  const message = ticket && ticket.offline_message;
  if (!message) return null;
  const customer = ticket.customer || {};
  if (typeof message === "string") return { text: message, email: customer.email || "", name: customer.name || "" };
  return { text: message.text || "", email: message.email || customer.email || "", name: message.name || customer.name || "" };
}

function renderLists() {
  const counts = { mine: 0, queue: 0, offline: 0 };
  const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.ticketId : null;
  for (const view of ["mine", "queue", "offline"]) {
    const items = state.lists[view].map((ticket) => ticketItem(ticket, view));
    counts[view] = items.length;
    $(`#${view}-list`).replaceChildren(...items);
    $(`#${view}-count`).textContent = String(items.length);
  }
  if (focusedId) {
    const again = document.querySelector(`[data-testid=ticket-item][data-ticket-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
}

export function priorityBadge(priority) {
  const value = priority || "normal";
  return h("span", { className: `badge badge--${value}`, text: value, dataset: { testid: "priority", priority: value } });
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
            selectTicket(id, { focusReply: true });
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

export function waitText(createdAt) {
  const created = parseTime(createdAt);
  if (Number.isNaN(created)) return "";
  return formatDuration((Date.now() - state.skewMs - created) / 1000);
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
