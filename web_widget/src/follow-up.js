// The follow-up survey: days after a chat closed, a customer who opens the widget again is
// asked whether the problem stayed solved (docs/handoff.md, "Follow-up survey"). Asked once the
// panel is open (the server counts a fetch as asked), once per conversation and page load.
// A part of sync() (main.js adds it).

import { api } from "./api.js";
import { el } from "./dom.js";
import { S } from "./state.js";
import { t } from "./texts.js";
import { $, card, cards, dropCard, errorLine, fail, sync, ui } from "./view.js";

const ANSWERS = ["solved", "not_solved"];

// Ask the server once the panel is open on a closed conversation.
export function followUpOnOpen() {
  if (!S.open || !S.cid || S.state !== "closed" || S.followUpFor === S.cid) return;
  const cid = S.cid;
  S.followUpFor = cid;
  api("GET", "/follow-up").then((data) => {
    if (cid !== S.cid) return;
    S.followUp = (data && data.follow_up) || null;
    sync();
  }, () => { if (cid === S.cid) S.followUpFor = null; });
}

export function syncFollowUp() {
  followUpOnOpen();
  const asked = S.followUp && S.state === "closed" && (!S.followUp.answer || S.followUp.here);
  if (!asked) return dropCard("followUp");
  const fresh = !cards.followUp;
  const form = card("followUp", question);
  if (fresh) {
    // Days after the chat, this is the question that matters: first, and in view.
    ui.extras.insertBefore(form, ui.extras.firstChild);
    form.scrollIntoView({ block: "nearest" });
  }
  if (S.followUp.answer && !form.querySelector(".ok")) thank(form, S.followUp.answer);
}

function question() {
  const error = errorLine();
  const buttons = ANSWERS.map((answer) => el("button", {
    cls: answer === "solved" ? "primary" : "ghost", type: "button", "data-testid": "kefu-follow-up-" + answer,
    text: t(answer === "solved" ? "followUpSolved" : "followUpNotSolved"),
    onclick: () => choose(answer)
  }));
  const box = el("div", { cls: "card", role: "group", "data-testid": "kefu-follow-up", "aria-label": t("followUp") }, [
    el("h3", { text: t("followUp") }), el("p", { text: t("followUpAsk") }),
    el("div", { cls: "choices" }, buttons), error]);

  function choose(answer) {
    buttons.forEach((b) => b.disabled = true);
    error.hidden = true;
    api("POST", "/follow-up", { answer }).catch((err) => {
      // Answered already (another tab, the e-mail's link): the first answer stays.
      if (err.status === 409 && err.code === "follow_up_answered") return { answer: null };
      throw err;
    }).then((found) => {
      S.followUp = Object.assign({}, S.followUp, { answer: found.answer || answer, here: true });
      if (!found.answer) S.followUp.elsewhere = true;
      sync();
    }, (err) => {
      buttons.forEach((b) => b.disabled = false);
      fail(error, err.message);
    });
  }
  return box;
}

function thank(box, answer) {
  box.textContent = "";
  const text = S.followUp.elsewhere ? t("followUpAlready")
    : answer === "solved" ? t("followUpThanks") : t("followUpHelp");
  box.appendChild(el("p", { cls: "ok", role: "status", "data-testid": "kefu-follow-up-thanks", text }));
  // Still need help: the way to talk to us is the new-chat button under the card.
  if (answer === "not_solved" && !S.followUp.elsewhere) {
    const next = $("[data-testid=kefu-new-chat]");
    if (next && S.open) next.focus();
  }
}
