// A staff member's own account: the password change (also the forced one after a temporary
// password), two-step sign-in set-up (also the forced one for roles that need it) and turning
// it off, and the list of their sessions. Used by session.js; imports nothing of it.

import { api, describe } from "./api.js";
import { $, h, toast } from "./dom.js";
import { formatDate } from "./format.js";

let fieldCount = 0;

function field(label, options) {
  const id = `account-field-${++fieldCount}`;
  return h("label", { className: "field", attrs: { for: id } }, h("span", { className: "field__label", text: label }), h("input", { id, required: true, ...options }));
}

function errorLine(testid) {
  return h("p", { className: "form-error", attrs: { role: "alert", "data-testid": testid }, hidden: true });
}

function showError(node, failure) {
  node.textContent = describe(failure);
  node.hidden = false;
}

/** The password change form; ``done()`` runs after the change. */
export function passwordForm(done, { lead = "" } = {}) {
  const current = field("Current password", { type: "password", autocomplete: "current-password", maxLength: 1024, dataset: { testid: "current-password" } });
  const fresh = field("New password", { type: "password", autocomplete: "new-password", maxLength: 1024, dataset: { testid: "new-password" } });
  const hint = h("p", { className: "field__hint", text: "At least 10 characters, not your username, not a common password: a few uncommon words together work well." });
  const error = errorLine("password-error");
  const submit = h("button", { className: "btn btn--primary", type: "submit", text: "Change password", dataset: { testid: "password-submit" } });
  const form = h("form", { className: "account-form", attrs: { novalidate: true } }, lead ? h("p", { className: "login-card__lead", text: lead }) : null, current, fresh, hint, error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await api("POST", "/api/auth/password", { current_password: $("input", current).value, new_password: $("input", fresh).value });
      form.reset();
      error.hidden = true;
      toast("Password changed. Your other sessions were signed out.");
      done();
    } catch (failure) {
      showError(error, failure);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Two-step sign-in set-up: a QR code to scan, then a code from the app; ``done()`` runs once
 * the recovery codes have been shown and put away. */
export function mfaEnrolment(done) {
  const box = h("div", { className: "mfa-enrolment", dataset: { testid: "mfa-enrolment" } });
  const error = errorLine("mfa-error");
  const start = async () => {
    try {
      const setup = await api("POST", "/api/auth/mfa/setup");
      const code = field("Code from the app", { inputMode: "numeric", autocomplete: "one-time-code", maxLength: 6, dataset: { testid: "mfa-code" } });
      const form = h(
        "form",
        { attrs: { novalidate: true } },
        h("p", { className: "small", text: "Scan this with an authenticator app, then enter the six-digit code it shows." }),
        // An image, not markup: the SVG cannot run anything from there.
        h("img", { className: "mfa-qr", src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qr_svg)}`, alt: "QR code for the authenticator app", dataset: { testid: "mfa-qr" } }),
        h("p", { className: "small muted" }, "Cannot scan? Key: ", h("span", { className: "mono", text: setup.secret, dataset: { testid: "mfa-secret" } })),
        code,
        error,
        h("button", { className: "btn btn--primary", type: "submit", text: "Turn on", dataset: { testid: "mfa-confirm" } }),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          const body = await api("POST", "/api/auth/mfa/confirm", { code: $("input", code).value.trim() });
          box.replaceChildren(recoveryCodes(body.recovery_codes, done));
        } catch (failure) {
          showError(error, failure);
        }
      });
      box.replaceChildren(form);
      $("input", code).focus();
    } catch (failure) {
      box.replaceChildren(error);
      showError(error, failure);
    }
  };
  start();
  return box;
}

function recoveryCodes(codes, done) {
  return h(
    "div",
    {},
    h("p", { className: "small", text: "Two-step sign-in is on. Keep these recovery codes somewhere safe: each signs you in once without your phone. They are not shown again." }),
    h("ul", { className: "recovery-codes mono", dataset: { testid: "recovery-codes" } }, codes.map((c) => h("li", { text: c }))),
    h("button", { className: "btn btn--primary", type: "button", text: "I have saved them", dataset: { testid: "mfa-done" }, on: { click: () => done() } }),
  );
}

function mfaOff(done) {
  const password = field("Password", { type: "password", autocomplete: "current-password", maxLength: 1024 });
  const code = field("Code or recovery code", { autocomplete: "one-time-code", maxLength: 64 });
  const error = errorLine("mfa-off-error");
  const form = h("form", { attrs: { novalidate: true } }, password, code, error, h("button", { className: "btn btn--danger", type: "submit", text: "Turn off two-step sign-in" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/auth/mfa/disable", { password: $("input", password).value, code: $("input", code).value.trim() });
      toast("Two-step sign-in is off.");
      done();
    } catch (failure) {
      showError(error, failure);
    }
  });
  return form;
}

async function renderSessions(list) {
  try {
    const body = await api("GET", "/api/auth/sessions");
    list.replaceChildren(
      ...body.sessions.map((s) =>
        h(
          "li",
          { className: "session-row", dataset: { testid: "session-row", current: s.current } },
          h("div", {}, h("strong", { text: s.current ? "This browser" : s.user_agent || "Unknown browser" }), h("div", { className: "small muted", text: `${s.address || "unknown address"} · signed in ${formatDate(s.created_at)} · last seen ${formatDate(s.last_seen_at)}` })),
          s.current ? null : h("button", { className: "btn btn--small btn--ghost", type: "button", text: "Sign out", on: { click: () => endSession(list, s.id) } }),
        ),
      ),
    );
  } catch (failure) {
    list.replaceChildren(h("li", { className: "form-error", text: describe(failure) }));
  }
}

async function endSession(list, id) {
  try {
    await api("DELETE", `/api/auth/sessions/${encodeURIComponent(id)}`);
  } catch (failure) {
    toast(describe(failure), "error");
  }
  renderSessions(list);
}

/** The Account dialog: password, two-step sign-in, sessions. */
export async function openAccount() {
  let dialog = $("#account-dialog");
  if (!dialog) {
    dialog = h("dialog", { id: "account-dialog", className: "dialog dialog--account", attrs: { "aria-labelledby": "account-title" } });
    document.body.append(dialog);
  }
  const me = await api("GET", "/api/auth/me");
  const mfa = h("section", { className: "account-section" });
  const renderMfa = (enabled) => {
    mfa.replaceChildren(
      h("h3", { text: "Two-step sign-in" }),
      h("p", { className: "small muted", dataset: { testid: "mfa-status" }, text: enabled ? "On: sign-in asks for a code from your app." : "Off." }),
      enabled ? mfaOff(() => renderMfa(false)) : h("button", { className: "btn", type: "button", text: "Set up two-step sign-in", dataset: { testid: "mfa-setup" }, on: { click: (e) => e.target.replaceWith(mfaEnrolment(() => renderMfa(true))) } }),
    );
  };
  renderMfa(me.mfa_enabled);
  const sessions = h("ul", { className: "session-list" });
  dialog.replaceChildren(
    h("h2", { id: "account-title", text: "Your account" }),
    h("section", { className: "account-section" }, h("h3", { text: "Password" }), passwordForm(() => renderSessions(sessions))),
    mfa,
    h(
      "section",
      { className: "account-section" },
      h("h3", { text: "Sessions" }),
      sessions,
      h("button", { className: "btn btn--small", type: "button", text: "Sign out other sessions", dataset: { testid: "revoke-others" }, on: { click: async () => { await api("POST", "/api/auth/sessions/revoke-others").catch((f) => toast(describe(f), "error")); renderSessions(sessions); } } }),
    ),
    h("div", { className: "dialog__actions" }, h("button", { className: "btn", type: "button", text: "Close", on: { click: () => dialog.close() } })),
  );
  renderSessions(sessions);
  dialog.showModal();
}
