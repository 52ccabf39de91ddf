// Sign-in, sign-out and session restore for a staff page. The page has an empty
// <main id="login-view" hidden> where the sign-in form is built, and a #workspace with
// #me-name and a #logout button (an Account button is added before it).
//
// Sign-in may take a second step (a code from an authenticator app), and an account may have
// to do something before its workspace opens: change a temporary password, or set up two-step
// sign-in when its role needs it. Those cards take the sign-in card's place.
//
// The CSRF token lives in sessionStorage under a key of the page's own, so a reload keeps the
// session while another page's sign-out in the same browser does not leave a stale token here.

import { openAccount, mfaEnrolment, passwordForm } from "./account.js";
import { api, describe, onRestricted, onSessionLost, setCsrfToken } from "./api.js";
import { $, h, toast } from "./dom.js";

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
  const config = { storageKey, title, refuse, enter, leave, beforeSignIn, form: loginForm(title, lead) };
  $("#login-view").replaceChildren(config.form);
  $("#login-form").addEventListener("submit", (event) => submitLogin(event, config));
  $("#logout").addEventListener("click", () => logout(config));
  $("#logout").before(h("button", { id: "account", className: "btn btn--ghost btn--small", type: "button", text: "Account", dataset: { testid: "account" }, on: { click: () => openAccount().catch((f) => toast(describe(f), "error")) } }));
  onSessionLost(() => sessionLost(config));
  onRestricted(() => restricted(config));

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

function card(...children) {
  return h("div", { className: "login-card" }, ...children);
}

/** The account must change its password or enrol first: that card, then the workspace. */
function showRequired(user, config) {
  session.user = user;
  $("#workspace").hidden = true;
  $("#login-view").hidden = false;
  const again = async () => {
    const me = await api("GET", "/api/auth/me");
    enterWorkspace(me, config);
  };
  const heading = (text) => h("h1", { className: "brand brand--large", text });
  const signOut = h("button", { className: "btn btn--ghost btn--block", type: "button", text: "Sign out", on: { click: () => logout(config) } });
  const content =
    user.required === "password_change_required"
      ? card(heading("Choose a new password"), passwordForm(again, { lead: "You signed in with a temporary password. Choose your own before you go on." }), signOut)
      : card(heading("Set up two-step sign-in"), h("p", { className: "login-card__lead", text: "Your role needs a code from an authenticator app at every sign-in." }), mfaEnrolment(again), signOut);
  content.dataset.testid = "account-required";
  $("#login-view").replaceChildren(content);
  const first = $("input", content);
  if (first) first.focus();
}

async function restricted(config) {
  if (!session.user) return;
  try {
    showRequired(await api("GET", "/api/auth/me"), config);
  } catch {
    // A lost session is handled by the sign-out path.
  }
}

/** The second step: a code from the app, or a recovery code. */
function showSecondStep(challenge, config) {
  const code = h("input", { id: "login-code", name: "code", autocomplete: "one-time-code", required: true, maxLength: 64, attrs: { "aria-describedby": "login-code-hint" } });
  const error = h("p", { className: "login-card__error", attrs: { role: "alert", "data-testid": "login-error" }, hidden: true });
  const submit = h("button", { className: "btn btn--primary btn--block", type: "submit", text: "Verify" });
  const form = h(
    "form",
    { id: "login-mfa-form", className: "login-card", attrs: { novalidate: true } },
    h("div", { className: "brand brand--large" }, h("span", { className: "brand__mark", text: "客", attrs: { "aria-hidden": "true" } }), config.title),
    h("p", { className: "login-card__lead", id: "login-code-hint", text: "Enter the six-digit code from your authenticator app, or one of your recovery codes." }),
    h("label", { className: "field" }, h("span", { className: "field__label", text: "Code" }), code),
    error,
    submit,
    h("button", { className: "btn btn--ghost btn--block", type: "button", text: "Back", on: { click: () => showLogin(config) } }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const body = await api("POST", "/api/auth/login/mfa", { challenge, code: code.value.trim() });
      signedIn(body, config);
    } catch (failure) {
      if (failure.details.some((d) => d && d.code === "challenge_expired")) {
        showLogin(config, "The sign-in took too long. Enter your password again.");
        return;
      }
      error.textContent = failure.status === 401 ? "That code is not right." : describe(failure);
      error.hidden = false;
      code.select();
    } finally {
      submit.disabled = false;
    }
  });
  $("#login-view").replaceChildren(form);
  code.focus();
}

function signedIn(body, config) {
  const refused = config.refuse(body.user.username, body.user.role);
  if (refused) {
    // Signed in, but this page is not theirs: say so plainly, and leave their session alone
    // (it may be another staff page's in another tab).
    showLogin(config, refused);
    return;
  }
  setCsrfToken(body.csrf_token);
  sessionStorage.setItem(config.storageKey, body.csrf_token);
  enterWorkspace(body.user, config);
}

function enterWorkspace(user, config) {
  if (user.required) {
    showRequired(user, config);
    return;
  }
  session.user = user;
  $("#login-view").hidden = true;
  $("#workspace").hidden = false;
  $("#me-name").textContent = user.display_name || user.username;
  config.enter(user);
}

function showLogin(config, message = "") {
  if ($("#login-view").firstChild !== config.form) $("#login-view").replaceChildren(config.form);
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
    error.hidden = true;
    if (body.mfa_required) showSecondStep(body.challenge, config);
    else signedIn(body, config);
  } catch (failure) {
    error.textContent = failure.status === 401 ? "Wrong username or password." : describe(failure);
    error.hidden = false;
    $("#login-password").select();
  } finally {
    $("#login-submit").disabled = false;
  }
}

function forget(config) {
  // The Account dialog holds the last member's sessions and settings.
  const account = $("#account-dialog");
  if (account) account.remove();
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
