// The open conversation's transcript, drawn from the store: events in seq order, each once,
// then the replies still being sent.

import { $, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { session } from "/staff/assets/session.js";
import { describe, REASONS } from "./constants.js";
import { revealEvent } from "./requests.js";
import { formatClock, rich } from "./rich.js";
import { customerName } from "./selectors.js";
import { conv, currentTicket, selectedConversation, state, subscribe } from "./store.js";

export function wireTranscript() {
  subscribe(
    (s) => {
      const cid = selectedConversation(s);
      return [cid, cid ? conv(s, cid) : null];
    },
    ([cid, record], [before, previous]) => {
      if (cid !== before) {
        $("#transcript").replaceChildren();
        renderTranscript(true);
        return;
      }
      // The agent's own reply (sending, or sent) brings the transcript to its end.
      renderTranscript(Boolean(record && previous && record.pending !== previous.pending));
    },
  );
}

function isInternal(event) {
  const payload = event.payload || {};
  return event.internal === true || payload.internal === true || event.type === "note" || event.type === "internal_note" || event.type === "note.added";
}

function authorLabel(event) {
  const payload = event.payload || {};
  const author = String(event.author || "");
  if (author === "customer") return customerName(currentTicket());
  if (author === "bot") return "Bot";
  if (author === "system") return "System";
  if (author.startsWith("agent:")) {
    const username = author.slice(6);
    if (session.user && username === session.user.username) return "You";
    return payload.agent || payload.agent_name || username;
  }
  return author;
}

function systemText(event) {
  const p = event.payload || {};
  switch (event.type) {
    case "conversation.escalated": {
      const reason = REASONS[p.reason] || p.reason || "escalated";
      if (p.state === "bot") return `Escalation (${reason}): nobody could take it${p.offline && p.offline.reason ? ` — ${String(p.offline.reason).replace(/_/g, " ")}` : ""}`;
      return `Escalated to a person: ${reason}${p.detail ? ` — ${p.detail}` : ""}`;
    }
    case "agent.joined":
      return `${p.agent || "An agent"} joined the conversation`;
    case "agent.left":
      return `${p.agent || "The agent"} left${p.reason ? ` (${String(p.reason).replace(/_/g, " ")})` : ""}`;
    case "conversation.transferred":
      return `Transferred to ${p.agent || (p.team ? `team ${p.team}` : "another agent")}`;
    case "conversation.returned_to_bot":
      return "Handed back to the bot";
    case "conversation.closed":
      return `Conversation closed${p.by ? ` by the ${p.by}` : ""}`;
    case "conversation.reopened":
      return "The customer reopened the conversation";
    case "offline_message.received":
      return `Offline message left${p.email ? ` (${p.email})` : ""}`;
    case "complaint.opened":
      return `Marked a complaint (${p.level}, ${p.category})${p.by ? ` by ${p.by}` : " by the bot"} — answer by ${formatDate(p.deadline_at)}`;
    case "complaint.changed":
      return `Complaint now ${p.level}${p.by ? ` (${p.by})` : ""} — answer by ${formatDate(p.deadline_at)}`;
    case "complaint.due_soon":
      return `Complaint due soon — answer by ${formatDate(p.deadline_at)}`;
    case "complaint.overdue":
      return "Complaint overdue: escalated to the supervisors";
    case "complaint.resolved":
      return `Complaint resolved${p.by ? ` by ${p.by}` : ""}: ${String(p.root_cause || "").replace(/_/g, " ")}${p.on_time ? " (on time)" : " (late)"}`;
    case "follow_up.answered":
      return p.answer === "solved"
        ? `Follow-up survey (${p.via || "reply"}): the problem stayed solved`
        : `Follow-up survey (${p.via || "reply"}): the customer still needs help`;
    case "feedback.received":
      return `Feedback: CSAT ${p.csat ?? "–"}/5${p.nps !== undefined && p.nps !== null ? `, NPS ${p.nps}` : ""}`;
    default:
      return String(event.type || "event").replace(/[._]/g, " ");
  }
}

function eventNode(event) {
  const payload = event.payload || {};
  const author = String(event.author || "");
  const internal = isInternal(event);
  const dataset = { testid: "message", seq: event.seq, author, type: event.type || "" };
  if (internal) dataset.internal = "true";
  const time = formatClock(event.created_at);

  // The desk's own notices (a complaint opened, due soon, overdue) are lines, not notes.
  if (event.type !== "message" && (!internal || author === "system")) {
    const alert = event.type === "conversation.escalated" || event.type === "conversation.closed" || event.type === "complaint.overdue" || event.type === "complaint.due_soon" || (event.type === "follow_up.answered" && payload.answer === "not_solved");
    return h("div", { className: `sys${alert ? " sys--alert" : ""}`, dataset, attrs: { title: formatDate(event.created_at) } }, systemText(event), time ? ` · ${time}` : "");
  }

  let kind = "customer";
  if (internal) kind = "note";
  else if (author === "bot") kind = "bot";
  else if (author.startsWith("agent:")) kind = "agent";
  const meta = h(
    "div",
    { className: "msg__meta" },
    internal ? h("span", { className: "badge badge--internal", text: "Internal" }) : null,
    h("span", { className: "msg__author", text: authorLabel(event) }),
    internal && payload.transfer_to ? h("span", { text: `· transfer note for ${payload.transfer_to}` }) : null,
    author === "bot" && payload.kind && payload.kind !== "answer" ? h("span", { className: "msg__kind", text: `· ${payload.kind}` }) : null,
    time ? h("span", { text: `· ${time}`, attrs: { title: formatDate(event.created_at) } }) : null,
  );
  const bubble = h("div", { className: "msg__bubble" }, rich(payload.text ?? ""));
  if (Array.isArray(payload.suggestions) && payload.suggestions.length) {
    bubble.append(h("ul", { className: "msg__suggestions" }, payload.suggestions.map((s) => h("li", { text: s.question || s.entry_id || "" }))));
  }
  if (payload.suggestion) meta.append(h("span", { className: "muted", text: "· picked a suggestion" }));
  if (payload.via === "email") meta.append(h("span", { className: "muted", text: "· by e-mail" }));
  if (event.masked && event.revealable) meta.append(revealButton(event, bubble));
  return h("div", { className: `msg msg--${kind}`, dataset }, meta, bubble);
}

/** Personal data is masked for agents; permitted roles may reveal one message (audited). */
function revealButton(event, bubble) {
  const button = h("button", { className: "btn btn--ghost btn--small", type: "button", text: "Reveal", dataset: { testid: "reveal" }, attrs: { title: "Show the personal data in this message (recorded in the audit log)" } });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const body = await revealEvent(event.conversation_id, event.seq);
      bubble.replaceChildren(rich(body.text ?? ""));
      button.remove();
    } catch (error) {
      button.disabled = false;
      toast(describe(error), "error");
    }
  });
  return button;
}

function pendingNode(clientId, item) {
  const dataset = { pending: clientId };
  return h(
    "div",
    { className: `msg msg--${item.note ? "note" : "agent"} msg--pending`, dataset },
    h("div", { className: "msg__meta" }, item.note ? h("span", { className: "badge badge--internal", text: "Internal" }) : null, h("span", { className: "msg__author", text: "You" }), h("span", { text: "· sending…" })),
    h("div", { className: "msg__bubble" }, rich(item.text)),
  );
}

/** Bring the transcript up to date: insert missing events in seq order, never twice. */
function renderTranscript(forceBottom = false) {
  const cid = selectedConversation();
  const box = $("#transcript");
  if (!cid) {
    box.replaceChildren();
    return;
  }
  const record = conv(state, cid);
  const nearBottom = forceBottom || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const present = new Map();
  for (const node of box.querySelectorAll(":scope > [data-seq]")) present.set(Number(node.dataset.seq), node);
  const seqs = [...record.events.keys()].sort((a, b) => a - b);
  let previous = null;
  for (const seq of seqs) {
    let node = present.get(seq);
    if (!node) {
      node = eventNode(record.events.get(seq));
      if (previous) previous.after(node);
      else box.prepend(node);
    }
    previous = node;
  }
  for (const node of box.querySelectorAll(":scope > [data-pending]")) {
    if (!record.pending.has(node.dataset.pending)) node.remove();
  }
  for (const [clientId, item] of record.pending) {
    if (!box.querySelector(`:scope > [data-pending="${CSS.escape(clientId)}"]`)) box.append(pendingNode(clientId, item));
  }
  if (!seqs.length && !record.pending.size && record.loaded) {
    if (!box.querySelector(".sys--empty")) box.append(h("div", { className: "sys sys--empty", text: "No messages yet." }));
  } else {
    const empty = box.querySelector(".sys--empty");
    if (empty) empty.remove();
  }
  if (nearBottom) box.scrollTop = box.scrollHeight;
}
