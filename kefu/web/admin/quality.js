// Quality tab (supervisors and admins): sample closed chats by filters, score a pending review
// beside its transcript, read the submitted ones; admins also edit the rubric. API:
// /api/agent/quality (docs/handoff.md, "Quality review"); the transcript is the staff one,
// /api/agent/conversations/{id}/events.

import { api, describe, query } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { session } from "/staff/assets/session.js";
import { duration, todayUtc, trimNumber } from "./format.js";
import { confirmAction, showError } from "./ui.js";

const BASE = "/api/agent/quality";
const TRANSCRIPT_PAGES = 20;

const quality = { rubric: null, open: null, draft: null, request: 0 };

/** "Greeting · 问候", or the one name as written. */
export function criterionName(c) {
  return c.name_zh && c.name_zh !== c.name ? `${c.name} · ${c.name_zh}` : c.name;
}

function scoreText(review) {
  if (review.score === null || review.score === undefined) return "—";
  return `${trimNumber(review.score, 1)}%`;
}

function isAdmin() {
  return Boolean(session.user && session.user.role === "admin");
}

export async function loadQuality() {
  if (!$("#quality-from").value) {
    $("#quality-from").value = todayUtc(-6);
    $("#quality-to").value = todayUtc(0);
  }
  const [rubric, agents] = await Promise.allSettled([api("GET", `${BASE}/rubric`), api("GET", "/api/agent/agents")]);
  if (rubric.status === "fulfilled") {
    quality.rubric = rubric.value.rubric;
    renderRubric();
  }
  if (agents.status === "fulfilled") {
    const chosen = $("#quality-agent").value;
    const people = (agents.value.agents || []).filter((a) => !a.disabled && a.username !== (session.user && session.user.username));
    $("#quality-agent").replaceChildren(h("option", { value: "", text: "any" }), ...people.map((a) => h("option", { value: a.username, text: a.display_name && a.display_name !== a.username ? `${a.display_name} (${a.username})` : a.username })));
    $("#quality-agent").value = chosen;
  }
  await loadLists();
}

async function loadLists() {
  quality.request += 1;
  const request = quality.request;
  try {
    const [waiting, done] = await Promise.all([api("GET", `${BASE}/reviews${query({ status: "pending" })}`), api("GET", `${BASE}/reviews${query({ status: "submitted" })}`)]);
    if (request !== quality.request) return;
    renderPending(waiting.reviews || []);
    renderSubmitted(done.reviews || []);
  } catch (failure) {
    showError($("#quality-sample-error"), describe(failure));
  }
}

function emptyRow(columns, text) {
  return h("tr", {}, h("td", { className: "empty", attrs: { colspan: columns }, text }));
}

function renderPending(reviews) {
  $("#quality-pending-count").textContent = String(reviews.length);
  const body = $("#quality-pending");
  if (!reviews.length) {
    body.replaceChildren(emptyRow(5, "Nothing to review. Sample some closed chats above."));
    return;
  }
  body.replaceChildren(
    ...reviews.map((r) =>
      h(
        "tr",
        {
          tabIndex: 0,
          dataset: { testid: "quality-pending-row", review: r.id, conversation: r.conversation_id },
          attrs: { "aria-selected": String(quality.open && quality.open.id === r.id) },
          on: { click: () => openReview(r.id), keydown: (e) => e.key === "Enter" && openReview(r.id) },
        },
        h("td", { className: "mono", text: r.conversation_id.slice(0, 8) }),
        h("td", { text: r.agent_name || r.agent }),
        h("td", { text: formatDate(r.closed_at) }),
        h("td", { className: "num", text: r.csat ?? "—" }),
        h("td", { text: r.reviewer_name || r.reviewer }),
      ),
    ),
  );
}

function renderSubmitted(reviews) {
  const body = $("#quality-submitted");
  if (!reviews.length) {
    body.replaceChildren(emptyRow(5, "No reviews submitted yet."));
    return;
  }
  body.replaceChildren(
    ...reviews.map((r) =>
      h(
        "tr",
        { tabIndex: 0, dataset: { testid: "quality-submitted-row", review: r.id, agent: r.agent }, on: { click: () => openReview(r.id), keydown: (e) => e.key === "Enter" && openReview(r.id) } },
        h("td", { text: formatDate(r.submitted_at) }),
        h("td", { text: r.agent_name || r.agent }),
        h("td", { text: r.reviewer_name || r.reviewer }),
        h("td", { className: "num" }, h("span", { className: `badge ${r.critical_failed ? "badge--critical" : "badge--count"}`, text: scoreText(r), attrs: { title: r.critical_failed ? "A critical criterion failed" : null } })),
        h("td", { className: "cell-sub", text: r.comment }),
      ),
    ),
  );
}

// -- sampling --------------------------------------------------------------------------------

function sampleBody() {
  const body = { size: Number($("#quality-size").value || 5) };
  const text = (id) => $(id).value.trim();
  if (text("#quality-from")) body.closed_from = text("#quality-from");
  if (text("#quality-to")) body.closed_to = text("#quality-to");
  if (text("#quality-agent")) body.agent = text("#quality-agent");
  if (text("#quality-csat")) body.csat_max = Number(text("#quality-csat"));
  if (text("#quality-escalated")) body.escalated = text("#quality-escalated") === "true";
  if (text("#quality-handle")) body.handle_min_minutes = Number(text("#quality-handle"));
  if (text("#quality-language")) body.language = text("#quality-language");
  if (text("#quality-seed")) body.seed = Number(text("#quality-seed"));
  return body;
}

async function sample(event) {
  event.preventDefault();
  const error = $("#quality-sample-error");
  error.hidden = true;
  $("#quality-sample").disabled = true;
  try {
    const drawn = await api("POST", `${BASE}/samples`, sampleBody());
    const got = drawn.sampled.length;
    $("#quality-sample-result").textContent = got
      ? `Sampled ${got} of ${drawn.eligible} eligible chat${drawn.eligible === 1 ? "" : "s"} (seed ${drawn.seed}: the same seed draws the same chats).`
      : `No chat matches: none closed with an agent, unreviewed and not your own fits these filters (seed ${drawn.seed}).`;
    await loadLists();
  } catch (failure) {
    showError(error, describe(failure), failure.details);
  } finally {
    $("#quality-sample").disabled = false;
  }
}

// -- one review ------------------------------------------------------------------------------

async function openReview(id) {
  const panel = $("#quality-review");
  try {
    const review = await api("GET", `${BASE}/reviews/${encodeURIComponent(id)}`);
    quality.open = review;
    panel.hidden = false;
    $("#quality-split").classList.add("split--open");
    for (const row of document.querySelectorAll("#quality-pending tr[data-review]")) row.setAttribute("aria-selected", String(row.dataset.review === String(id)));
    $("#quality-review-title").textContent = `${review.agent_name || review.agent} · ${review.conversation_id.slice(0, 8)}`;
    const facts = [`closed ${formatDate(review.closed_at)}`, `CSAT ${review.csat ?? "—"}`, `handled in ${duration(review.handle_seconds)}`, review.language || null];
    if (review.status === "submitted") facts.push(`scored ${scoreText(review)} by ${review.reviewer_name} on rubric v${review.rubric_version}`);
    $("#quality-review-meta").textContent = facts.filter(Boolean).join(" · ");
    renderScoring(review);
    await renderTranscript(review.conversation_id);
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

function closeReview() {
  quality.open = null;
  $("#quality-review").hidden = true;
  $("#quality-split").classList.remove("split--open");
}

function authorOf(event) {
  if (event.author === "customer") return ["customer", "Customer"];
  if (event.author === "bot") return ["bot", "Bot"];
  if (String(event.author).startsWith("agent:")) return ["agent", (event.payload && event.payload.agent) || event.author.slice(6)];
  return ["system", event.author];
}

async function renderTranscript(conversationId) {
  const box = $("#quality-transcript");
  box.replaceChildren(h("p", { className: "muted", text: "Loading the transcript…" }));
  const events = [];
  let after = 0;
  for (let page = 0; page < TRANSCRIPT_PAGES; page += 1) {
    const body = await api("GET", `/api/agent/conversations/${encodeURIComponent(conversationId)}/events${query({ after })}`);
    events.push(...body.events);
    if (!body.has_more || !body.events.length) break;
    after = body.events[body.events.length - 1].seq;
  }
  if (!quality.open || quality.open.conversation_id !== conversationId) return;
  box.replaceChildren(
    ...events.map((event) => {
      const text = event.payload && typeof event.payload.text === "string" ? event.payload.text : null;
      if (event.type !== "message" || text === null) {
        return h("div", { className: "line line--event", text: `${event.type.replace(/[._]/g, " ")} · ${formatDate(event.created_at)}` });
      }
      const [kind, who] = authorOf(event);
      return h(
        "div",
        { className: `line line--${kind}${event.internal ? " line--note" : ""}`, dataset: { testid: "quality-line" } },
        h("div", { className: "line__who", text: `${who}${event.internal ? " (note)" : ""} · ${formatDate(event.created_at)}` }),
        h("div", { className: "line__text", text }),
      );
    }),
  );
}

function renderScoring(review) {
  const editable = review.status === "pending";
  const criteria = editable ? (quality.rubric && quality.rubric.criteria) || [] : review.criteria;
  quality.draft = {};
  const rows = criteria.map((c) => {
    const points = editable ? null : c.points;
    const choices = [];
    for (let p = 0; p <= c.max_points; p += 1) {
      const id = `quality-${c.key}-${p}`;
      choices.push(
        h(
          "label",
          { className: "points", attrs: { for: id } },
          h("input", { type: "radio", id, name: `quality-${c.key}`, value: String(p), checked: points === p, disabled: !editable, dataset: { testid: `score-${c.key}-${p}` }, on: { change: () => setPoints(c.key, p) } }),
          h("span", { text: String(p) }),
        ),
      );
    }
    return h(
      "fieldset",
      { className: "criterion", dataset: { testid: "quality-criterion", key: c.key } },
      h("legend", {}, h("span", { className: "criterion__name", text: criterionName(c) }), h("span", { className: "muted small", text: ` ×${c.weight}` }), c.critical ? h("span", { className: "badge badge--critical", text: "critical" }) : null),
      c.description ? h("p", { className: "muted small criterion__hint", text: c.description }) : null,
      h("div", { className: "points-row" }, ...choices),
    );
  });
  $("#quality-criteria").replaceChildren(...(rows.length ? rows : [h("p", { className: "muted", text: "There is no rubric yet: an admin sets it below." })]));
  $("#quality-comment").value = editable ? "" : review.comment;
  $("#quality-comment").readOnly = !editable;
  $("#quality-submit").hidden = !editable;
  $("#quality-skip").hidden = !editable;
  $("#quality-score-error").hidden = true;
  $("#quality-total").textContent = editable ? "" : `Score ${scoreText(review)}${review.critical_failed ? " (a critical criterion failed)" : ""}`;
  updateTotal();
}

function setPoints(key, points) {
  quality.draft[key] = points;
  updateTotal();
}

/** The score as it will be: weighted points ÷ weighted maximum; 0 when a critical one is 0. */
function updateTotal() {
  if (!quality.open || quality.open.status !== "pending" || !quality.rubric) return;
  const criteria = quality.rubric.criteria;
  const scored = criteria.filter((c) => quality.draft[c.key] !== undefined);
  if (!scored.length) {
    $("#quality-total").textContent = `Score each of the ${criteria.length} criteria.`;
    return;
  }
  const failed = criteria.some((c) => c.critical && quality.draft[c.key] === 0);
  const points = criteria.reduce((sum, c) => sum + c.weight * (quality.draft[c.key] || 0), 0);
  const most = criteria.reduce((sum, c) => sum + c.weight * c.max_points, 0);
  const score = failed ? 0 : (100 * points) / most;
  const left = criteria.length - scored.length;
  $("#quality-total").textContent = `Score ${trimNumber(score, 1)}%${failed ? " (a critical criterion is 0)" : ""}${left ? ` · ${left} still to score` : ""}`;
}

async function submitReview(event) {
  event.preventDefault();
  const review = quality.open;
  if (!review) return;
  const error = $("#quality-score-error");
  error.hidden = true;
  $("#quality-submit").disabled = true;
  try {
    const body = { scores: { ...quality.draft }, comment: $("#quality-comment").value };
    const done = await api("POST", `${BASE}/reviews/${review.id}/submit`, body);
    toast(`Review submitted: ${scoreText(done)}`);
    await loadLists();
    await openReview(done.id);
  } catch (failure) {
    showError(error, describe(failure), failure.details);
  } finally {
    $("#quality-submit").disabled = false;
  }
}

async function skipReview() {
  const review = quality.open;
  if (!review) return;
  if (!(await confirmAction("Skip this chat?", "It leaves your list unscored and may be sampled again.", "Skip"))) return;
  try {
    await api("DELETE", `${BASE}/reviews/${review.id}`);
    closeReview();
    await loadLists();
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

// -- the rubric ------------------------------------------------------------------------------

function rubricRow(c, editable) {
  const cell = (name, value, options = {}) =>
    h(
      "td",
      { className: options.num ? "num" : "" },
      editable
        ? h("input", {
            className: `rubric-input rubric-input--${name}`,
            value: value ?? "",
            type: options.type || "text",
            dataset: { field: name },
            // Attributes, not properties: an absent limit stays absent.
            attrs: { "aria-label": name.replace("_", " "), min: options.min, max: options.max, maxlength: options.maxLength },
          })
        : String(value ?? ""),
    );
  return h(
    "tr",
    { dataset: { testid: "rubric-row", key: c.key || "" } },
    cell("key", c.key, { maxLength: 32 }),
    cell("name", c.name, { maxLength: 80 }),
    cell("name_zh", c.name_zh, { maxLength: 80 }),
    cell("description", c.description, { maxLength: 300 }),
    cell("weight", c.weight ?? 1, { type: "number", min: 1, max: 100, num: true }),
    cell("max_points", c.max_points ?? 4, { type: "number", min: 1, max: 10, num: true }),
    h("td", {}, editable ? h("input", { type: "checkbox", checked: Boolean(c.critical), dataset: { field: "critical" }, attrs: { "aria-label": "critical" } }) : c.critical ? "yes" : ""),
    h("td", {}, editable ? h("button", { className: "btn btn--ghost btn--small", type: "button", text: "Remove", on: { click: (e) => e.target.closest("tr").remove() } }) : null),
  );
}

function renderRubric() {
  const rubric = quality.rubric;
  const editable = isAdmin();
  $("#quality-rubric-version").textContent = rubric ? `v${rubric.version}` : "none yet";
  $("#quality-rubric-actions").hidden = !editable;
  const criteria = rubric ? rubric.criteria : [];
  $("#quality-rubric-rows").replaceChildren(...(criteria.length || editable ? criteria.map((c) => rubricRow(c, editable)) : [emptyRow(8, "No rubric yet: an admin sets it here.")]));
}

function rubricFromTable() {
  return [...document.querySelectorAll("#quality-rubric-rows tr[data-testid=rubric-row]")].map((row) => {
    const value = (field) => $(`[data-field=${field}]`, row);
    return {
      key: value("key").value.trim(),
      name: value("name").value.trim(),
      name_zh: value("name_zh").value.trim(),
      description: value("description").value.trim(),
      weight: Number(value("weight").value),
      max_points: Number(value("max_points").value),
      critical: value("critical").checked,
    };
  });
}

async function saveRubric() {
  const error = $("#quality-rubric-error");
  error.hidden = true;
  try {
    const body = { criteria: rubricFromTable(), expected_version: quality.rubric ? quality.rubric.version : 0 };
    quality.rubric = await api("PUT", `${BASE}/rubric`, body);
    renderRubric();
    toast(`Rubric saved as version ${quality.rubric.version}`);
    if (quality.open && quality.open.status === "pending") renderScoring(quality.open);
  } catch (failure) {
    showError(error, describe(failure), failure.details);
  }
}

export function wireQuality() {
  $("#quality-sample-form").addEventListener("submit", sample);
  $("#quality-score-form").addEventListener("submit", submitReview);
  $("#quality-skip").addEventListener("click", skipReview);
  $("#quality-review-close").addEventListener("click", closeReview);
  $("#quality-rubric-add").addEventListener("click", () => $("#quality-rubric-rows").append(rubricRow({ weight: 1, max_points: 4 }, true)));
  $("#quality-rubric-save").addEventListener("click", saveRubric);
}
