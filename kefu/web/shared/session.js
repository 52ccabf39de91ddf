// Sign-in, sign-out and session restore for a staff page. The page has an empty
// <main id="login-view" hidden> where the sign-in form is built, and a #workspace with
// #me-name and a #logout button.
//
// The CSRF token lives in sessionStorage under a key of the page's own, so a reload keeps the
// session while another page's sign-out in the same browser does not leave a stale token here.

import { api, describe, onSessionLost, setCsrfToken } from "./api.js";
import { $, h } from "./dom.js";

/** The signed-in staff member ({username, display_name, role}), or null. */
export const session = { user: null };

/**
 * Restore the session or show the sign-in form.
 *   storageKey: where the CSRF token is kept; title: the page's name (the document title when
 *   signed out, and the sign-in card's heading); lead: the line under that heading;
 *   refuse(username, role): why this page is not for them ("" when it is);
 *   enter(user): open the page's workspace; leave(): forget it on sign-out or a lost session;
 *   beforeSignIn(): runs in the sign-in click (user activation: audio may be unlocked there).
 */
export async function startSession({ storageKey, title, lead, refuse = () => "", enter, leave = () => {}, beforeSignIn = () => {} }) {
  const config = { storageKey, title, refuse, enter, leave, beforeSignIn };
  $("#login-view").replaceChildren(loginForm(title, lead));
  $("#login-form").addEventListener("submit", (event) => submitLogin(event, config));
  $("#logout").addEventListener("click", () => logout(config));
  onSessionLost(() => sessionLost(config));

  const csrf = sessionStorage.getItem(storageKey);
  setCsrfToken(csrf);
  let user = null;
  try {
    user = await api("GET", "/api/auth/me", undefined, { authProbe: true });
  } catch {
    user = null;
  }
  const refused = user ? refuse(user.username, user.role) : "";
  if (user && csrf && !refused) enterWorkspace(user, config);
  else showLogin(config, refused);
}

function loginForm(title, lead) {
  const field = (label, input) => h("label", { className: "field" }, h("span", { className: "field__label", text: label }), input);
  return h(
    "form",
    { id: "login-form", className: "login-card", attrs: { autocomplete: "on", novalidate: true } },
    h("div", { className: "brand brand--large" }, h("span", { className: "brand__mark", text: "客", attrs: { "aria-hidden": "true" } }), title),
    h("p", { className: "login-card__lead", text: lead }),
    field("Username", h("input", { id: "login-username", name: "username", autocomplete: "username", required: true, maxLength: 64 })),
    field("Password", h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true, maxLength: 1024 })),
    h("p", { id: "login-error", className: "login-card__error", attrs: { role: "alert", "data-testid": "login-error" }, hidden: true }),
    h("button", { id: "login-submit", className: "btn btn--primary btn--block", type: "submit", text: "Sign in" }),
  );
}

function enterWorkspace(user, config) {
  session.user = user;
  $("#login-view").hidden = true;
  $("#workspace").hidden = false;
  $("#me-name").textContent = user.display_name || user.username;
  config.enter(user);
}

function showLogin(config, message = "") {
  $("#workspace").hidden = true;
  $("#login-view").hidden = false;
  document.title = config.title;
  const error = $("#login-error");
  error.textContent = message;
  error.hidden = !message;
  $("#login-submit").disabled = false;
  $("#login-password").value = "";
  ($("#login-username").value ? $("#login-password") : $("#login-username")).focus();
}

async function submitLogin(event, config) {
  event.preventDefault();
  const username = $("#login-username").value.trim();
  const password = $("#login-password").value;
  const error = $("#login-error");
  if (!username || !password) {
    error.textContent = "Enter your username and password.";
    error.hidden = false;
    return;
  }
  config.beforeSignIn();
  $("#login-submit").disabled = true;
  try {
    const body = await api("POST", "/api/auth/login", { username, password });
    const refused = config.refuse(username, body.user && body.user.role);
    if (refused) {
      // Signed in, but this page is not theirs: say so plainly, and leave their session alone
      // (it may be another staff page's in another tab).
      error.textContent = refused;
      error.hidden = false;
      $("#login-password").value = "";
      return;
    }
    setCsrfToken(body.csrf_token);
    sessionStorage.setItem(config.storageKey, body.csrf_token);
    error.hidden = true;
    enterWorkspace(body.user, config);
  } catch (failure) {
    error.textContent = failure.status === 401 ? "Wrong username or password." : describe(failure);
    error.hidden = false;
    $("#login-password").select();
  } finally {
    $("#login-submit").disabled = false;
  }
}

function forget(config) {
  sessionStorage.removeItem(config.storageKey);
  session.user = null;
  setCsrfToken(null);
  config.leave();
}

async function logout(config) {
  try {
    await api("POST", "/api/auth/logout", undefined, { authProbe: true });
  } catch {
    // The session may already be gone; leaving is what matters.
  }
  forget(config);
  showLogin(config);
}

function sessionLost(config) {
  if (!session.user) return;
  forget(config);
  showLogin(config, "Your session has ended. Please sign in again.");
}
