// kefu admin console: plain ES2020 modules, no build step, no third-party code (plotly.js is
// loaded from the server's installed plotly package, only when the Analytics tab opens).
//
// This module signs in (the shared /staff/assets/session.js), switches tabs and keeps the tab in
// the address; each tab is a module of its own that wires its controls and loads its data.
// APIs: /api/admin/kb, /api/admin/bot (and /api/admin/bot/actions), /api/admin/learning, /api/admin/analytics,
// /api/admin/users, /api/admin/jobs, /api/admin/audit-log, /api/admin/privacy, /api/admin/customers, /api/agent/quality (docs/metrics.md defines the analytics numbers).
// Rendering never uses innerHTML: server and customer text always becomes text nodes, and
// answers are previewed with the widget's own safe renderer (window.KefuWidget.renderMarkdown).

import { $ } from "/staff/assets/dom.js";
import { session, startSession } from "/staff/assets/session.js";
import { loadActions, wireActions } from "./actions.js";
import { initAnalytics, loadAnalytics, wireAnalytics } from "./analytics.js";
import { loadAudit, wireAudit } from "./audit.js";
import { loadChannels, wireChannels } from "./channels.js";
import { loadIntents, wireIntents } from "./intents.js";
import { initKb, loadFaqs, wireKb } from "./kb.js";
import { wireKbTools } from "./kb-tools.js";
import { loadClusters, wireLearning } from "./learning.js";
import { wireTestBot } from "./testbot.js";
import { loadStaffAudit, wireStaffAudit } from "./staff-audit.js";
import { loadPrivacy, wirePrivacy } from "./privacy.js";
import { loadQuality, wireQuality } from "./quality.js";
import { loadModels, wireTraining } from "./training.js";
import { loadedTabs } from "./ui.js";
import { loadUsers, wireUsers } from "./users.js";

const BASE_TITLE = "kefu admin";
// The tab buttons in index.html are the list of tabs: #tab-NAME shows #pane-NAME. A tab is for
// admins unless its data-roles names more roles (supervisors: analytics and quality).
const ALL_TABS = [...document.querySelectorAll(".tabs [role=tab]")].map((button) => button.dataset.tab);
let TABS = ALL_TABS;

function tabsFor(role) {
  return ALL_TABS.filter((tab) => ($(`#tab-${tab}`).dataset.roles || "admin").split(" ").includes(role));
}

let currentTab = null;

function notForYou(username, role) {
  if (role === "admin" || role === "supervisor") return "";
  const what = role || "staff member";
  const elsewhere = what === "agent" ? ", or use the agent console at /console" : "";
  return `Only administrators can use this page (supervisors: its analytics and quality review). “${username}” is ${/^[aeiou]/i.test(what) ? "an" : "a"} ${what}; ask an administrator for access${elsewhere}.`;
}

function enterWorkspace(user) {
  TABS = tabsFor(user.role);
  for (const tab of ALL_TABS) $(`#tab-${tab}`).hidden = !TABS.includes(tab);
  const wanted = location.hash.replace(/^#/, "");
  selectTab(TABS.includes(wanted) ? wanted : TABS[0]);
}

function selectTab(name, { reload = false } = {}) {
  currentTab = name;
  for (const tab of ALL_TABS) {
    const button = $(`#tab-${tab}`);
    button.setAttribute("aria-selected", String(tab === name));
    button.tabIndex = tab === name ? 0 : -1;
    $(`#pane-${tab}`).hidden = tab !== name;
  }
  document.title = `${$(`#tab-${name}`).textContent} · ${BASE_TITLE}`;
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  const first = !loadedTabs.has(name);
  loadedTabs.add(name);
  const loaders = {
    kb: () => (first ? initKb() : loadFaqs()),
    intents: loadIntents,
    actions: loadActions,
    channels: loadChannels,
    test: () => $("#test-text").focus(),
    training: loadModels,
    learning: loadClusters,
    analytics: () => (first ? initAnalytics() : loadAnalytics()),
    users: loadUsers,
    audit: loadAudit,
    "staff-audit": loadStaffAudit,
    privacy: loadPrivacy,
    quality: loadQuality,
  };
  if (first || reload || name !== "kb") loaders[name]();
}

function onTabKeydown(event) {
  const index = TABS.indexOf(currentTab);
  let next = null;
  if (event.key === "ArrowRight") next = TABS[(index + 1) % TABS.length];
  if (event.key === "ArrowLeft") next = TABS[(index - 1 + TABS.length) % TABS.length];
  if (!next) return;
  event.preventDefault();
  selectTab(next);
  $(`#tab-${next}`).focus();
}

function wireTabs() {
  for (const tab of ALL_TABS) $(`#tab-${tab}`).addEventListener("click", () => selectTab(tab, { reload: true }));
  $(".tabs").addEventListener("keydown", onTabKeydown);
  window.addEventListener("hashchange", () => {
    const wanted = location.hash.replace(/^#/, "");
    if (session.user && TABS.includes(wanted) && wanted !== currentTab) selectTab(wanted);
  });
}

wireTabs();
wireKb();
wireKbTools();
wireIntents();
wireActions();
wireChannels();
wireTestBot();
wireTraining();
wireLearning();
wireAnalytics();
wireUsers();
wireAudit();
wireStaffAudit();
wirePrivacy();
wireQuality();
startSession({
  storageKey: "kefu.admin.csrf",
  title: BASE_TITLE,
  lead: "Sign in to manage the knowledge base, the bot and the team.",
  refuse: notForYou,
  enter: enterWorkspace,
  leave: () => loadedTabs.clear(),
});
