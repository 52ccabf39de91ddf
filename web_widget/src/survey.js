// The satisfaction survey after the chat is closed: CSAT 1–5 stars, a comment, and NPS 0–10
// when the server asks for it. A part of sync() (main.js adds it).

import { api } from "./api.js";
import { el } from "./dom.js";
import { S } from "./state.js";
import { t } from "./texts.js";
import { icon } from "./template.js";
import { card, cards, dropCard, errorLine, fail, field, sync } from "./view.js";

export function syncSurvey() {
  const closed = S.state === "closed";
  if (closed && !S.feedback && S.closed && (!S.closed.survey || S.closed.survey.csat !== false)) {
    card("survey", survey);
  } else if (closed && cards.survey && cards.survey.sent) {
    // Answered here: the card says thank you. (Answered elsewhere: the note says so.)
    if (!cards.survey.querySelector(".ok")) {
      cards.survey.textContent = "";
      cards.survey.appendChild(el("p", { cls: "ok", role: "status", "data-testid": "kefu-survey-thanks",
        text: t("surveyThanks") }));
    }
  } else {
    dropCard("survey");
  }
}

function survey() {
  const want = (S.closed && S.closed.survey) || {};
  let csat = 0;
  let nps = null;
  const stars = el("div", { cls: "stars", role: "radiogroup", "aria-label": t("csat") });
  const scale = el("div", { cls: "nps", role: "group", "aria-label": t("nps") });
  for (let n = 1; n <= 5; n++) {
    const label = t("star", { n });
    stars.appendChild(el("button", { cls: "star", type: "button", role: "radio", "aria-checked": "false",
      "data-testid": "kefu-csat-" + n, "aria-label": label, title: label, onclick: () => {
        csat = n;
        stars.childNodes.forEach((s, i) => {
          s.classList.toggle("on", i < n);
          s.setAttribute("aria-checked", i + 1 === n);
        });
      } })).innerHTML = icon("star");
  }
  for (let n = 0; n <= 10; n++) {
    scale.appendChild(el("button", { type: "button", "aria-pressed": "false", "data-testid": "kefu-nps-" + n,
      text: String(n), onclick: () => {
        nps = nps === n ? null : n;
        scale.childNodes.forEach((x, i) => x.setAttribute("aria-pressed", i === nps));
      } }));
  }
  const comment = el("textarea", { maxlength: "1000", rows: "2", "data-testid": "kefu-survey-comment" });
  const error = errorLine();
  const submit = el("button", { cls: "primary", type: "submit", "data-testid": "kefu-survey-submit", text: t("submit") });
  const form = el("form", { cls: "card", "data-testid": "kefu-survey", "aria-label": t("survey"), novalidate: "" }, [
    el("h3", { text: t("survey") }), field(t("csat"), stars, "div"), field(t("comment"), comment),
    want.nps === false ? null : field(t("nps"), el("div", {}, [scale, el("div", { cls: "scale" },
      [el("span", { text: t("npsLow") }), el("span", { text: t("npsHigh") })])]), "div"),
    error, submit]);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!csat) return fail(error, t("needStars"), stars.firstChild);
    const body = { csat };
    if (comment.value.trim()) body.comment = comment.value.trim();
    if (nps !== null) body.nps = nps;
    submit.disabled = true;
    error.hidden = true;
    form.sent = true;
    api("POST", "/feedback", body).catch((err) => {
      submit.disabled = false;
      form.sent = err.status === 409;  // already rated (in another tab)
      if (!form.sent) throw err;
    }).then(() => {
      S.feedback = true;
      sync();
    }, (err) => fail(error, err.message));
  });
  return form;
}
