// Complaints on a clock (docs/handoff.md, "Complaints"): the register in the lists column, the
// open chat's complaint in its header, and the dialogs to mark and resolve one. The register and
// the open chat's complaint are in the store (desk.js loads them); this view draws them.

import { $, h, toast } from "/staff/assets/dom.js";
import { markComplaint, resolveComplaint, selectTicket } from "./desk.js";
import { complaintOptions } from "./requests.js";
import { timeLeft } from "./rich.js";
import { canAct } from "./selectors.js";
import { currentTicket, state, subscribe } from "./store.js";

const LEVEL_LABELS = { urgent: "Urgent", important: "Important", normal: "Normal" };

export function wireComplaints() {
  subscribe((s) => s.complaints, renderRegister);
  subscribe((s) => [currentTicket(s), s.complaint], renderBadge);
  $("#complaint-mark").addEventListener("click", openMarkDialog);
  $("#complaint-resolve").addEventListener("click", openResolveDialog);
  $("#complaint-form").addEventListener("submit", submitMark);
  $("#complaint-cancel").addEventListener("click", () => $("#complaint-dialog").close());
  $("#resolve-form").addEventListener("submit", submitResolve);
  $("#resolve-cancel").addEventListener("click", () => $("#resolve-dialog").close());
}

function secondsNow(complaint) {
  return complaint.seconds_left - (Date.now() - state.complaints.loadedAt) / 1000;
}

function levelBadge(level) {
  return h("span", { className: `badge badge--complaint-${level}`, text: LEVEL_LABELS[level] || level });
}

// The register --------------------------------------------------------------------------

function renderRegister() {
  const register = state.complaints.items;
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
        if (!c.ticket_id) {
          toast("No agent has this chat yet: it waits for the customer or an offline reply.", "info");
          return;
        }
        selectTicket(String(c.ticket_id));
        $("#reply-input").focus();
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
    const found = state.complaints.items.find((c) => String(c.id) === node.dataset.complaintId);
    if (!found) continue;
    const left = secondsNow(found);
    node.querySelector(".complaint-item__left").textContent = timeLeft(left);
    node.classList.toggle("complaint-item--overdue", left < 0);
  }
}

// The open chat's complaint --------------------------------------------------------------

/** The open chat's {ticket, complaint, loadedAt} once its complaint is known, else null. */
function openComplaint() {
  const ticket = currentTicket();
  const known = state.complaint;
  return ticket && known && known.ticketId === String(ticket.id) ? { ticket, ...known } : null;
}

function renderBadge() {
  const badge = $("#complaint-badge");
  const current = openComplaint();
  const complaint = current && current.complaint;
  const acting = Boolean(current) && canAct(current.ticket);
  $("#complaint-mark").hidden = !(acting && !complaint);
  $("#complaint-resolve").hidden = !(acting && complaint && complaint.status === "open");
  if (!complaint) {
    badge.hidden = true;
    return;
  }
  const left = complaint.seconds_left - (Date.now() - current.loadedAt) / 1000;
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
  const got = await complaintOptions();
  fill($("#complaint-level"), got.levels, Object.fromEntries(got.levels.map((l) => [l, `${LEVEL_LABELS[l]} — answer within ${got.hours[l]} h`])));
  $("#complaint-level").value = "normal";
  fill($("#complaint-category"), got.categories);
  $("#complaint-summary").value = "";
  $("#complaint-error").hidden = true;
  $("#complaint-dialog").showModal();
}

async function submitMark(event) {
  event.preventDefault();
  const current = openComplaint();
  if (!current) return;
  const body = { level: $("#complaint-level").value, category: $("#complaint-category").value, summary: $("#complaint-summary").value };
  try {
    await markComplaint(current.ticket.id, body);
    $("#complaint-dialog").close();
  } catch (failure) {
    $("#complaint-error").textContent = failure.message || "Could not mark the complaint.";
    $("#complaint-error").hidden = false;
  }
}

async function openResolveDialog() {
  const got = await complaintOptions();
  fill($("#resolve-cause"), got.causes);
  $("#resolve-text").value = "";
  $("#resolve-error").hidden = true;
  $("#resolve-dialog").showModal();
}

async function submitResolve(event) {
  event.preventDefault();
  const current = openComplaint();
  if (!current || !current.complaint) return;
  const body = { root_cause: $("#resolve-cause").value, resolution: $("#resolve-text").value };
  try {
    await resolveComplaint(current.ticket.id, current.complaint.id, body);
    $("#resolve-dialog").close();
  } catch (failure) {
    $("#resolve-error").textContent = failure.message || "Could not resolve the complaint.";
    $("#resolve-error").hidden = false;
  }
}
