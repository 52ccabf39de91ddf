// The offline-message card: with nobody online or outside business hours, the customer leaves
// an email address and a message. A part of sync() (main.js adds it).

import { api } from "./api.js";
import { CUSTOMER, MAX_CHARS } from "./config.js";
import { el } from "./dom.js";
import { S } from "./state.js";
import { lengthText, offlineWhen, t } from "./texts.js";
import { card, dropCard, errorLine, fail, field, ui } from "./view.js";

export function syncOffline() {
  if (S.offline && !S.offlineSent && S.state !== "closed" && S.state !== "agent") card("offline", offlineForm);
  else dropCard("offline");
}

function offlineForm() {
  const email = el("input", { type: "email", required: "", autocomplete: "email", "data-testid": "kefu-offline-email" });
  const name = el("input", { autocomplete: "name", "data-testid": "kefu-offline-name" });
  // No maxlength: a pasted message over the limit is refused whole, never cut.
  const text = el("textarea", { required: "", rows: "3", "data-testid": "kefu-offline-text" });
  const error = errorLine();
  const submit = el("button", { cls: "primary", type: "submit", "data-testid": "kefu-offline-submit", text: t("offlineSend") });
  email.value = CUSTOMER.email;
  name.value = CUSTOMER.name;
  const form = el("form", { cls: "card", "data-testid": "kefu-offline-form", novalidate: "", "aria-label": t("offlineTitle") }, [
    el("h3", { text: t("offlineTitle") }),
    el("p", { text: (S.offline ? offlineWhen(S.offline) + " " : "") + t("offlineIntro") }),
    field(t("email"), email), field(t("nameOpt"), name), field(t("message"), text), error, submit]);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.hidden = true;
    const body = { email: email.value.trim(), text: text.value.trim() };
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email)) return fail(error, t("badEmail"), email);
    if (!body.text) return fail(error, t("needText"), text);
    const n = Array.from(body.text).length;
    if (n > MAX_CHARS) return fail(error, lengthText(n), text);
    if (name.value.trim()) body.name = name.value.trim();
    submit.disabled = true;
    api("POST", "/offline-message", body).then(() => {
      // The "message received" note comes as an event; the form has done its job.
      S.offlineSent = true;
      dropCard("offline");
      ui.input.focus();
    }, (err) => {
      submit.disabled = false;
      fail(error, err.message);
    });
  });
  return form;
}
