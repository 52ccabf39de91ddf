// Privacy tab: the retention settings and the purge (dry run first), one customer's export and
// erasure, and the legal hold on a conversation (docs/security.md, "Retention and erasure").
// APIs: /api/admin/privacy/retention, /api/admin/privacy/purge, /api/admin/customers/export,
// /api/admin/customers/erase, /api/admin/conversations/{id}/legal-hold. Every action is audited.

import { api, describe, query } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { confirmAction, showError } from "./ui.js";

const TABLE_NAMES = {
  conversation: "conversations",
  conversation_event: "events (messages, notes)",
  bot_exchange: "bot exchange log",
  pending_bot_turn: "pending bot turns",
  handoff_ticket: "tickets and offline messages",
  conversation_feedback: "satisfaction ratings",
  complaint: "complaints",
  quality_review: "quality reviews",
  learning_review: "learning reviews",
  staff_audit: "audit log entries",
  staff_login_attempt: "failed sign-ins",
  staff_session: "ended staff sessions",
};

function count(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

function days(n) {
  const years = n / 365;
  return `${n} days${Number.isInteger(years) ? ` (${years} year${years === 1 ? "" : "s"})` : ""}`;
}

function hideErrors() {
  for (const id of ["#privacy-purge-error", "#privacy-customer-error", "#privacy-hold-error"]) $(id).hidden = true;
}

export async function loadPrivacy() {
  hideErrors();
  try {
    const settings = await api("GET", "/api/admin/privacy/retention");
    const every = settings.purge_interval_seconds;
    $("#privacy-retention").replaceChildren(
      h("dt", { text: "Conversations" }),
      h("dd", { text: `${days(settings.retention_days)} after their last activity` }),
      h("dt", { text: "Audit log" }),
      h("dd", { text: days(settings.audit_retention_days) }),
      h("dt", { text: "Scheduled purge" }),
      h("dd", { text: every > 0 ? `every ${every >= 3600 ? `${Math.round(every / 3600)} h` : `${every} s`}` : "off" }),
    );
  } catch (failure) {
    showError($("#privacy-purge-error"), describe(failure), failure.details);
  }
}

function showCounts(report) {
  const rows = Object.entries(report.counts).map(([name, count]) =>
    h("tr", { dataset: { testid: "privacy-count", table: name } }, h("td", { text: TABLE_NAMES[name] || name }), h("td", { className: "num", text: count })),
  );
  $("#privacy-counts").replaceChildren(...rows);
  const kept = [];
  if (report.held) kept.push(`${report.held} kept by a legal hold`);
  if (report.with_people) kept.push(`${report.with_people} still with a person`);
  const before = new Date(report.cutoff).toLocaleDateString();
  $("#privacy-purge-summary").textContent =
    `${report.dry_run ? "Dry run: would delete" : "Deleted"} conversations last active before ${before}` + (kept.length ? `; ${kept.join(", ")}` : "") + ".";
  $("#privacy-purge-result").hidden = false;
}

async function runPurge(dryRun) {
  hideErrors();
  if (!dryRun && !(await confirmAction("Purge now?", "Everything past the retention period is deleted for good (conversations under a legal hold stay).", "Purge"))) return;
  const buttons = [$("#privacy-dry-run"), $("#privacy-purge")];
  for (const button of buttons) button.disabled = true;
  try {
    showCounts(await api("POST", "/api/admin/privacy/purge", { dry_run: dryRun }));
    if (!dryRun) toast("Purge done.");
  } catch (failure) {
    showError($("#privacy-purge-error"), describe(failure), failure.details);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function selector() {
  return { [$("#privacy-selector-kind").value]: $("#privacy-selector-value").value.trim() };
}

async function exportCustomer() {
  hideErrors();
  const chosen = selector();
  try {
    const data = await api("GET", `/api/admin/customers/export${query(chosen)}`);
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const link = h("a", { href: URL.createObjectURL(blob), download: `kefu-customer-${new Date().toISOString().slice(0, 10)}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    $("#privacy-customer-result").textContent = `Exported ${count(data.counts.conversations, "conversation")} (${count(data.counts.events, "event")}).`;
  } catch (failure) {
    showError($("#privacy-customer-error"), describe(failure), failure.details);
  }
}

async function eraseCustomer() {
  hideErrors();
  const chosen = selector();
  const [kind, value] = Object.entries(chosen)[0];
  if (!value) {
    showError($("#privacy-customer-error"), "Give the customer's e-mail address, external id or a conversation id.");
    return;
  }
  const sure = await confirmAction(`Erase everything about ${value}?`, `Every conversation of this customer (by ${kind.replace("_", " ")}), with its messages, tickets, ratings and log entries, is deleted for good. Conversations under a legal hold or still with a person are kept.`, "Erase");
  if (!sure) return;
  try {
    const result = await api("POST", "/api/admin/customers/erase", { ...chosen, confirm: true });
    const kept = [];
    if (result.held.length) kept.push(`kept under a legal hold: ${result.held.join(", ")}`);
    if (result.with_people.length) kept.push(`kept, still with a person: ${result.with_people.join(", ")}`);
    $("#privacy-customer-result").textContent =
      `Erased ${count(result.erased.conversation, "conversation")} and ${count(result.erased.conversation_event, "event")}.` + (kept.length ? ` ${kept.join("; ")}.` : "");
  } catch (failure) {
    showError($("#privacy-customer-error"), describe(failure), failure.details);
  }
}

function holdUrl() {
  return `/api/admin/conversations/${encodeURIComponent($("#privacy-hold-id").value.trim())}/legal-hold`;
}

function showHold(status) {
  const held = status.legal_hold;
  $("#privacy-hold-status").replaceChildren(
    h("span", { className: `badge ${held ? "badge--handoff" : "badge--ok"}`, dataset: { testid: "privacy-hold-state" }, text: held ? "on legal hold" : "not held" }),
    status.state ? h("span", { className: "muted", text: ` · ${status.state}, last activity ${new Date(status.updated_at).toLocaleString()}` }) : null,
  );
}

async function lookUpHold() {
  hideErrors();
  if (!$("#privacy-hold-id").value.trim()) return;
  try {
    showHold(await api("GET", holdUrl()));
  } catch (failure) {
    $("#privacy-hold-status").replaceChildren();
    showError($("#privacy-hold-error"), describe(failure, { not_found: "No conversation has this id." }), failure.details);
  }
}

async function changeHold(hold) {
  hideErrors();
  try {
    await api(hold ? "POST" : "DELETE", holdUrl(), { reason: $("#privacy-hold-reason").value.trim() });
    showHold(await api("GET", holdUrl()));
    toast(hold ? "Legal hold placed." : "Legal hold released.");
  } catch (failure) {
    showError($("#privacy-hold-error"), describe(failure, { not_found: "No conversation has this id." }), failure.details);
  }
}

export function wirePrivacy() {
  $("#privacy-dry-run").addEventListener("click", () => runPurge(true));
  $("#privacy-purge").addEventListener("click", () => runPurge(false));
  $("#privacy-customer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    exportCustomer();
  });
  $("#privacy-erase").addEventListener("click", eraseCustomer);
  $("#privacy-hold-form").addEventListener("submit", (event) => {
    event.preventDefault();
    lookUpHold();
  });
  $("#privacy-hold-set").addEventListener("click", () => changeHold(true));
  $("#privacy-hold-release").addEventListener("click", () => changeHold(false));
}
