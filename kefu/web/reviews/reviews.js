// My reviews: the quality reviews of one's own chats (GET /api/agent/quality/me), each with its
// score per criterion, the reviewer's comment, who reviewed it and when. Plain ES module, no
// build step; sign-in is the staff pages' shared /staff/assets/session.js. The rubric's names
// are shown in English and Chinese (docs/handoff.md, "Quality review").

import { api, describe } from "/staff/assets/api.js";
import { $, h } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { startSession } from "/staff/assets/session.js";

function scoreText(score) {
  return score === null || score === undefined ? "—" : `${Number(score).toFixed(1).replace(/\.0$/, "")}%`;
}

function criterionName(c) {
  return c.name_zh && c.name_zh !== c.name ? `${c.name} · ${c.name_zh}` : c.name;
}

function criterionRow(c) {
  const share = c.max_points ? (c.points || 0) / c.max_points : 0;
  const failed = c.critical && c.points === 0;
  const fill = h("span", { className: "criterion__fill" });
  fill.style.width = `${Math.round(share * 100)}%`; // CSSOM: the page's CSP allows no style attributes
  return h(
    "li",
    { className: `criterion${failed ? " criterion--failed" : ""}`, dataset: { testid: "review-criterion", key: c.key } },
    h("span", { className: "criterion__name", text: criterionName(c) }),
    c.critical ? h("span", { className: "badge badge--critical", text: "critical · 关键" }) : null,
    h("span", { className: "criterion__bar", attrs: { "aria-hidden": "true" } }, fill),
    h("span", { className: "criterion__points", text: `${c.points ?? "—"} / ${c.max_points}` }),
  );
}

function reviewCard(r) {
  return h(
    "article",
    { className: "review-card", dataset: { testid: "review-card", review: r.id, conversation: r.conversation_id } },
    h(
      "header",
      { className: "review-card__head" },
      h("span", { className: `review-card__score${r.critical_failed ? " review-card__score--failed" : ""}`, text: scoreText(r.score), dataset: { testid: "review-score" } }),
      h(
        "div",
        {},
        h("div", { className: "review-card__title", text: `Reviewed by ${r.reviewer_name || r.reviewer}` }),
        h("div", { className: "muted small", text: `${formatDate(r.submitted_at)} · chat ${r.conversation_id.slice(0, 8)} closed ${formatDate(r.closed_at)} · rubric v${r.rubric_version}` }),
      ),
    ),
    r.critical_failed ? h("p", { className: "review-card__warning", text: "A critical criterion was not met, so this review scores 0. 关键项未达标，本次得分为 0。" }) : null,
    h("ul", { className: "criteria" }, ...r.criteria.map(criterionRow)),
    r.comment ? h("blockquote", { className: "review-card__comment", text: r.comment, dataset: { testid: "review-comment" } }) : null,
  );
}

async function load() {
  const error = $("#reviews-error");
  error.hidden = true;
  try {
    const mine = await api("GET", "/api/agent/quality/me");
    $("#reviews-mean").textContent = scoreText(mine.mean_score);
    $("#reviews-count").textContent = String(mine.count);
    $("#reviews-list").replaceChildren(
      ...(mine.reviews.length ? mine.reviews.map(reviewCard) : [h("p", { className: "empty-state", text: "No reviews of your chats yet. 暂无质检记录。", dataset: { testid: "reviews-empty" } })]),
    );
  } catch (failure) {
    error.textContent = describe(failure);
    error.hidden = false;
  }
}

startSession({
  // A page of the console, opened from its top bar in the same tab: the console's session.
  storageKey: "kefu.console.csrf",
  title: "My reviews · 我的质检",
  lead: "Sign in to read the quality reviews of your chats.",
  enter: () => {
    document.title = "My reviews · kefu";
    load();
  },
  leave: () => $("#reviews-list").replaceChildren(),
});
