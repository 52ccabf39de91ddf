// Complaints on a clock (docs/handoff.md, "Complaints"): the register in the lists column,
// the open chat's complaint in its header, and the dialogs to mark and resolve one.
//
// Callers hand in what this module needs (the open ticket, a way to open a ticket), so it
// imports no other console module and adds no import cycle.

import { api } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";

const LEVEL_LABELS = { urgent: "Urgent", important: "Important", normal: "Normal" };

let options = null; // GET /api/agent/complaints/options
let register = []; // the open complaints shown, most pressing first
let loadedAt = 0; // Date.now() when ``register`` was fetched, to tick time left locally
let openTicket = () => {};
let current = null; // {ticket, complaint|null} of the open chat
let canActOn = () => false;

/** ``hooks.open(ticketId)`` opens a chat; ``hooks.canAct(ticket)`` says who may act. */
export function wireComplaints(hooks) {
  openTicket = hooks.open;
  canActOn = hooks.canAct;
  $("#complaint-mark").addEventListener("click", openMarkDialog);
  $("#complaint-resolve").addEventListener("click", openResolveDialog);
  $("#complaint-form").addEventListener("submit", submitMark);
  $("#complaint-cancel").addEventListener("click", () => $("#complaint-dialog").close());
  $("#resolve-form").addEventListener("submit", submitResolve);
  $("#resolve-cancel").addEventListener("click", () => $("#resolve-dialog").close());
}

async function loadOptions() {
  if (!options) options = await api("GET", "/api/agent/complaints/options");
  return options;
}

/** "5 h 20 min left" / "overdue by 2 h" from seconds left. */
export function timeLeft(seconds) {
  const late = seconds < 0;
  let rest = Math.abs(Math.round(seconds));
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  const minutes = Math.floor((rest - hours * 3600) / 60);
  const parts = days ? [`${days} d`, `${hours} h`] : hours ? [`${hours} h`, `${minutes} min`] : [`${minutes} min`];
  return late ? `overdue by ${parts.join(" ")}` : `${parts.join(" ")} left`;
}

function secondsNow(complaint) {
  return complaint.seconds_left - (Date.now() - loadedAt) / 1000;
}

function levelBadge(level) {
  return h("span", { className: `badge badge--complaint-${level}`, text: LEVEL_LABELS[level] || level });
}

// The register --------------------------------------------------------------------------

export async function refreshComplaints() {
  try {
    const body = await api("GET", "/api/agent/complaints");
    register = body.complaints || [];
    loadedAt = Date.now();
    renderRegister();
  } catch (failure) {
    if (failure.status !== 401) console.warn("complaints", failure);
  }
  if (current) showComplaintFor(current.ticket);
}

function renderRegister() {
  $("#complaints-count").textContent = String(register.length);
  $("#complaints-list").replaceChildren(
    ...register.map((c) => {
      const left = secondsNow(c);
      const item = h(
        "li",
        {
          className: `ticket complaint-item${left < 0 ? " complaint-item--overdue" : ""}`,
          tabIndex: 0,
          dataset: { testid: "complaint-item", complaintId: c.id, ticketId: c.ticket_id ?? "" },
          attrs: { role: "option", title: c.summary || "" },
        },
        h("div", { className: "ticket__row" }, h("span", { className: "ticket__name", text: c.customer_name || "Customer" }), h("span", { className: "complaint-item__left", dataset: { testid: "complaint-left" }, text: timeLeft(left) })),
        h("div", { className: "ticket__tags" }, levelBadge(c.level), h("span", { className: "badge", text: c.category }), h("span", { className: "complaint-item__owner", text: c.owner || "unassigned" })),
      );
      const open = () => {
        if (c.ticket_id) openTicket(String(c.ticket_id));
        else toast("No agent has this chat yet: it waits for the customer or an offline reply.", "info");
      };
      item.addEventListener("click", open);
      item.addEventListener("keydown", (event) => {
        if (event.key === "Enter") open();
      });
      return item;
    }),
  );
}

/** Called every second by the console's clock: time left ticks without a request. */
export function tickComplaints() {
  for (const node of document.querySelectorAll("[data-testid=complaint-item]")) {
    const found = register.find((c) => String(c.id) === node.dataset.complaintId);
    if (!found) continue;
    const left = secondsNow(found);
    node.querySelector(".complaint-item__left").textContent = timeLeft(left);
    node.classList.toggle("complaint-item--overdue", left < 0);
  }
}

// The open chat's complaint --------------------------------------------------------------

export async function showComplaintFor(ticket) {
  if (!ticket) {
    current = null;
    renderBadge();
    return;
  }
  current = { ticket, complaint: current && current.ticket.id === ticket.id ? current.complaint : null };
  try {
    const body = await api("GET", `/api/agent/complaints?status=all&conversation_id=${encodeURIComponent(ticket.conversation_id)}`);
    if (!current || current.ticket.id !== ticket.id) return;
    current.complaint = (body.complaints || [])[0] || null;
    current.loadedAt = Date.now();
  } catch (failure) {
    if (failure.status !== 401) console.warn("complaint", failure);
  }
  renderBadge();
}

function renderBadge() {
  const badge = $("#complaint-badge");
  const complaint = current && current.complaint;
  const acting = Boolean(current) && canActOn(current.ticket);
  $("#complaint-mark").hidden = !(acting && !complaint);
  $("#complaint-resolve").hidden = !(acting && complaint && complaint.status === "open");
  if (!complaint) {
    badge.hidden = true;
    return;
  }
  const left = complaint.seconds_left - (Date.now() - (current.loadedAt || Date.now())) / 1000;
  const text = complaint.status === "open" ? `Complaint · ${LEVEL_LABELS[complaint.level]} · ${timeLeft(left)}` : `Complaint resolved · ${complaint.root_cause}${complaint.on_time ? " · on time" : " · late"}`;
  badge.textContent = text;
  badge.className = `complaint-badge complaint-badge--${complaint.status === "open" ? (left < 0 ? "overdue" : complaint.level) : "resolved"}`;
  badge.hidden = false;
}

// Dialogs --------------------------------------------------------------------------------

function fill(select, values, labels = {}) {
  select.replaceChildren(...values.map((v) => h("option", { value: v, text: labels[v] || v.replace(/_/g, " ") })));
}

async function openMarkDialog() {
  const got = await loadOptions();
  fill($("#complaint-level"), got.levels, Object.fromEntries(got.levels.map((l) => [l, `${LEVEL_LABELS[l]} — answer within ${got.hours[l]} h`])));
  $("#complaint-level").value = "normal";
  fill($("#complaint-category"), got.categories);
  $("#complaint-summary").value = "";
  $("#complaint-error").hidden = true;
  $("#complaint-dialog").showModal();
}

async function submitMark(event) {
  event.preventDefault();
  if (!current) return;
  const body = { level: $("#complaint-level").value, category: $("#complaint-category").value, summary: $("#complaint-summary").value };
  try {
    current.complaint = await api("POST", `/api/agent/tickets/${encodeURIComponent(current.ticket.id)}/complaint`, body);
    current.loadedAt = Date.now();
    $("#complaint-dialog").close();
    renderBadge();
    refreshComplaints();
  } catch (failure) {
    $("#complaint-error").textContent = failure.message || "Could not mark the complaint.";
    $("#complaint-error").hidden = false;
  }
}

async function openResolveDialog() {
  const got = await loadOptions();
  fill($("#resolve-cause"), got.causes);
  $("#resolve-text").value = "";
  $("#resolve-error").hidden = true;
  $("#resolve-dialog").showModal();
}

async function submitResolve(event) {
  event.preventDefault();
  if (!current || !current.complaint) return;
  const body = { root_cause: $("#resolve-cause").value, resolution: $("#resolve-text").value };
  try {
    current.complaint = await api("POST", `/api/agent/complaints/${current.complaint.id}/resolve`, body);
    $("#resolve-dialog").close();
    renderBadge();
    refreshComplaints();
  } catch (failure) {
    $("#resolve-error").textContent = failure.message || "Could not resolve the complaint.";
    $("#resolve-error").hidden = false;
  }
}

/** The dispatcher's notices: a complaint near its deadline (to its owner), or overdue. */
export function onComplaintFrame(frame) {
  const c = frame.complaint || {};
  const who = c.customer_name || "a customer";
  if (frame.type === "complaint.due_soon") toast(`Complaint from ${who} is due soon: ${timeLeft(c.seconds_left ?? 0)}.`, "error");
  else if (frame.type === "complaint.overdue") toast(`Complaint from ${who} is overdue${c.owner ? ` (owner: ${c.owner})` : ""}.`, "error");
  refreshComplaints();
}
