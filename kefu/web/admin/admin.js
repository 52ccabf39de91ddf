// kefu admin console: plain ES2020, no build step, no third-party code (plotly.js is loaded
// from the server's installed plotly package, only when the Analytics tab opens).
//
// APIs: /api/admin/kb, /api/admin/bot, /api/admin/learning, /api/admin/analytics,
// /api/admin/users, /api/admin/jobs (docs/metrics.md defines the analytics numbers).
// Rendering never uses innerHTML: server and customer text always becomes text nodes, and
// answers are previewed with the widget's own safe renderer (window.KefuWidget.renderMarkdown).

const CSRF_KEY = "kefu.admin.csrf";
const BASE_TITLE = "kefu admin";
const TABS = ["kb", "intents", "test", "training", "learning", "analytics", "users", "audit"];
const TAB_NAMES = {
  kb: "Knowledge base",
  intents: "Intents",
  test: "Test the bot",
  training: "Training",
  learning: "Learning",
  analytics: "Analytics",
  users: "Users",
  audit: "Audit",
};
const JOB_POLL_MS = 300;
const KB_PAGE = 25;
const AUDIT_PAGE = 25;
const EXTRA_LANGUAGES = ["en", "zh", "ja", "ko", "fr", "de", "es", "pt", "it", "nl", "ru", "ar", "tr", "pl", "vi", "th", "id", "ms", "hi"];
const REASONS = {
  low_confidence: "fell back",
  rejected_clarification: "suggestions ignored",
  escalated_after_answer: "escalated after an answer",
  rated_down: "rated down",
};
const METRICS = [
  ["cv_accuracy", "Accuracy (cross-validated)", "rate"],
  ["cv_macro_f1", "Macro F1 (cross-validated)", "rate"],
  ["cv_oos_balanced_accuracy", "Out-of-scope balanced accuracy", "rate"],
  ["threshold", "Confidence threshold", "number"],
  ["examples", "Training examples", "int"],
  ["intents", "Intents", "int"],
];
const CSV_EXPORTS = [
  ["overview", "Overview (every single number)"],
  ["volume_by_day", "Volume by day"],
  ["volume_by_hour", "Volume by hour"],
  ["escalation_by_reason", "Escalation by reason"],
  ["escalation_by_intent", "Escalation by intent"],
  ["sentiment_by_day", "Sentiment by day"],
  ["agents", "Agent scorecard"],
];

// ---------------------------------------------------------------------------------------
// Small DOM helpers

const $ = (selector, root = document) => root.querySelector(selector);

/** Create an element; ``attrs`` sets attributes, ``dataset`` data-*, ``on`` listeners; children are nodes or text. */
function h(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  const { className, text, attrs, dataset, on, ...props } = options;
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  if (dataset) for (const [key, value] of Object.entries(dataset)) {
    if (value !== undefined && value !== null) node.dataset[key] = String(value);
  }
  if (on) for (const [name, handler] of Object.entries(on)) node.addEventListener(name, handler);
  Object.assign(node, props);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function parseTime(value) {
  if (!value) return NaN;
  const text = String(value);
  // A timestamp without a zone is UTC on this server.
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`;
  return Date.parse(zoned);
}

function formatDate(value) {
  const time = parseTime(value);
  if (Number.isNaN(time)) return "";
  return new Date(time).toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** 0.6667 -> "66.7%"; null -> "—". */
function percent(rate) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return "—";
  return `${trimNumber(rate * 100, 1)}%`;
}

function trimNumber(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const fixed = Number(value).toFixed(digits);
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

/** Seconds for people: 0.016 -> "16 ms", 42 -> "42 s", 125 -> "2 min 5 s". */
function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Number(seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${trimNumber(s, 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function toast(message, kind = "info") {
  const node = h("div", { className: `toast toast--${kind}`, text: message, attrs: { role: kind === "error" ? "alert" : "status", "data-testid": "toast" } });
  $("#toasts").append(node);
  setTimeout(() => node.remove(), kind === "error" ? 7000 : 3500);
}

/** Lines of a textarea, trimmed, without blanks. */
function lines(text) {
  return String(text || "")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** "a, b ,c" -> ["a", "b", "c"]; Chinese commas too. */
function commaList(text) {
  return String(text || "")
    .split(/[,，]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

function todayUtc(offsetDays = 0) {
  const date = new Date(Date.now() + offsetDays * 86400000);
  return date.toISOString().slice(0, 10);
}

function nextDay(isoDate) {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/** Render markdown-lite into ``node`` with the customer widget's renderer. */
function renderAnswer(node, text) {
  node.replaceChildren();
  const widget = window.KefuWidget;
  if (widget && typeof widget.renderMarkdown === "function") {
    widget.renderMarkdown(text, node);
  } else {
    node.append(h("p", { text }));
  }
}

function showError(node, message, details = []) {
  node.replaceChildren(h("strong", { text: message }));
  const items = (details || []).filter((d) => d && (d.message || d.field));
  if (items.length) node.append(detailList(items));
  node.hidden = false;
}

/** The ``details`` of an API error as a readable list: "Line 3 · question: Field required". */
function detailList(details) {
  return h(
    "ul",
    { className: "detail-list", attrs: { "data-testid": "error-details" } },
    details.map((d) => {
      const where = [];
      if (d.line !== undefined && d.line !== null) where.push(`Line ${d.line}`);
      if (d.field) where.push(String(d.field).replace(/^body\./, ""));
      return h("li", {}, where.length ? h("span", { className: "detail-list__where", text: `${where.join(" · ")}: ` }) : null, d.message || d.code || "");
    }),
  );
}

// ---------------------------------------------------------------------------------------
// HTTP

class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const state = {
  user: null,
  csrf: null,
  tab: null,
  loaded: new Set(),
};

async function api(method, path, body, { authProbe = false, form = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const details = Array.isArray(error.details) ? error.details : [];
    const failure = new ApiError(response.status, error.code || String(response.status), error.message || response.statusText, details);
    const loggedOut = response.status === 401 || (response.status === 403 && details.some((d) => d && d.code === "csrf"));
    if (loggedOut && !authProbe && path !== "/api/auth/login") sessionLost();
    throw failure;
  }
  return data;
}

function describe(error) {
  const messages = {
    forbidden: "You are not allowed to do that.",
    network: "The server cannot be reached.",
  };
  return messages[error.code] || error.message || "Something went wrong.";
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Poll a background job until it is no longer running, showing done/total in ``bar``. */
async function followJob(job, bar) {
  let current = job;
  showProgress(bar, current);
  while (current.state === "running") {
    await sleep(JOB_POLL_MS);
    try {
      current = await api("GET", `/api/admin/jobs/${encodeURIComponent(current.id)}`);
    } catch (failure) {
      if (failure.status === 401) throw failure;
      continue; // a blip; the job goes on regardless
    }
    showProgress(bar, current);
  }
  return current;
}

function showProgress(bar, job) {
  bar.hidden = false;
  const total = Number(job.total) || 0;
  const done = Number(job.done) || 0;
  const finished = job.state !== "running";
  const fraction = finished ? 1 : total ? Math.min(1, done / total) : 0;
  bar.dataset.state = job.state;
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", String(total || 1));
  bar.setAttribute("aria-valuenow", String(finished && !total ? 1 : done));
  $(".progress__bar", bar).style.width = `${Math.round(fraction * 100)}%`;
  const label = job.state === "failed" ? "failed" : finished ? "done" : total ? `${done} / ${total}` : "starting…";
  $(".progress__text", bar).textContent = finished && total ? `${label} · ${done} / ${total}` : label;
}

// ---------------------------------------------------------------------------------------
// Confirmation dialog

function confirmAction(title, text, ok = "OK") {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = ok;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

// ---------------------------------------------------------------------------------------
// Login and session

async function boot() {
  wireStatic();
  state.csrf = sessionStorage.getItem(CSRF_KEY);
  let user = null;
  try {
    user = await api("GET", "/api/auth/me", undefined, { authProbe: true });
  } catch {
    user = null;
  }
  if (user && state.csrf && user.role === "admin") enterWorkspace(user);
  else if (user && user.role !== "admin") showLogin(notForYou(user.username, user.role));
  else showLogin();
}

function notForYou(username, role) {
  const what = role || "staff member";
  const elsewhere = what === "agent" || what === "supervisor" ? ", or use the agent console at /console" : "";
  return `Only administrators can use this page. “${username}” is ${/^[aeiou]/i.test(what) ? "an" : "a"} ${what}; ask an administrator for access${elsewhere}.`;
}

function showLogin(message = "") {
  $("#workspace").hidden = true;
  $("#login-view").hidden = false;
  document.title = BASE_TITLE;
  const error = $("#login-error");
  error.textContent = message;
  error.hidden = !message;
  $("#login-submit").disabled = false;
  $("#login-password").value = "";
  ($("#login-username").value ? $("#login-password") : $("#login-username")).focus();
}

async function submitLogin(event) {
  event.preventDefault();
  const username = $("#login-username").value.trim();
  const password = $("#login-password").value;
  const error = $("#login-error");
  if (!username || !password) {
    error.textContent = "Enter your username and password.";
    error.hidden = false;
    return;
  }
  $("#login-submit").disabled = true;
  try {
    const body = await api("POST", "/api/auth/login", { username, password });
    if (!body.user || body.user.role !== "admin") {
      // Signed in, but this page is not theirs: say so plainly, and leave their session alone
      // (it may be the agent console's in another tab).
      error.textContent = notForYou(username, body.user && body.user.role);
      error.hidden = false;
      $("#login-password").value = "";
      return;
    }
    state.csrf = body.csrf_token;
    sessionStorage.setItem(CSRF_KEY, body.csrf_token);
    error.hidden = true;
    enterWorkspace(body.user);
  } catch (failure) {
    error.textContent = failure.status === 401 ? "Wrong username or password." : describe(failure);
    error.hidden = false;
    $("#login-password").select();
  } finally {
    $("#login-submit").disabled = false;
  }
}

async function logout() {
  try {
    await api("POST", "/api/auth/logout", undefined, { authProbe: true });
  } catch {
    // The session may already be gone; leaving is what matters.
  }
  sessionStorage.removeItem(CSRF_KEY);
  state.user = null;
  state.csrf = null;
  state.loaded.clear();
  showLogin();
}

function sessionLost() {
  if (!state.user) return;
  sessionStorage.removeItem(CSRF_KEY);
  state.user = null;
  state.csrf = null;
  state.loaded.clear();
  showLogin("Your session has ended. Please sign in again.");
}

function enterWorkspace(user) {
  state.user = user;
  $("#login-view").hidden = true;
  $("#workspace").hidden = false;
  $("#me-name").textContent = user.display_name || user.username;
  const wanted = location.hash.replace(/^#/, "");
  selectTab(TABS.includes(wanted) ? wanted : "kb");
}

// ---------------------------------------------------------------------------------------
// Tabs

function selectTab(name, { reload = false } = {}) {
  state.tab = name;
  for (const tab of TABS) {
    const button = $(`#tab-${tab}`);
    button.setAttribute("aria-selected", String(tab === name));
    button.tabIndex = tab === name ? 0 : -1;
    $(`#pane-${tab}`).hidden = tab !== name;
  }
  document.title = `${TAB_NAMES[name]} · ${BASE_TITLE}`;
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  const first = !state.loaded.has(name);
  state.loaded.add(name);
  const loaders = {
    kb: () => (first ? initKb() : loadFaqs()),
    intents: loadIntents,
    test: () => $("#test-text").focus(),
    training: loadModels,
    learning: loadClusters,
    analytics: () => (first ? initAnalytics() : loadAnalytics()),
    users: loadUsers,
    audit: loadAudit,
  };
  if (first || reload || name !== "kb") loaders[name]();
}

function onTabKeydown(event) {
  const index = TABS.indexOf(state.tab);
  let next = null;
  if (event.key === "ArrowRight") next = TABS[(index + 1) % TABS.length];
  if (event.key === "ArrowLeft") next = TABS[(index - 1 + TABS.length) % TABS.length];
  if (!next) return;
  event.preventDefault();
  selectTab(next);
  $(`#tab-${next}`).focus();
}

// ---------------------------------------------------------------------------------------
// Changes (history and audit): "field: before → after"

function valueText(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join("\n");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([key, item]) => `${key}: ${Array.isArray(item) ? item.join(" | ") : typeof item === "object" ? JSON.stringify(item) : item}`)
      .join("\n");
  }
  return String(value);
}

function clip(text, max) {
  return max && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function changeList(changes, { max = 0 } = {}) {
  const entries = Object.entries(changes || {});
  if (!entries.length) return h("p", { className: "muted small", text: "No field changed." });
  return h(
    "dl",
    { className: "changes" },
    entries.map(([field, pair]) => {
      const [before, after] = Array.isArray(pair) ? pair : [null, pair];
      const beforeText = valueText(before);
      const afterText = valueText(after);
      return h(
        "div",
        { className: "change", dataset: { testid: "change", field } },
        h("dt", { className: "change__field", text: field }),
        h(
          "dd",
          { className: "change__values" },
          h("span", { className: `change__before${beforeText ? "" : " change__empty"}`, text: beforeText ? clip(beforeText, max) : "(none)", attrs: { title: max && beforeText.length > max ? beforeText : null } }),
          h("span", { className: "change__arrow", text: "→", attrs: { "aria-label": "became" } }),
          h("span", { className: `change__after${afterText ? "" : " change__empty"}`, text: afterText ? clip(afterText, max) : "(none)", attrs: { title: max && afterText.length > max ? afterText : null } }),
        ),
      );
    }),
  );
}

function revisionCard(revision, { currentVersion = null, onRollback = null } = {}) {
  const canRoll = onRollback && revision.snapshot && revision.version !== currentVersion && revision.action !== "delete";
  return h(
    "article",
    { className: "revision", dataset: { testid: "revision", version: revision.version } },
    h(
      "header",
      { className: "revision__head" },
      h("span", { className: "badge badge--version", text: `v${revision.version}` }),
      h("span", { className: "revision__action", text: revision.action }),
      h("span", { className: "muted", text: `${revision.author} · ${formatDate(revision.created_at)}` }),
      revision.version === currentVersion ? h("span", { className: "badge badge--ok", text: "current" }) : null,
      h("span", { className: "filters__spacer" }),
      canRoll
        ? h("button", {
            className: "btn btn--small",
            type: "button",
            text: "Roll back to this version",
            dataset: { testid: "rollback", version: revision.version },
            on: { click: () => onRollback(revision) },
          })
        : null,
    ),
    changeList(revision.changes),
  );
}

// ---------------------------------------------------------------------------------------
// Knowledge base

const kb = {
  offset: 0,
  total: 0,
  items: [],
  entry: null, // the entry open in the editor; null for a new one
  categories: new Set(),
  historyOpen: false,
  request: 0,
};

function initKb() {
  loadCategories();
  loadFaqs();
}

async function loadCategories() {
  try {
    const page = await api("GET", `/api/admin/kb/faqs${query({ limit: 500 })}`);
    for (const item of page.items) kb.categories.add(item.category);
    renderCategories();
  } catch {
    // The filter still works with categories typed by hand.
  }
}

function renderCategories() {
  const select = $("#kb-category");
  const chosen = select.value;
  const sorted = [...kb.categories].sort();
  select.replaceChildren(h("option", { value: "", text: "All categories" }), ...sorted.map((c) => h("option", { value: c, text: c })));
  select.value = sorted.includes(chosen) ? chosen : "";
  $("#category-options").replaceChildren(...sorted.map((c) => h("option", { value: c })));
}

function kbFilters() {
  return {
    q: $("#kb-q").value.trim(),
    category: $("#kb-category").value,
    language: $("#kb-language").value,
    status: $("#kb-status").value,
  };
}

async function loadFaqs() {
  kb.request += 1;
  const request = kb.request;
  const params = { ...kbFilters(), limit: KB_PAGE, offset: kb.offset };
  try {
    const page = await api("GET", `/api/admin/kb/faqs${query(params)}`);
    if (request !== kb.request) return;
    if (!page.items.length && kb.offset > 0 && page.total > 0) {
      kb.offset = Math.max(0, Math.floor((page.total - 1) / KB_PAGE) * KB_PAGE);
      loadFaqs();
      return;
    }
    kb.items = page.items;
    kb.total = page.total;
    for (const item of page.items) kb.categories.add(item.category);
    renderFaqs();
  } catch (failure) {
    if (request === kb.request) toast(`Could not load the entries: ${describe(failure)}`, "error");
  }
}

function statusBadge(status) {
  return h("span", { className: `badge badge--${status}`, text: status, dataset: { testid: "status" } });
}

function renderFaqs() {
  const body = $("#kb-rows");
  if (!kb.items.length) {
    body.replaceChildren(h("tr", {}, h("td", { className: "empty", attrs: { colspan: 6 }, text: "No entries match." })));
  } else {
    body.replaceChildren(
      ...kb.items.map((item) =>
        h(
          "tr",
          {
            dataset: { testid: "faq-row", entryId: item.id },
            attrs: { tabindex: 0, "aria-selected": String(Boolean(kb.entry && kb.entry.id === item.id)) },
            on: {
              click: () => openEntry(item.id),
              keydown: (event) => {
                if (event.key === "Enter" || event.key === " ") {
                  event.preventDefault();
                  openEntry(item.id);
                }
              },
            },
          },
          h("td", {}, h("div", { className: "cell-title", text: item.question }), h("div", { className: "cell-sub mono", text: item.id })),
          h("td", { text: item.category }),
          h("td", { text: item.language }),
          h("td", {}, statusBadge(item.status)),
          h("td", { className: "num", text: item.version }),
          h("td", { className: "nowrap muted", text: formatDate(item.updated_at) }),
        ),
      ),
    );
  }
  const first = kb.total ? kb.offset + 1 : 0;
  const last = Math.min(kb.total, kb.offset + kb.items.length);
  $("#kb-page-info").textContent = `${first}–${last} of ${kb.total}`;
  $("#kb-prev").disabled = kb.offset === 0;
  $("#kb-next").disabled = kb.offset + KB_PAGE >= kb.total;
}

async function openEntry(id) {
  try {
    const entry = await api("GET", `/api/admin/kb/faqs/${encodeURIComponent(id)}`);
    fillEntry(entry);
  } catch (failure) {
    toast(`Could not open ${id}: ${describe(failure)}`, "error");
  }
}

function newEntry() {
  fillEntry(null);
  $("#faq-question").focus();
}

function fillEntry(entry) {
  kb.entry = entry;
  const editor = $("#kb-editor");
  editor.hidden = false;
  $("#kb-split").classList.add("split--open");
  $("#faq-error").hidden = true;
  $("#faq-title").textContent = entry ? entry.question : "New entry";
  $("#faq-meta").replaceChildren(
    ...(entry
      ? [h("span", { className: "mono", text: entry.id }), " · ", statusBadge(entry.status), ` · version ${entry.version} by ${entry.author}, ${formatDate(entry.updated_at)}`]
      : [h("span", { text: "Not saved yet" })]),
  );
  $("#faq-id-field").hidden = Boolean(entry);
  $("#faq-id").value = "";
  $("#faq-question").value = entry ? entry.question : "";
  $("#faq-alternatives").value = entry ? entry.alternatives.join("\n") : "";
  $("#faq-answer").value = entry ? entry.answer : "";
  $("#faq-category").value = entry ? entry.category : $("#kb-category").value || "general";
  $("#faq-language").value = entry ? entry.language : $("#kb-language").value;
  $("#faq-status").value = entry ? entry.status : "draft";
  $("#faq-tags").value = entry ? entry.tags.join(", ") : "";
  $("#faq-publish").hidden = !entry || entry.status === "published";
  $("#faq-unpublish").hidden = !entry || entry.status !== "published";
  $("#faq-archive").hidden = !entry || entry.status === "archived";
  $("#faq-delete").hidden = !entry;
  $("#faq-history-toggle").hidden = !entry;
  $("#faq-save").textContent = entry ? "Save" : "Create";
  updatePreview("#faq-answer", "#faq-preview");
  for (const row of document.querySelectorAll("#kb-rows tr[data-entry-id]")) {
    row.setAttribute("aria-selected", String(Boolean(entry && row.dataset.entryId === entry.id)));
  }
  if (entry && kb.historyOpen) loadHistory();
  else {
    $("#faq-history").hidden = true;
    $("#faq-history-toggle").setAttribute("aria-expanded", "false");
    if (!entry) kb.historyOpen = false;
  }
}

function closeEntry() {
  kb.entry = null;
  $("#kb-editor").hidden = true;
  $("#kb-split").classList.remove("split--open");
  for (const row of document.querySelectorAll("#kb-rows tr[aria-selected=true]")) row.setAttribute("aria-selected", "false");
}

function updatePreview(inputSelector, previewSelector) {
  const text = $(inputSelector).value;
  const preview = $(previewSelector);
  if (!text.trim()) {
    preview.replaceChildren(h("p", { className: "preview__empty", text: "The answer appears here as you type." }));
    return;
  }
  renderAnswer(preview, text);
}

function entryForm() {
  const body = {
    question: $("#faq-question").value.trim(),
    alternatives: lines($("#faq-alternatives").value),
    answer: $("#faq-answer").value.trim(),
    category: $("#faq-category").value.trim() || "general",
    tags: commaList($("#faq-tags").value),
    status: $("#faq-status").value,
  };
  const language = $("#faq-language").value;
  if (language) body.language = language;
  return body;
}

async function saveEntry(event) {
  event.preventDefault();
  const error = $("#faq-error");
  error.hidden = true;
  const body = entryForm();
  if (!body.question || !body.answer) {
    showError(error, "A question and an answer are needed.");
    return;
  }
  const button = $("#faq-save");
  button.disabled = true;
  try {
    let saved;
    if (kb.entry) {
      saved = await api("PATCH", `/api/admin/kb/faqs/${encodeURIComponent(kb.entry.id)}`, { ...body, expected_version: kb.entry.version });
      toast(saved.version === kb.entry.version ? "Nothing changed." : `Saved: version ${saved.version}.`);
    } else {
      const id = $("#faq-id").value.trim();
      saved = await api("POST", "/api/admin/kb/faqs", id ? { id, ...body } : body);
      toast(`Created ${saved.id}.`);
    }
    kb.categories.add(saved.category);
    renderCategories();
    fillEntry(saved);
    loadFaqs();
  } catch (failure) {
    if (failure.status === 409 && kb.entry) {
      showError(error, "Someone changed this entry since you opened it. Copy your text, reopen the entry to see their change, and edit again.");
      error.append(h("button", { className: "btn btn--small", type: "button", text: "Reopen", on: { click: () => openEntry(kb.entry.id) } }));
    } else {
      showError(error, describe(failure), failure.details);
    }
  } finally {
    button.disabled = false;
  }
}

async function entryAction(action, done) {
  if (!kb.entry) return;
  try {
    const saved = await api("POST", `/api/admin/kb/faqs/${encodeURIComponent(kb.entry.id)}/${action}`);
    fillEntry(saved);
    loadFaqs();
    toast(done);
  } catch (failure) {
    showError($("#faq-error"), describe(failure), failure.details);
  }
}

async function deleteEntry() {
  if (!kb.entry) return;
  const entry = kb.entry;
  const sure = await confirmAction("Delete this entry?", `“${entry.question}” (${entry.id}) will be deleted. Its history stays in the audit trail. To keep it out of answers but recoverable, archive it instead.`, "Delete");
  if (!sure) return;
  try {
    await api("DELETE", `/api/admin/kb/faqs/${encodeURIComponent(entry.id)}`);
    closeEntry();
    loadFaqs();
    toast(`Deleted ${entry.id}.`);
  } catch (failure) {
    showError($("#faq-error"), describe(failure), failure.details);
  }
}

function toggleHistory() {
  kb.historyOpen = !kb.historyOpen;
  $("#faq-history-toggle").setAttribute("aria-expanded", String(kb.historyOpen));
  if (kb.historyOpen) loadHistory();
  else $("#faq-history").hidden = true;
}

async function loadHistory() {
  const entry = kb.entry;
  if (!entry) return;
  const panel = $("#faq-history");
  $("#faq-history-toggle").setAttribute("aria-expanded", "true");
  try {
    const revisions = await api("GET", `/api/admin/kb/faqs/${encodeURIComponent(entry.id)}/history`);
    if (!kb.entry || kb.entry.id !== entry.id) return;
    const newest = [...revisions].sort((a, b) => b.version - a.version || b.id - a.id);
    panel.replaceChildren(
      h("h3", { className: "history__title", text: `History of ${entry.id}` }),
      ...newest.map((revision) => revisionCard(revision, { currentVersion: kb.entry.version, onRollback: rollbackEntry })),
    );
    panel.hidden = false;
  } catch (failure) {
    toast(`Could not load the history: ${describe(failure)}`, "error");
  }
}

async function rollbackEntry(revision) {
  const entry = kb.entry;
  if (!entry) return;
  const sure = await confirmAction("Roll back?", `${entry.id} will get the content it had at version ${revision.version}, as a new version. Nothing is lost: this rollback shows in the history too.`, "Roll back");
  if (!sure) return;
  try {
    const saved = await api("POST", `/api/admin/kb/faqs/${encodeURIComponent(entry.id)}/rollback`, { version: revision.version });
    fillEntry(saved);
    loadFaqs();
    toast(`Rolled back to version ${revision.version}; now version ${saved.version}.`);
  } catch (failure) {
    showError($("#faq-error"), describe(failure), failure.details);
  }
}

// Import, export, reindex --------------------------------------------------------------

async function submitImport(event) {
  event.preventDefault();
  const file = $("#import-file").files[0];
  const report = $("#import-report");
  const bar = $("#import-progress");
  report.hidden = true;
  bar.hidden = true;
  if (!file) {
    report.dataset.kind = "error";
    showError(report, "Choose a file to import first.");
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  const params = query({ format: $("#import-format").value, status: $("#import-status").value });
  const button = $("#import-submit");
  button.disabled = true;
  try {
    const job = await api("POST", `/api/admin/kb/import-jobs${params}`, form, { form: true });
    const finished = await followJob(job, bar);
    if (finished.state === "done") {
      report.dataset.kind = "ok";
      report.replaceChildren(...importSummary(file.name, finished.result || {}));
      report.hidden = false;
      $("#import-file").value = "";
      loadCategories();
      loadFaqs();
    } else {
      const error = finished.error || {};
      report.dataset.kind = "error";
      showError(report, `The import failed: ${error.message || "unknown error"}. Nothing was imported.`, error.details);
    }
  } catch (failure) {
    report.dataset.kind = "error";
    const message = failure.code === "invalid_file" ? `${file.name} was not imported: ${failure.message}` : `${file.name} was not imported: ${describe(failure)}`;
    showError(report, message, failure.details);
  } finally {
    button.disabled = false;
  }
}

function importSummary(name, result) {
  const parts = [
    ["created", "entries created"],
    ["updated", "entries updated"],
    ["unchanged", "entries unchanged"],
    ["intents_created", "intents created"],
    ["intents_updated", "intents updated"],
    ["intents_unchanged", "intents unchanged"],
  ];
  const counts = parts
    .filter(([key]) => (result[key] || []).length || ["created", "updated", "unchanged"].includes(key))
    .map(([key, label]) => h("li", { dataset: { testid: `import-${key.replace("_", "-")}`, count: (result[key] || []).length } }, h("strong", { text: (result[key] || []).length }), ` ${label}`));
  const changed = [...(result.created || []), ...(result.updated || [])];
  return [
    h("strong", { text: `Imported ${name}.` }),
    h("ul", { className: "counts" }, counts),
    changed.length ? h("details", {}, h("summary", { text: "Which entries" }), h("p", { className: "mono small", text: changed.join(", ") })) : null,
  ];
}

async function reindex() {
  const button = $("#reindex");
  const report = $("#reindex-report");
  report.hidden = true;
  button.disabled = true;
  try {
    const job = await api("POST", "/api/admin/kb/reindex-jobs");
    const finished = await followJob(job, $("#reindex-progress"));
    if (finished.state === "done") {
      const r = finished.result || {};
      report.dataset.kind = "ok";
      report.replaceChildren(h("strong", { text: "Index rebuilt: " }), `${r.entries ?? "?"} entries, ${r.vectors ?? "?"} phrasings.`);
      report.hidden = false;
    } else {
      report.dataset.kind = "error";
      showError(report, `Reindexing failed: ${(finished.error && finished.error.message) || "unknown error"}`);
    }
  } catch (failure) {
    report.dataset.kind = "error";
    showError(report, describe(failure), failure.details);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------
// Intents

const intents = { list: [], current: null, historyOpen: false, languages: [] };

async function loadIntents() {
  try {
    intents.list = await api("GET", "/api/admin/kb/intents");
    renderIntents();
    if (intents.current) {
      const fresh = intents.list.find((i) => i.name === intents.current.name);
      if (fresh && fresh.version !== intents.current.version) fillIntent(fresh);
    }
  } catch (failure) {
    toast(`Could not load the intents: ${describe(failure)}`, "error");
  }
}

function exampleCount(intent) {
  return Object.values(intent.examples || {}).reduce((sum, list) => sum + list.length, 0);
}

function renderIntents() {
  $("#intent-count").textContent = String(intents.list.length);
  $("#intent-rows").replaceChildren(
    ...intents.list.map((intent) =>
      h(
        "tr",
        {
          dataset: { testid: "intent-row", name: intent.name },
          attrs: { tabindex: 0, "aria-selected": String(Boolean(intents.current && intents.current.name === intent.name)) },
          on: {
            click: () => fillIntent(intent),
            keydown: (event) => {
              if (event.key === "Enter") fillIntent(intent);
            },
          },
        },
        h("td", { className: "mono", text: intent.name }),
        h("td", {}, h("span", { className: `badge badge--${intent.action === "handoff" ? "handoff" : "respond"}`, text: intent.action })),
        h("td", { className: "muted", text: intent.description }),
        h("td", { className: "num", text: exampleCount(intent) }),
        h("td", { className: "num", text: intent.version }),
      ),
    ),
  );
}

function fillIntent(intent) {
  intents.current = intent;
  $("#intent-editor").hidden = false;
  $("#intent-split").classList.add("split--open");
  $("#intent-error").hidden = true;
  $("#intent-title").textContent = intent ? intent.name : "New intent";
  $("#intent-meta").textContent = intent ? `version ${intent.version} by ${intent.author}, ${formatDate(intent.updated_at)}` : "Not saved yet";
  $("#intent-name").value = intent ? intent.name : "";
  $("#intent-name").readOnly = Boolean(intent);
  $("#intent-description").value = intent ? intent.description : "";
  $("#intent-action").value = intent ? intent.action : "respond";
  $("#intent-delete").hidden = !intent;
  $("#intent-history-toggle").hidden = !intent;
  $("#intent-save").textContent = intent ? "Save" : "Create";
  const languages = new Set(["en", "zh"]);
  if (intent) for (const key of [...Object.keys(intent.responses || {}), ...Object.keys(intent.examples || {})]) languages.add(key);
  intents.languages = [...languages];
  renderIntentLanguages(intent);
  for (const row of document.querySelectorAll("#intent-rows tr")) row.setAttribute("aria-selected", String(Boolean(intent && row.dataset.name === intent.name)));
  if (intent && intents.historyOpen) loadIntentHistory();
  else $("#intent-history").hidden = true;
}

function renderIntentLanguages(intent) {
  const container = $("#intent-languages");
  container.replaceChildren(
    ...intents.languages.map((language) => {
      const examples = (intent && intent.examples && intent.examples[language]) || [];
      return h(
        "fieldset",
        { className: "lang-block", dataset: { language } },
        h("legend", { text: language }),
        h(
          "label",
          { className: "field" },
          h("span", { className: "field__label", text: "Response" }),
          h("textarea", { rows: 2, value: (intent && intent.responses && intent.responses[language]) || "", dataset: { role: "response", testid: `intent-response-${language}` } }),
        ),
        h(
          "label",
          { className: "field" },
          h("span", { className: "field__label" }, "Examples ", h("span", { className: "field__hint", text: `(one per line; ${examples.length} now)` })),
          h("textarea", { rows: 5, value: examples.join("\n"), dataset: { role: "examples", testid: `intent-examples-${language}` } }),
        ),
      );
    }),
  );
  const add = $("#intent-add-language");
  add.replaceChildren(...EXTRA_LANGUAGES.filter((l) => !intents.languages.includes(l)).map((l) => h("option", { value: l, text: l })));
}

function addIntentLanguage() {
  const language = $("#intent-add-language").value;
  if (!language || intents.languages.includes(language)) return;
  const draft = intentForm();
  intents.languages.push(language);
  renderIntentLanguages({ ...(intents.current || {}), responses: draft.responses, examples: draft.examples });
}

function intentForm() {
  const responses = {};
  const examples = {};
  for (const block of document.querySelectorAll("#intent-languages .lang-block")) {
    const language = block.dataset.language;
    const response = $("[data-role=response]", block).value.trim();
    const list = lines($("[data-role=examples]", block).value);
    if (response) responses[language] = response;
    if (list.length) examples[language] = list;
  }
  return {
    name: $("#intent-name").value.trim(),
    description: $("#intent-description").value.trim(),
    action: $("#intent-action").value,
    responses,
    examples,
  };
}

async function saveIntent(event) {
  event.preventDefault();
  const error = $("#intent-error");
  error.hidden = true;
  const body = intentForm();
  if (!body.name) {
    showError(error, "Give the intent a name.");
    return;
  }
  try {
    let saved;
    if (intents.current) {
      const { name, ...changes } = body;
      saved = await api("PATCH", `/api/admin/kb/intents/${encodeURIComponent(name)}`, { ...changes, expected_version: intents.current.version });
    } else {
      saved = await api("POST", "/api/admin/kb/intents", body);
    }
    toast(`Saved ${saved.name}. The bot retrains in the background with the new examples.`);
    intents.current = saved;
    await loadIntents();
    fillIntent(saved);
  } catch (failure) {
    const message = failure.status === 409 && intents.current ? "Someone changed this intent since you opened it; reopen it and edit again." : describe(failure);
    showError(error, message, failure.details);
  }
}

async function deleteIntent() {
  const intent = intents.current;
  if (!intent) return;
  if (!(await confirmAction("Delete this intent?", `The bot will no longer recognise “${intent.name}” once it retrains.`, "Delete"))) return;
  try {
    await api("DELETE", `/api/admin/kb/intents/${encodeURIComponent(intent.name)}`);
    intents.current = null;
    $("#intent-editor").hidden = true;
    $("#intent-split").classList.remove("split--open");
    toast(`Deleted ${intent.name}.`);
    loadIntents();
  } catch (failure) {
    showError($("#intent-error"), describe(failure), failure.details);
  }
}

function toggleIntentHistory() {
  intents.historyOpen = !intents.historyOpen;
  $("#intent-history-toggle").setAttribute("aria-expanded", String(intents.historyOpen));
  if (intents.historyOpen) loadIntentHistory();
  else $("#intent-history").hidden = true;
}

async function loadIntentHistory() {
  const intent = intents.current;
  if (!intent) return;
  try {
    const revisions = await api("GET", `/api/admin/kb/intents/${encodeURIComponent(intent.name)}/history`);
    const newest = [...revisions].sort((a, b) => b.version - a.version || b.id - a.id);
    const panel = $("#intent-history");
    panel.replaceChildren(h("h3", { className: "history__title", text: `History of ${intent.name}` }), ...newest.map((r) => revisionCard(r, { currentVersion: intent.version })));
    panel.hidden = false;
  } catch (failure) {
    toast(`Could not load the history: ${describe(failure)}`, "error");
  }
}

// ---------------------------------------------------------------------------------------
// Test the bot

async function testBot(event) {
  event.preventDefault();
  const text = $("#test-text").value.trim();
  if (!text) {
    $("#test-text").focus();
    return;
  }
  const body = { text };
  const language = $("#test-language").value;
  if (language) body.language = language;
  const button = $("#test-submit");
  button.disabled = true;
  try {
    renderTest(await api("POST", "/api/admin/bot/test", body));
  } catch (failure) {
    const result = $("#test-result");
    result.replaceChildren(h("div", { className: "form-error" }, describe(failure)));
    result.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function confidenceBar(value) {
  const share = Math.max(0, Math.min(1, Number(value) || 0));
  return h("span", { className: "conf" }, h("span", { className: "conf__bar" }, h("i", { attrs: { style: `width:${Math.round(share * 100)}%` } })), h("span", { text: trimNumber(share, 3) }));
}

function kv(pairs) {
  return h(
    "dl",
    { className: "kv" },
    pairs.filter(Boolean).flatMap(([key, value, testid]) => [h("dt", { text: key }), h("dd", { dataset: { testid } }, value instanceof Node ? value : String(value ?? "—"))]),
  );
}

function renderTest(result) {
  const decision = result.decision || {};
  const intent = result.intent;
  const reply = result.reply || {};
  const sentiment = result.sentiment || {};
  const chosen = decision.entry_id;

  const decisionCard = h(
    "section",
    { className: "card result-card" },
    h("h3", { className: "card__title", text: "Decision" }),
    kv([
      ["Language", result.language, "test-language"],
      ["Decision", h("span", { className: `badge badge--decision`, text: decision.kind }), "test-decision-kind"],
      ["Because", decision.reason, "test-decision-reason"],
      decision.detail ? ["Detail", decision.detail, "test-decision-detail"] : null,
      decision.entry_id ? ["FAQ entry", h("span", { className: "mono", text: decision.entry_id }), "test-decision-entry"] : null,
      decision.intent ? ["Intent", decision.intent, "test-decision-intent"] : null,
      decision.suggestions && decision.suggestions.length ? ["Suggests", decision.suggestions.join(", "), "test-decision-suggestions"] : null,
    ]),
  );

  const replyBubble = h("div", { className: "bubble", dataset: { testid: "test-reply" } });
  renderAnswer(replyBubble, reply.text || "");
  const suggestionList = Array.isArray(reply.suggestions) && reply.suggestions.length
    ? h("ul", { className: "suggestions" }, reply.suggestions.map((s) => h("li", { text: typeof s === "string" ? s : s.question || s.entry_id })))
    : null;
  const replyCard = h(
    "section",
    { className: "card result-card" },
    h("h3", { className: "card__title" }, "Reply ", h("span", { className: "muted small", text: reply.kind ? `(${reply.kind})` : "" })),
    reply.text ? replyBubble : h("p", { className: "muted", text: "The bot would stay silent." }),
    suggestionList,
  );

  const intentCard = h(
    "section",
    { className: "card result-card" },
    h("h3", { className: "card__title", text: "Intent" }),
    intent
      ? [
          kv([
            ["Best guess", h("span", { className: "mono", text: intent.name }), "test-intent"],
            ["Confidence", confidenceBar(intent.confidence), "test-intent-confidence"],
            ["In scope", intent.in_scope ? "yes (above the threshold)" : "no (below the threshold)", "test-intent-in-scope"],
            ["Action", intent.action, "test-intent-action"],
          ]),
          h("h4", { className: "subhead", text: "Runners-up" }),
          h(
            "ol",
            { className: "runners", dataset: { testid: "test-runners-up" } },
            (intent.runners_up || []).map((r) => h("li", {}, h("span", { className: "mono", text: r.name }), " ", confidenceBar(r.confidence))),
          ),
        ]
      : h("p", { className: "muted", dataset: { testid: "test-intent" }, text: "No intent model is serving." }),
  );

  const sentimentCard = h(
    "section",
    { className: "card result-card" },
    h("h3", { className: "card__title", text: "Sentiment" }),
    kv([
      ["Label", h("span", { className: `badge badge--sentiment-${sentiment.label}`, text: sentiment.label }), "test-sentiment"],
      ["Score", trimNumber(sentiment.score, 3), "test-sentiment-score"],
      ["Signals", (sentiment.signals || []).join(", ") || "none", "test-sentiment-signals"],
    ]),
  );

  const faqTable = h(
    "section",
    { className: "card result-card result-card--wide" },
    h("h3", { className: "card__title", text: "Retrieved FAQ entries" }),
    result.faqs && result.faqs.length
      ? h(
          "table",
          { className: "table" },
          h("thead", {}, h("tr", {}, h("th", { text: "Entry" }), h("th", { text: "Lang" }), h("th", { className: "num", text: "Fused" }), h("th", { className: "num", text: "Dense" }), h("th", { className: "num", text: "Lexical" }))),
          h(
            "tbody",
            {},
            result.faqs.map((hit) =>
              h(
                "tr",
                { className: hit.entry_id === chosen ? "row--chosen" : "", dataset: { testid: "test-faq-row", entryId: hit.entry_id } },
                h("td", {}, h("div", { className: "cell-title", text: hit.question }), h("div", { className: "cell-sub mono", text: hit.entry_id })),
                h("td", { text: hit.language }),
                h("td", { className: "num", dataset: { testid: "score-fused" } }, h("strong", { text: trimNumber(hit.score, 3) })),
                h("td", { className: "num", dataset: { testid: "score-dense" }, text: trimNumber(hit.dense, 3) }),
                h("td", { className: "num", dataset: { testid: "score-lexical" }, text: trimNumber(hit.lexical, 3) }),
              ),
            ),
          ),
        )
      : h("p", { className: "muted", text: "No entry was retrieved." }),
  );

  const versions = result.model_versions || {};
  const footer = h("p", { className: "muted small result-foot", text: `Models: embedding ${versions.embedding || "—"}, intent ${versions.intent || "—"}, sentiment ${versions.sentiment || "—"}.` });

  const container = $("#test-result");
  container.replaceChildren(h("div", { className: "result-grid" }, decisionCard, replyCard, intentCard, sentimentCard, faqTable), footer);
  container.hidden = false;
}

// ---------------------------------------------------------------------------------------
// Training

const training = { models: null, following: null };

async function loadModels() {
  try {
    training.models = await api("GET", "/api/admin/bot/models");
    renderModels();
    const job = training.models.training;
    if (job && job.state === "running" && training.following !== job.id) followTraining(job);
  } catch (failure) {
    toast(`Could not load the models: ${describe(failure)}`, "error");
  }
}

function metricText(value, kind) {
  if (value === null || value === undefined) return "—";
  if (kind === "rate") return percent(value);
  if (kind === "int") return String(Math.round(value));
  return trimNumber(value, 3);
}

function versionOf(name) {
  return ((training.models && training.models.versions) || []).find((v) => v.version === name) || null;
}

function renderModels() {
  const models = training.models;
  $("#model-current").textContent = models.current || "none";
  $("#model-background").textContent = models.background_training ? "The bot is retraining after an intent edit; that model activates on its own." : "";
  $("#model-rows").replaceChildren(
    ...models.versions.map((v) => {
      const m = v.metrics || {};
      const current = v.version === models.current;
      return h(
        "tr",
        { dataset: { testid: "model-row", version: v.version }, className: current ? "row--chosen" : "" },
        h("td", {}, h("span", { className: "mono", text: v.version }), current ? h("span", { className: "badge badge--ok", text: "serving" }) : null),
        h("td", { className: "nowrap", text: formatDate(v.trained_at) }),
        ...METRICS.map(([key, , kind]) => h("td", { className: "num", text: metricText(m[key], kind) })),
        h(
          "td",
          { className: "num" },
          current
            ? null
            : h("button", {
                className: "btn btn--small",
                type: "button",
                text: isNewer(v.version, models.current) ? "Activate" : "Roll back to this",
                dataset: { testid: "model-activate", version: v.version },
                on: { click: () => activateModel(v.version) },
              }),
        ),
      );
    }),
  );
}

function isNewer(version, than) {
  return !than || String(version).localeCompare(String(than), undefined, { numeric: true }) > 0;
}

async function train() {
  $("#train-error").hidden = true;
  $("#train-compare").hidden = true;
  try {
    const job = await api("POST", "/api/admin/bot/train");
    followTraining(job);
  } catch (failure) {
    showError($("#train-error"), failure.status === 409 ? "A training run is already under way; its progress shows here." : describe(failure), failure.status === 409 ? [] : failure.details);
    if (failure.status === 409) loadModels();
  }
}

async function followTraining(job) {
  training.following = job.id;
  const button = $("#train");
  button.disabled = true;
  try {
    const finished = await followJob(job, $("#train-progress"));
    if (finished.state !== "done") {
      showError($("#train-error"), `Training failed: ${(finished.error && finished.error.message) || "unknown error"}`, (finished.error && finished.error.details) || []);
      return;
    }
    training.models = await api("GET", "/api/admin/bot/models");
    renderModels();
    renderCompare(finished.result);
  } catch (failure) {
    showError($("#train-error"), describe(failure));
  } finally {
    button.disabled = false;
    training.following = null;
  }
}

function renderCompare(result) {
  const candidate = result.version;
  const current = versionOf(training.models.current);
  const currentMetrics = (current && current.metrics) || {};
  const candidateMetrics = result.metrics || {};
  const box = $("#train-compare");
  const serving = training.models.current === candidate;
  box.replaceChildren(
    h("h3", { className: "subhead" }, "Candidate ", h("span", { className: "mono", text: candidate, dataset: { testid: "candidate-version" } }), " beside the serving model"),
    h(
      "table",
      { className: "table compare" },
      h("thead", {}, h("tr", {}, h("th", { text: "Metric" }), h("th", { className: "num" }, "Current ", h("span", { className: "mono muted", text: training.models.current || "—" })), h("th", { className: "num" }, "Candidate ", h("span", { className: "mono muted", text: candidate })), h("th", { className: "num", text: "Change" }))),
      h(
        "tbody",
        {},
        METRICS.map(([key, label, kind]) => {
          const before = currentMetrics[key];
          const after = candidateMetrics[key];
          const delta = typeof before === "number" && typeof after === "number" ? after - before : null;
          const shown = delta === null ? null : kind === "rate" ? trimNumber(delta * 100, 1) : trimNumber(delta, kind === "int" ? 0 : 3);
          const deltaText = shown === null ? "—" : Number(shown) === 0 ? "±0" : `${delta > 0 ? "+" : ""}${shown}${kind === "rate" ? " pts" : ""}`;
          const better = kind === "rate" && delta !== null && Math.abs(delta) > 1e-9 ? (delta > 0 ? "up" : "down") : "";
          return h(
            "tr",
            { dataset: { testid: "compare-row", metric: key } },
            h("td", { text: label }),
            h("td", { className: "num", dataset: { testid: "compare-current" }, text: metricText(before, kind) }),
            h("td", { className: "num", dataset: { testid: "compare-candidate" }, text: metricText(after, kind) }),
            h("td", { className: `num delta delta--${better}`, text: deltaText }),
          );
        }),
      ),
    ),
    h(
      "div",
      { className: "editor__actions" },
      serving
        ? h("span", { className: "badge badge--ok", text: "This candidate is serving" })
        : h("button", { className: "btn btn--primary", type: "button", id: "activate-candidate", dataset: { testid: "activate-candidate", version: candidate }, text: `Activate ${candidate}`, on: { click: () => activateModel(candidate) } }),
    ),
  );
  box.hidden = false;
}

async function activateModel(version) {
  try {
    const body = await api("POST", `/api/admin/bot/models/${encodeURIComponent(version)}/activate`);
    toast(`Now serving ${body.current}.`);
    await loadModels();
    const activate = $("#activate-candidate");
    if (activate && activate.dataset.version === body.current) {
      activate.replaceWith(h("span", { className: "badge badge--ok", text: "This candidate is serving" }));
    }
  } catch (failure) {
    showError($("#train-error"), describe(failure), failure.details);
  }
}

// ---------------------------------------------------------------------------------------
// Learning

const learning = { clusters: [], cluster: null, intentNames: [] };

function learningFilters() {
  const start = $("#learning-start").value;
  const end = $("#learning-end").value;
  return { start, end: end ? nextDay(end) : "", language: $("#learning-language").value };
}

async function loadClusters() {
  const list = $("#clusters");
  list.setAttribute("aria-busy", "true");
  try {
    const body = await api("GET", `/api/admin/learning/clusters${query(learningFilters())}`);
    learning.clusters = body.clusters || [];
    $("#learning-summary").textContent = `${body.signals} question${body.signals === 1 ? "" : "s"} in ${body.total_clusters} group${body.total_clusters === 1 ? "" : "s"}`;
    renderClusters();
  } catch (failure) {
    list.replaceChildren(h("div", { className: "form-error" }, describe(failure), failure.details && failure.details.length ? detailList(failure.details) : null));
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

function renderClusters() {
  const list = $("#clusters");
  if (!learning.clusters.length) {
    list.replaceChildren(h("div", { className: "card empty-state", text: "Nothing to review: the bot served every question in this range." }));
    return;
  }
  list.replaceChildren(
    ...learning.clusters.map((cluster) => {
      const reasons = Object.entries(cluster.reasons || {}).map(([key, n]) => h("span", { className: `badge badge--reason-${key}`, text: `${n} ${REASONS[key] || key}` }));
      const shown = cluster.texts.slice(0, 8);
      return h(
        "article",
        { className: "card cluster", dataset: { testid: "cluster", key: cluster.key } },
        h(
          "header",
          { className: "cluster__head" },
          h("h3", { className: "cluster__title", text: cluster.representative, dataset: { testid: "cluster-representative" } }),
          h("span", { className: "badge badge--count", text: `${cluster.size}×`, attrs: { title: "questions in this group" } }),
        ),
        h("div", { className: "cluster__meta" }, ...reasons, h("span", { className: "muted small", text: `${Object.entries(cluster.languages || {}).map(([l, n]) => `${l} ${n}`).join(", ")} · cohesion ${trimNumber(cluster.cohesion, 2)} · last ${formatDate(cluster.last_seen)}` })),
        h("ul", { className: "cluster__texts" }, shown.map((text) => h("li", { text })), cluster.texts.length > shown.length ? h("li", { className: "muted", text: `and ${cluster.texts.length - shown.length} more` }) : null),
        h(
          "p",
          { className: "muted small" },
          cluster.suggested_intent ? `The intent model guessed “${cluster.suggested_intent}”. ` : "",
          cluster.answered_with ? `The bot answered with ${cluster.answered_with}.` : "",
        ),
        h(
          "div",
          { className: "cluster__actions" },
          h("button", { className: "btn btn--primary btn--small", type: "button", text: "Make FAQ entry", dataset: { testid: "cluster-make-faq" }, on: { click: () => openClusterFaq(cluster) } }),
          h("button", { className: "btn btn--small", type: "button", text: "Add to intent", dataset: { testid: "cluster-add-intent" }, on: { click: () => openClusterIntent(cluster) } }),
          h("button", { className: "btn btn--ghost btn--small", type: "button", text: "Dismiss", dataset: { testid: "cluster-dismiss" }, on: { click: () => dismissCluster(cluster) } }),
        ),
      );
    }),
  );
}

function openClusterFaq(cluster) {
  learning.cluster = cluster;
  $("#cluster-faq-error").hidden = true;
  $("#cluster-faq-question").value = cluster.representative;
  $("#cluster-faq-alternatives").value = cluster.texts.filter((t) => t !== cluster.representative).join("\n");
  $("#cluster-faq-answer").value = "";
  $("#cluster-faq-category").value = "general";
  $("#cluster-faq-language").value = ["en", "zh"].includes(cluster.language) ? cluster.language : "";
  $("#cluster-faq-status").value = "published";
  updatePreview("#cluster-faq-answer", "#cluster-faq-preview");
  $("#cluster-faq-dialog").showModal();
  $("#cluster-faq-answer").focus();
}

async function saveClusterFaq(event) {
  event.preventDefault();
  const cluster = learning.cluster;
  if (!cluster) return;
  const error = $("#cluster-faq-error");
  error.hidden = true;
  const entry = {
    question: $("#cluster-faq-question").value.trim(),
    alternatives: lines($("#cluster-faq-alternatives").value),
    answer: $("#cluster-faq-answer").value.trim(),
    category: $("#cluster-faq-category").value.trim() || "general",
    status: $("#cluster-faq-status").value,
  };
  const language = $("#cluster-faq-language").value;
  if (language) entry.language = language;
  if (!entry.question || !entry.answer) {
    showError(error, "Write an answer first.");
    return;
  }
  const button = $("#cluster-faq-save");
  button.disabled = true;
  try {
    const body = await api("POST", "/api/admin/learning/faq", { exchange_ids: cluster.exchange_ids, entry });
    $("#cluster-faq-dialog").close();
    toast(`Created FAQ entry ${body.entry_id}; ${body.reviewed} question${body.reviewed === 1 ? "" : "s"} reviewed.`);
    learning.cluster = null;
    state.loaded.delete("kb"); // the list there is stale now
    loadClusters();
  } catch (failure) {
    showError(error, describe(failure), failure.details);
  } finally {
    button.disabled = false;
  }
}

async function openClusterIntent(cluster) {
  learning.cluster = cluster;
  $("#cluster-intent-error").hidden = true;
  const select = $("#cluster-intent-name");
  try {
    const list = await api("GET", "/api/admin/kb/intents");
    learning.intentNames = list.map((i) => i.name);
  } catch (failure) {
    toast(`Could not load the intents: ${describe(failure)}`, "error");
    return;
  }
  select.replaceChildren(...learning.intentNames.map((name) => h("option", { value: name, text: name })));
  if (cluster.suggested_intent && learning.intentNames.includes(cluster.suggested_intent)) select.value = cluster.suggested_intent;
  const box = $("#cluster-intent-examples");
  box.replaceChildren(
    h("legend", { className: "field__label", text: "Add these as examples" }),
    ...cluster.texts.map((text) => h("label", { className: "check" }, h("input", { type: "checkbox", checked: true, value: text }), h("span", { text }))),
  );
  $("#cluster-intent-dialog").showModal();
}

async function saveClusterIntent(event) {
  event.preventDefault();
  const cluster = learning.cluster;
  if (!cluster) return;
  const error = $("#cluster-intent-error");
  error.hidden = true;
  const examples = [...document.querySelectorAll("#cluster-intent-examples input:checked")].map((input) => input.value);
  if (!examples.length) {
    showError(error, "Tick at least one question to add.");
    return;
  }
  const intent = $("#cluster-intent-name").value;
  try {
    const body = await api("POST", "/api/admin/learning/intent", { exchange_ids: cluster.exchange_ids, intent, examples });
    $("#cluster-intent-dialog").close();
    toast(`Added ${body.added} example${body.added === 1 ? "" : "s"} to ${body.intent}; the bot retrains in the background.`);
    learning.cluster = null;
    loadClusters();
  } catch (failure) {
    showError(error, describe(failure), failure.details);
  }
}

async function dismissCluster(cluster) {
  if (!(await confirmAction("Dismiss this group?", `The ${cluster.size} question${cluster.size === 1 ? "" : "s"} like “${cluster.representative}” leave this list without a change to the bot.`, "Dismiss"))) return;
  try {
    await api("POST", "/api/admin/learning/dismiss", { exchange_ids: cluster.exchange_ids });
    toast("Dismissed.");
    loadClusters();
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

// ---------------------------------------------------------------------------------------
// Analytics

let plotlyLoading = null;

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = h("script", { src: "/admin/vendor/plotly.min.js", async: true });
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () => {
        plotlyLoading = null;
        reject(new Error("the charting library did not load"));
      });
      document.head.append(script);
    });
  }
  return plotlyLoading;
}

const analytics = { summary: null, request: 0 };

async function initAnalytics() {
  $("#analytics-start").value = todayUtc(-29);
  $("#analytics-end").value = todayUtc(0);
  const [teams, users] = await Promise.allSettled([api("GET", "/api/agent/teams"), api("GET", "/api/admin/users")]);
  if (teams.status === "fulfilled") {
    const names = ((teams.value && teams.value.teams) || []).map((t) => (typeof t === "string" ? t : t.name));
    $("#analytics-team").replaceChildren(h("option", { value: "", text: "all" }), ...names.map((n) => h("option", { value: n, text: n })));
  }
  if (users.status === "fulfilled") {
    const people = (users.value && users.value.users) || [];
    $("#analytics-agent").replaceChildren(h("option", { value: "", text: "all" }), ...people.map((u) => h("option", { value: u.username, text: u.display_name && u.display_name !== u.username ? `${u.display_name} (${u.username})` : u.username })));
  }
  loadAnalytics();
}

function analyticsFilters() {
  const start = $("#analytics-start").value;
  const end = $("#analytics-end").value;
  return {
    start,
    end: end ? nextDay(end) : "",
    language: $("#analytics-language").value,
    team: $("#analytics-team").value,
    agent: $("#analytics-agent").value,
  };
}

async function loadAnalytics() {
  analytics.request += 1;
  const request = analytics.request;
  const filters = analyticsFilters();
  const error = $("#analytics-error");
  error.hidden = true;
  renderCsvLinks(filters);
  $("#tiles").setAttribute("aria-busy", "true");
  try {
    const [summary] = await Promise.all([api("GET", `/api/admin/analytics/summary${query(filters)}`), loadPlotly().catch((e) => e)]);
    if (request !== analytics.request) return;
    analytics.summary = summary;
    renderTiles(summary);
    renderScorecard(summary.agents || []);
    if (window.Plotly) renderCharts(summary);
    else showError(error, "The charts could not load (plotly.js); the numbers above are complete.");
    $("#tiles").setAttribute("aria-busy", "false");
  } catch (failure) {
    if (request !== analytics.request) return;
    showError(error, describe(failure), failure.details);
  }
}

function renderCsvLinks(filters) {
  $("#csv-links").replaceChildren(
    ...CSV_EXPORTS.map(([metric, label]) =>
      h("a", {
        className: "btn btn--small",
        text: label,
        attrs: { href: `/api/admin/analytics/export.csv${query({ metric, ...filters })}`, download: `kefu-${metric}.csv`, "data-testid": `csv-${metric}` },
      }),
    ),
  );
}

function rateSub(r, noun) {
  if (!r || !r.denominator) return `no ${noun} yet`;
  return `${r.numerator} of ${r.denominator} ${noun}`;
}

function tile(id, label, value, sub, hint) {
  return h(
    "div",
    { className: "tile", attrs: { title: hint || null } },
    h("div", { className: "tile__label", text: label }),
    h("div", { className: "tile__value", text: value, dataset: { testid: `tile-${id}` } }),
    h("div", { className: "tile__sub", text: sub, dataset: { testid: `tile-${id}-sub` } }),
  );
}

function csatText(group) {
  return group && group.csat_mean !== null && group.csat_mean !== undefined ? trimNumber(group.csat_mean, 2) : "—";
}

function csatSub(group) {
  if (!group || !group.responses) return "no ratings yet";
  return `${group.responses} rating${group.responses === 1 ? "" : "s"} · ${percent(group.csat_satisfied && group.csat_satisfied.rate)} gave 4–5`;
}

function renderTiles(s) {
  const sat = s.satisfaction || {};
  const nps = (sat.overall && sat.overall.nps) || {};
  const sla = (s.sla && s.sla.breached) || {};
  const frt = s.first_response || {};
  $("#tiles").replaceChildren(
    tile("conversations", "Conversations", String(s.conversations), "with a customer message", "Engaged conversations in scope"),
    tile("containment", "Containment", percent(s.containment.rate), rateSub(s.containment, "without a person"), "Not escalated and not reopened within 24 h"),
    tile("escalation", "Escalation rate", percent(s.escalation.overall.rate), rateSub(s.escalation.overall, "escalated")),
    tile("bot-answer", "Bot answer rate", percent(s.bot_answers.answer.rate), rateSub(s.bot_answers.answer, "bot turns answered")),
    tile("fallback", "Fallback rate", percent(s.bot_answers.fallback.rate), rateSub(s.bot_answers.fallback, "bot turns fell back")),
    tile("fcr", "First-contact resolution", percent(s.first_contact_resolution.rate), rateSub(s.first_contact_resolution, "closed chats")),
    tile("csat-bot", "CSAT, bot only", csatText(sat.bot_only), csatSub(sat.bot_only), "Mean rating 1–5 where no person took part"),
    tile("csat-person", "CSAT, with a person", csatText(sat.person_handled), csatSub(sat.person_handled), "Mean rating 1–5 where a person handled the chat"),
    tile("nps", "NPS", nps.score === null || nps.score === undefined ? "—" : trimNumber(nps.score, 1), nps.responses ? `${plural(nps.responses, "answer")}: ${plural(nps.promoters, "promoter")}, ${plural(nps.detractors, "detractor")}` : "no answers yet"),
    tile("complaints", "Complaint rate", percent(s.complaints.rate.rate), rateSub(s.complaints.rate, "complained")),
    tile("sla", "SLA breaches", String(sla.numerator ?? 0), sla.denominator ? `${percent(sla.rate)} of ${sla.denominator} live tickets` : "no live tickets"),
    tile("frt-bot", "First response, bot", duration(frt.bot && frt.bot.p50), frt.bot && frt.bot.count ? `median of ${frt.bot.count} · p90 ${duration(frt.bot.p90)}` : "no replies yet"),
    tile("frt-person", "First response, person", duration(frt.people && frt.people.p50), frt.people && frt.people.count ? `median of ${frt.people.count} · p90 ${duration(frt.people.p90)}` : "no tickets answered yet"),
  );
}

const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const ACCENT = "#4f46e5";

function plotLayout(extra = {}) {
  return {
    margin: { l: 44, r: 12, t: 8, b: 36 },
    height: 230,
    font: { family: getComputedStyle(document.body).fontFamily, size: 12, color: "#1d2330" },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    xaxis: { gridcolor: "#eceef2", zeroline: false },
    yaxis: { gridcolor: "#eceef2", zeroline: false, rangemode: "tozero" },
    bargap: 0.25,
    showlegend: false,
    ...extra,
  };
}

function emptyLayout(message) {
  return plotLayout({
    xaxis: { visible: false },
    yaxis: { visible: false },
    annotations: [{ text: message, showarrow: false, font: { color: "#9aa1ad", size: 13 }, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }],
  });
}

/** Whole-number ticks for counts: no "1, 1, 2, 2" when the largest count is small. */
function countAxis(max, extra = {}) {
  return { gridcolor: "#eceef2", rangemode: "tozero", tickformat: ",d", ...(max <= 8 ? { dtick: 1 } : {}), ...extra };
}

function plot(id, traces, layout) {
  const node = document.getElementById(id);
  window.Plotly.react(node, traces, layout, PLOT_CONFIG);
  node.dataset.rendered = "true";
}

function renderCharts(s) {
  const days = s.volume.by_day || [];
  plot(
    "chart-volume-day",
    days.length ? [{ type: "bar", x: days.map((d) => d.day), y: days.map((d) => d.conversations), marker: { color: ACCENT }, hovertemplate: "%{x}: %{y} conversations<extra></extra>" }] : [],
    days.length
      ? plotLayout({ bargap: days.length < 4 ? 0.7 : 0.25, xaxis: { type: "category", gridcolor: "#eceef2" }, yaxis: countAxis(Math.max(...days.map((d) => d.conversations))) })
      : emptyLayout("No conversations"),
  );
  const hours = s.volume.by_hour || [];
  plot(
    "chart-volume-hour",
    [{ type: "bar", x: hours.map((_, i) => i), y: hours, marker: { color: ACCENT }, hovertemplate: "%{x}:00: %{y} conversations<extra></extra>" }],
    plotLayout({ xaxis: { dtick: 2, gridcolor: "#eceef2", title: { text: "hour (UTC)", standoff: 4 } }, yaxis: countAxis(Math.max(0, ...hours)) }),
  );
  keyedChart("chart-escalation-reason", s.escalation.by_reason || [], "#d97706", (key) => key.replace(/_/g, " "));
  keyedChart("chart-escalation-intent", s.escalation.by_intent || [], "#dc2626", (key) => key);
  const mood = s.sentiment_by_day || [];
  plot(
    "chart-sentiment",
    mood.length
      ? [{ type: "scatter", mode: "lines+markers", x: mood.map((d) => d.day), y: mood.map((d) => d.mean), customdata: mood.map((d) => d.exchanges), line: { color: "#16a34a", width: 2 }, marker: { size: 7 }, hovertemplate: "%{x}: %{y:.2f} over %{customdata} turns<extra></extra>" }]
      : [],
    mood.length ? plotLayout({ xaxis: { type: "category", gridcolor: "#eceef2" }, yaxis: { range: [-1, 1], gridcolor: "#eceef2", zeroline: true, zerolinecolor: "#cfd3db" } }) : emptyLayout("No bot turns"),
  );
  const within = (s.complaints && s.complaints.answered_within) || {};
  const windows = ["24h", "48h", "72h"];
  const anyComplaint = windows.some((w) => within[w] && within[w].denominator);
  plot(
    "chart-complaints",
    anyComplaint
      ? [{ type: "bar", x: windows.map((w) => `within ${w}`), y: windows.map((w) => (within[w] && within[w].rate) || 0), text: windows.map((w) => (within[w] ? `${within[w].numerator}/${within[w].denominator}` : "")), textposition: "auto", marker: { color: "#7c3aed" }, hovertemplate: "%{x}: %{y:.0%}<extra></extra>" }]
      : [],
    anyComplaint ? plotLayout({ yaxis: { range: [0, 1], tickformat: ".0%", gridcolor: "#eceef2" } }) : emptyLayout("No complaints"),
  );
  renderRadars(s.agents || []);
}

function keyedChart(id, rows, color, label) {
  if (!rows.length) {
    plot(id, [], emptyLayout("No escalations"));
    return;
  }
  const ordered = [...rows].reverse(); // plotly draws the first category at the bottom
  plot(
    id,
    [{ type: "bar", orientation: "h", y: ordered.map((r) => label(r.key)), x: ordered.map((r) => r.conversations), customdata: ordered.map((r) => percent(r.rate)), marker: { color }, hovertemplate: "%{y}: %{x} conversations (%{customdata} of all)<extra></extra>" }],
    plotLayout({ margin: { l: 140, r: 12, t: 8, b: 32 }, bargap: rows.length < 3 ? 0.5 : 0.25, xaxis: countAxis(Math.max(...rows.map((r) => r.conversations))), yaxis: { automargin: true } }),
  );
}

function renderScorecard(agents) {
  const body = $("#scorecard-rows");
  if (!agents.length) {
    body.replaceChildren(h("tr", {}, h("td", { className: "empty", attrs: { colspan: 10 }, text: "No person handled a chat in this view." })));
    return;
  }
  body.replaceChildren(
    ...agents.map((a) =>
      h(
        "tr",
        { dataset: { testid: "scorecard-row", agent: a.username } },
        h("td", {}, h("div", { className: "cell-title", text: a.display_name || a.username }), h("div", { className: "cell-sub mono", text: a.username })),
        h("td", { className: "num", text: a.conversations_handled }),
        h("td", { className: "num", text: duration(a.first_response.mean) }),
        h("td", { className: "num", text: duration(a.first_response.p50) }),
        h("td", { className: "num", text: duration(a.handle_time.mean) }),
        h("td", { className: "num", text: a.csat_mean === null ? "—" : trimNumber(a.csat_mean, 2) }),
        h("td", { className: "num", text: a.closed }),
        h("td", { className: "num", text: a.handed_back }),
        h("td", { className: "num", text: a.transferred_away }),
        h("td", { className: "num", text: percent(a.resolution.rate) }),
      ),
    ),
  );
}

/** Each axis 0..1 (see the caption in index.html): bigger is always better. */
function radarScores(agents) {
  const most = Math.max(0, ...agents.map((a) => a.conversations_handled));
  const fastest = (values) => {
    const known = values.filter((v) => typeof v === "number" && v > 0);
    return known.length ? Math.min(...known) : null;
  };
  const quickestResponse = fastest(agents.map((a) => a.first_response.mean));
  const quickestHandling = fastest(agents.map((a) => a.handle_time.mean));
  const speed = (value, best) => (typeof value !== "number" ? 0 : value <= 0 || best === null ? 1 : best / value);
  return agents.map((a) => ({
    agent: a,
    values: [
      most ? a.conversations_handled / most : 0,
      speed(a.first_response.mean, quickestResponse),
      speed(a.handle_time.mean, quickestHandling),
      a.csat_mean === null ? 0 : Math.max(0, Math.min(1, (a.csat_mean - 1) / 4)),
      a.resolution.rate === null ? 0 : a.resolution.rate,
    ],
  }));
}

const RADAR_AXES = ["volume", "1st response", "handling", "CSAT", "resolution"];

function renderRadars(agents) {
  const box = $("#radars");
  for (const old of box.querySelectorAll(".radar__plot")) window.Plotly.purge(old);
  box.replaceChildren();
  for (const { agent, values } of radarScores(agents)) {
    const plotNode = h("div", { className: "radar__plot" });
    box.append(h("figure", { className: "radar", dataset: { testid: "radar", agent: agent.username } }, h("figcaption", { text: agent.display_name || agent.username }), plotNode));
    window.Plotly.newPlot(
      plotNode,
      [{ type: "scatterpolar", r: [...values, values[0]], theta: [...RADAR_AXES, RADAR_AXES[0]], fill: "toself", fillcolor: "rgba(79,70,229,0.18)", line: { color: ACCENT }, hovertemplate: "%{theta}: %{r:.2f}<extra></extra>" }],
      {
        height: 240,
        margin: { l: 70, r: 70, t: 22, b: 22 },
        font: { family: getComputedStyle(document.body).fontFamily, size: 11 },
        paper_bgcolor: "rgba(0,0,0,0)",
        polar: { radialaxis: { range: [0, 1], tickvals: [0.5, 1], showline: false, gridcolor: "#e3e5ea" }, angularaxis: { gridcolor: "#e3e5ea" } },
        showlegend: false,
      },
      PLOT_CONFIG,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Users

const users = { list: [], editing: null };

async function loadUsers() {
  try {
    const [body, teams] = await Promise.all([api("GET", "/api/admin/users"), api("GET", "/api/agent/teams").catch(() => ({ teams: [] }))]);
    users.list = body.users || [];
    const names = ((teams && teams.teams) || []).map((t) => (typeof t === "string" ? t : t.name));
    $("#team-options").replaceChildren(...names.map((n) => h("option", { value: n })));
    renderUsers();
  } catch (failure) {
    toast(`Could not load the staff list: ${describe(failure)}`, "error");
  }
}

function renderUsers() {
  $("#user-count").textContent = String(users.list.length);
  $("#user-rows").replaceChildren(
    ...users.list.map((u) =>
      h(
        "tr",
        { dataset: { testid: "user-row", username: u.username }, className: u.disabled ? "row--disabled" : "" },
        h("td", {}, h("div", { className: "cell-title", text: u.display_name || u.username }), h("div", { className: "cell-sub mono", text: u.username })),
        h("td", {}, h("span", { className: `badge badge--role-${u.role}`, text: u.role, dataset: { testid: "role-badge" } })),
        h("td", { text: (u.teams || []).join(", ") || "—" }),
        h("td", { text: (u.languages || []).join(", ") || "any" }),
        h("td", { text: (u.topics || []).join(", ") || "any" }),
        h("td", { className: "num", text: `${u.active_chats}/${u.max_chats}` }),
        h("td", {}, h("span", { className: `presence-dot presence-dot--${u.presence}` }), ` ${u.presence}`),
        h("td", {}, u.disabled ? h("span", { className: "badge badge--archived", text: "disabled", dataset: { testid: "user-status" } }) : h("span", { className: "badge badge--ok", text: "active", dataset: { testid: "user-status" } })),
        h(
          "td",
          { className: "num nowrap" },
          h("button", { className: "btn btn--small", type: "button", text: "Edit", dataset: { testid: "user-edit" }, on: { click: () => editUser(u) } }),
          " ",
          state.user && u.username === state.user.username
            ? null
            : h("button", { className: "btn btn--small btn--ghost", type: "button", text: u.disabled ? "Enable" : "Disable", dataset: { testid: "user-toggle" }, on: { click: () => setDisabled(u, !u.disabled) } }),
        ),
      ),
    ),
  );
}

function editUser(user) {
  users.editing = user;
  $("#user-form-title").textContent = `Edit ${user.username}`;
  $("#user-form-reset").hidden = false;
  $("#user-username").value = user.username;
  $("#user-username").readOnly = true;
  $("#user-display-name").value = user.display_name || "";
  $("#user-password-field").hidden = true;
  $("#user-password").value = "";
  $("#user-role").value = user.role;
  $("#user-teams").value = (user.teams || []).join(", ");
  $("#user-languages").value = (user.languages || []).join(", ");
  $("#user-topics").value = (user.topics || []).join(", ");
  $("#user-max-chats").value = String(user.max_chats);
  $("#user-disabled-field").hidden = false;
  $("#user-disabled").checked = Boolean(user.disabled);
  $("#user-submit").textContent = "Save changes";
  $("#user-error").hidden = true;
  $("#user-display-name").focus();
}

function resetUserForm() {
  users.editing = null;
  $("#user-form").reset();
  $("#user-form-title").textContent = "Add a staff member";
  $("#user-form-reset").hidden = true;
  $("#user-username").readOnly = false;
  $("#user-password-field").hidden = false;
  $("#user-disabled-field").hidden = true;
  $("#user-submit").textContent = "Create";
  $("#user-error").hidden = true;
}

async function submitUser(event) {
  event.preventDefault();
  const error = $("#user-error");
  error.hidden = true;
  const maxChats = $("#user-max-chats").value.trim();
  const profile = {
    role: $("#user-role").value,
    teams: commaList($("#user-teams").value),
    languages: commaList($("#user-languages").value),
    topics: commaList($("#user-topics").value),
  };
  if (maxChats) profile.max_chats = Number(maxChats);
  const displayName = $("#user-display-name").value.trim();
  try {
    if (users.editing) {
      const body = { ...profile, disabled: $("#user-disabled").checked };
      if (displayName) body.display_name = displayName;
      const saved = await api("PATCH", `/api/admin/users/${encodeURIComponent(users.editing.username)}`, body);
      toast(`Saved ${saved.username}.`);
    } else {
      const username = $("#user-username").value.trim();
      const password = $("#user-password").value;
      if (!username || !password) {
        showError(error, "A username and a password are needed.");
        return;
      }
      if (!profile.teams.length) delete profile.teams; // the desk's default team
      const saved = await api("POST", "/api/admin/users", { username, password, display_name: displayName, ...profile });
      toast(`Created ${saved.username}.`);
    }
    resetUserForm();
    loadUsers();
  } catch (failure) {
    showError(error, failure.status === 409 ? "That username is taken." : describe(failure), failure.details);
  }
}

async function setDisabled(user, disabled) {
  if (disabled && !(await confirmAction(`Disable ${user.username}?`, "They are signed out of new requests, cannot sign in and get no chats until enabled again.", "Disable"))) return;
  try {
    await api("PATCH", `/api/admin/users/${encodeURIComponent(user.username)}`, { disabled });
    toast(`${user.username} ${disabled ? "disabled" : "enabled"}.`);
    loadUsers();
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

// ---------------------------------------------------------------------------------------
// Audit

const audit = { offset: 0, total: 0 };

async function loadAudit() {
  const params = {
    entity: $("#audit-entity").value,
    author: $("#audit-author").value.trim(),
    entity_id: $("#audit-entity-id").value.trim(),
    limit: AUDIT_PAGE,
    offset: audit.offset,
  };
  try {
    const page = await api("GET", `/api/admin/kb/audit${query(params)}`);
    audit.total = page.total;
    const body = $("#audit-rows");
    if (!page.items.length) {
      body.replaceChildren(h("tr", {}, h("td", { className: "empty", attrs: { colspan: 6 }, text: "No changes match." })));
    } else {
      body.replaceChildren(
        ...page.items.map((r) =>
          h(
            "tr",
            { dataset: { testid: "audit-row", entity: r.entity, entityId: r.entity_id, version: r.version } },
            h("td", { className: "nowrap", text: formatDate(r.created_at) }),
            h("td", { text: r.author }),
            h("td", {}, h("span", { className: "muted", text: `${r.entity === "faq" ? "FAQ" : r.entity} ` }), h("span", { className: "mono", text: r.entity_id })),
            h("td", { className: "num", text: r.version }),
            h("td", {}, h("span", { className: `badge badge--action-${r.action}`, text: r.action })),
            h("td", { className: "audit-changes" }, changeList(r.changes, { max: 160 })),
          ),
        ),
      );
    }
    const first = page.total ? audit.offset + 1 : 0;
    $("#audit-page-info").textContent = `${first}–${audit.offset + page.items.length} of ${page.total}`;
    $("#audit-prev").disabled = audit.offset === 0;
    $("#audit-next").disabled = audit.offset + AUDIT_PAGE >= page.total;
  } catch (failure) {
    const body = $("#audit-rows");
    body.replaceChildren(h("tr", {}, h("td", { attrs: { colspan: 6 } }, h("div", { className: "form-error" }, describe(failure), failure.details && failure.details.length ? detailList(failure.details) : null))));
  }
}

// ---------------------------------------------------------------------------------------
// Wiring

function wireStatic() {
  $("#login-form").addEventListener("submit", submitLogin);
  $("#logout").addEventListener("click", logout);
  for (const tab of TABS) $(`#tab-${tab}`).addEventListener("click", () => selectTab(tab, { reload: true }));
  $(".tabs").addEventListener("keydown", onTabKeydown);
  window.addEventListener("hashchange", () => {
    const wanted = location.hash.replace(/^#/, "");
    if (state.user && TABS.includes(wanted) && wanted !== state.tab) selectTab(wanted);
  });

  // Knowledge base
  const refilter = () => {
    kb.offset = 0;
    loadFaqs();
  };
  $("#kb-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    refilter();
  });
  $("#kb-q").addEventListener("input", debounce(refilter, 250));
  for (const id of ["#kb-category", "#kb-language", "#kb-status"]) $(id).addEventListener("change", refilter);
  $("#kb-prev").addEventListener("click", () => {
    kb.offset = Math.max(0, kb.offset - KB_PAGE);
    loadFaqs();
  });
  $("#kb-next").addEventListener("click", () => {
    kb.offset += KB_PAGE;
    loadFaqs();
  });
  $("#kb-new").addEventListener("click", newEntry);
  $("#faq-close").addEventListener("click", closeEntry);
  $("#faq-form").addEventListener("submit", saveEntry);
  $("#faq-answer").addEventListener("input", () => updatePreview("#faq-answer", "#faq-preview"));
  $("#faq-publish").addEventListener("click", () => entryAction("publish", "Published: customers get this answer now."));
  $("#faq-unpublish").addEventListener("click", () => entryAction("unpublish", "Unpublished: back to draft."));
  $("#faq-archive").addEventListener("click", () => entryAction("archive", "Archived."));
  $("#faq-delete").addEventListener("click", deleteEntry);
  $("#faq-history-toggle").addEventListener("click", toggleHistory);
  $("#import-form").addEventListener("submit", submitImport);
  $("#reindex").addEventListener("click", reindex);

  // Intents
  $("#intent-new").addEventListener("click", () => {
    fillIntent(null);
    $("#intent-name").focus();
  });
  $("#intent-close").addEventListener("click", () => {
    intents.current = null;
    $("#intent-editor").hidden = true;
    $("#intent-split").classList.remove("split--open");
    renderIntents();
  });
  $("#intent-form").addEventListener("submit", saveIntent);
  $("#intent-delete").addEventListener("click", deleteIntent);
  $("#intent-history-toggle").addEventListener("click", toggleIntentHistory);
  $("#intent-add-language-button").addEventListener("click", addIntentLanguage);

  // Test the bot
  $("#test-form").addEventListener("submit", testBot);
  $("#test-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("#test-form").requestSubmit();
    }
  });

  // Training
  $("#train").addEventListener("click", train);

  // Learning
  $("#learning-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadClusters();
  });
  $("#cluster-faq-form").addEventListener("submit", saveClusterFaq);
  $("#cluster-faq-answer").addEventListener("input", () => updatePreview("#cluster-faq-answer", "#cluster-faq-preview"));
  $("#cluster-faq-cancel").addEventListener("click", () => $("#cluster-faq-dialog").close());
  $("#cluster-intent-form").addEventListener("submit", saveClusterIntent);
  $("#cluster-intent-cancel").addEventListener("click", () => $("#cluster-intent-dialog").close());

  // Analytics
  $("#analytics-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAnalytics();
  });
  for (const id of ["#analytics-start", "#analytics-end", "#analytics-language", "#analytics-team", "#analytics-agent"]) $(id).addEventListener("change", () => loadAnalytics());

  // Users
  $("#user-form").addEventListener("submit", submitUser);
  $("#user-form-reset").addEventListener("click", resetUserForm);

  // Audit
  $("#audit-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    audit.offset = 0;
    loadAudit();
  });
  $("#audit-prev").addEventListener("click", () => {
    audit.offset = Math.max(0, audit.offset - AUDIT_PAGE);
    loadAudit();
  });
  $("#audit-next").addEventListener("click", () => {
    audit.offset += AUDIT_PAGE;
    loadAudit();
  });
}

boot();
