"""The admin console in Debian's chromium against live servers: editing an FAQ entry and the
bot answering with it at once, imports (a bad file refused whole, with its line named), the
learning loop turning an unanswered cluster into an entry, the dashboard's numbers against a
hand-counted fixture, testing the bot (with the answer model's chance of being right),
retraining both models with review and activation, history and rollback, staff management,
and a non-admin being turned away.

The page is driven only through the browser; customers and setup go through the public HTTP
API, as the widget and the other consoles would.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveServer, eventually, screenshot
from tests.handoff import desk_helpers
from tests.live import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 15_000
TRAINING_TIMEOUT_MS = 180_000
expect.set_options(timeout=TIMEOUT_MS)


# -- helpers ------------------------------------------------------------------------------------


class Customer(desk_helpers.Customer):
    """A customer on the chat API, as the widget would be."""

    def close(self) -> None:
        response = self.post("close")
        assert response.status_code == 200, response.text

    def feedback(self, csat: int, nps: int) -> None:
        response = self.post("feedback", csat=csat, nps=nps)
        assert response.status_code == 201, response.text


def bot_reply(server: LiveServer, text: str) -> dict[str, Any]:
    """The payload of the bot's message answering ``text`` as a new conversation's first line."""
    replies = Customer(server).say(text)
    messages = [r for r in replies if r["type"] == "message" and r["author"] == "bot"]
    assert messages, replies
    payload: dict[str, Any] = messages[0]["payload"]
    return payload


PageFactory = Callable[[LiveServer], Page]


@pytest.fixture
def new_page(browser: Browser) -> Iterator[PageFactory]:
    """Pages at 1440×900 in fresh browser contexts (no shared cookies), closed afterwards."""
    contexts: list[BrowserContext] = []

    def make(server: LiveServer) -> Page:
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, base_url=server.url, accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/admin")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def open_admin(new_page: PageFactory, server: LiveServer, tab: str = "kb") -> Page:
    page = new_page(server)
    log_in(page, "admin")
    expect(page.locator("#workspace")).to_be_visible()
    if tab != "kb":
        page.click(f"[data-testid=tab-{tab}]")
    expect(page.locator(f"#pane-{tab}")).to_be_visible()
    return page


def open_entry(page: Page, entry_id: str) -> None:
    page.fill("[data-testid=kb-search]", entry_id)
    page.locator(f"[data-testid=faq-row][data-entry-id='{entry_id}']").click()
    expect(page.locator("[data-testid=kb-editor]")).to_be_visible()
    expect(page.locator("#faq-meta")).to_contain_text(entry_id)


def entry(admin: httpx.Client, entry_id: str) -> dict[str, Any]:
    response = admin.get(f"/api/admin/kb/faqs/{entry_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- the knowledge base -------------------------------------------------------------------------


def test_edited_answer_reaches_customers_within_a_second(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    question = "How long does delivery take?"
    before = bot_reply(live_server, question)
    assert before["kind"] == "answer", before
    assert before["entry_id"] == "en-delivery-time", before
    page = open_admin(new_page, live_server)
    open_entry(page, "en-delivery-time")
    expect(page.locator("[data-testid=faq-answer]")).to_have_value(before["text"])

    ref = uuid.uuid4().hex[:6]
    new_answer = f"We ship the same day; delivery takes **2 to 4 business days**. (ref {ref})"
    page.fill("[data-testid=faq-answer]", new_answer)
    # The live preview is the widget's own renderer: bold comes out as <strong>.
    expect(page.locator("[data-testid=faq-preview] strong")).to_have_text("2 to 4 business days")
    with page.expect_response(
        lambda r: r.request.method == "PATCH" and "/api/admin/kb/faqs/" in r.url
    ) as saved:
        page.click("[data-testid=faq-save]")
    assert saved.value.status == 200
    saved_at = time.monotonic()
    version = saved.value.json()["version"]

    reply: dict[str, Any] = {}
    while time.monotonic() - saved_at <= 1.0:
        reply = bot_reply(live_server, question)
        if reply["text"] == new_answer:
            break
    elapsed = time.monotonic() - saved_at
    assert reply.get("text") == new_answer, f"still answering {reply!r} after {elapsed:.2f} s"
    assert elapsed <= 1.0
    expect(page.locator("#faq-meta")).to_contain_text(f"version {version} by admin")
    screenshot(page, "admin-faq-edit")


def test_import_with_an_error_names_the_line_and_imports_nothing(
    live_server: LiveServer, new_page: PageFactory, tmp_path: Path
) -> None:
    admin = live_server.admin()
    total = admin.get("/api/admin/kb/faqs").json()["total"]
    bad = tmp_path / "faqs.csv"
    bad.write_text(
        "id,question,answer,category\n"
        "imp-valid-row,Do you sell umbrellas?,Yes: in the Accessories section.,general\n"
        "imp-broken-row,,This row has no question,general\n",
        encoding="utf-8",
    )
    page = open_admin(new_page, live_server)
    page.set_input_files("[data-testid=import-file]", str(bad))
    page.click("[data-testid=import-submit]")

    report = page.locator("[data-testid=import-report]")
    expect(report).to_be_visible()
    expect(report).to_contain_text("nothing was imported")
    detail = report.locator("[data-testid=error-details] li")
    expect(detail).to_have_count(1)
    expect(detail).to_have_text("Line 3 · question: Field required")
    screenshot(page, "admin-import-error")
    assert admin.get("/api/admin/kb/faqs").json()["total"] == total
    assert admin.get("/api/admin/kb/faqs/imp-valid-row").status_code == 404

    # The same file, mended, imports with progress and a summary.
    good = tmp_path / "mended.csv"
    good.write_text(
        bad.read_text(encoding="utf-8").replace(",,This row", ",Do you sell rain boots?,This row"),
        encoding="utf-8",
    )
    page.set_input_files("[data-testid=import-file]", str(good))
    page.click("[data-testid=import-submit]")
    expect(page.locator("[data-testid=import-progress]")).to_have_attribute("data-state", "done")
    expect(page.locator("[data-testid=import-created]")).to_have_attribute("data-count", "2")
    assert admin.get("/api/admin/kb/faqs").json()["total"] == total + 2
    assert entry(admin, "imp-valid-row")["status"] == "published"

    # The same file again changes nothing, and the summary says so in words alone.
    page.set_input_files("[data-testid=import-file]", str(good))
    page.click("[data-testid=import-submit]")
    expect(page.locator("[data-testid=import-unchanged]")).to_have_attribute("data-count", "2")
    expect(report).not_to_contain_text("null")
    expect(report.locator("details")).to_have_count(0)

    # The export link is a plain download, with the session cookie.
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported.startswith("id,question,alternatives,answer")
    assert "imp-valid-row,Do you sell umbrellas?" in exported


def test_history_shows_the_diff_and_rollback_restores_the_old_answer(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    admin = live_server.admin()
    original = entry(admin, "en-account-create")
    edited = "Accounts are made by our staff now; write to us."
    response = admin.patch(
        "/api/admin/kb/faqs/en-account-create",
        json={"answer": edited, "expected_version": original["version"]},
    )
    assert response.status_code == 200, response.text
    edited_version = response.json()["version"]

    page = open_admin(new_page, live_server)
    open_entry(page, "en-account-create")
    page.click("[data-testid=faq-history-toggle]")
    newest = page.locator(f"[data-testid=revision][data-version='{edited_version}']")
    change = newest.locator("[data-testid=change][data-field=answer]")
    expect(change.locator(".change__before")).to_have_text(original["answer"])
    expect(change.locator(".change__after")).to_have_text(edited)

    old = page.locator(f"[data-testid=revision][data-version='{original['version']}']")
    old.locator("[data-testid=rollback]").click()
    page.click("[data-testid=confirm-ok]")
    expect(page.locator("[data-testid=faq-answer]")).to_have_value(original["answer"])
    restored = entry(admin, "en-account-create")
    assert restored["answer"] == original["answer"]
    assert restored["version"] == edited_version + 1
    expect(
        page.locator(f"[data-testid=revision][data-version='{edited_version + 1}']")
    ).to_be_visible()
    screenshot(page, "admin-history")


# -- the bot ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["How much does shipping cost?", "我的退款什么时候到账？"], ids=["en", "zh"]
)
def test_the_bot_explains_intent_scores_and_decision(
    live_server: LiveServer, new_page: PageFactory, text: str
) -> None:
    expected = live_server.admin().post("/api/admin/bot/test", json={"text": text}).json()
    page = open_admin(new_page, live_server, "test")
    page.fill("[data-testid=test-text]", text)
    page.click("[data-testid=test-submit]")

    result = page.locator("[data-testid=test-result]")
    expect(result.locator("[data-testid=test-language]")).to_have_text(expected["language"])
    expect(result.locator("[data-testid=test-decision-kind]")).to_have_text(
        expected["decision"]["kind"]
    )
    expect(result.locator("[data-testid=test-decision-reason]")).to_have_text(
        expected["decision"]["reason"]
    )
    intent = expected["intent"]
    expect(result.locator("[data-testid=test-intent]")).to_have_text(intent["name"])
    expect(result.locator("[data-testid=test-intent-confidence]")).to_contain_text(
        f"{intent['confidence']:.3f}".rstrip("0").rstrip(".")
    )
    expect(result.locator("[data-testid=test-intent-probability]")).to_contain_text(
        f"{intent['probability']:.3f}".rstrip("0").rstrip(".")
    )
    expect(result.locator("[data-testid=test-runners-up] li")).to_have_count(
        len(intent["runners_up"])
    )
    rows = result.locator("[data-testid=test-faq-row]")
    expect(rows).to_have_count(len(expected["faqs"]))
    top = expected["faqs"][0]
    first = rows.first
    expect(first).to_have_attribute("data-entry-id", top["entry_id"])
    for column, key in (("fused", "score"), ("dense", "dense"), ("lexical", "lexical")):
        expect(first.locator(f"[data-testid=score-{column}]")).to_have_text(
            f"{top[key]:.3f}".rstrip("0").rstrip(".")
        )
    # The demo knowledge base is big enough to learn how high its unknown questions score.
    assert top["unknown_share"] is not None
    expect(first.locator("[data-testid=score-unknown-share]")).to_have_text(
        f"{round(top['unknown_share'] * 100)} %"
    )
    expect(result.locator("[data-testid=test-sentiment]")).to_have_text(
        expected["sentiment"]["label"]
    )
    # The reply is rendered as customers see it: the text, without markdown marks.
    reply = result.locator("[data-testid=test-reply]")
    expect(reply).to_be_visible()
    assert "**" not in reply.inner_text()
    assert expected["language"] == ("zh" if "退款" in text else "en")
    screenshot(page, f"admin-test-bot-{expected['language']}")


def test_retraining_shows_progress_and_metrics_and_activation_switches_the_model(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    admin = live_server.admin()
    before = admin.get("/api/admin/bot/models").json()
    page = open_admin(new_page, live_server, "training")
    expect(page.locator("[data-testid=model-current]")).to_have_text(before["current"])
    page.click("[data-testid=train]")

    progress = page.locator("[data-testid=train-progress]")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("data-state", "done", timeout=TRAINING_TIMEOUT_MS)
    expect(progress).to_contain_text(" / ")
    compare = page.locator("[data-testid=train-compare]")
    expect(compare).to_be_visible()
    candidate = compare.locator("[data-testid=candidate-version]").inner_text()
    assert candidate != before["current"]
    models = admin.get("/api/admin/bot/models").json()
    assert models["current"] == before["current"], "a candidate must not serve before activation"
    metrics = next(v for v in models["versions"] if v["version"] == candidate)["metrics"]
    row = compare.locator("[data-testid=compare-row][data-metric=cv_accuracy]")
    expect(row.locator("[data-testid=compare-candidate]")).to_have_text(
        f"{metrics['cv_accuracy'] * 100:.1f}".rstrip("0").rstrip(".") + "%"
    )
    expect(compare.locator("[data-testid=compare-row]")).to_have_count(6)
    screenshot(page, "admin-training")

    page.click("[data-testid=activate-candidate]")
    expect(page.locator("[data-testid=model-current]")).to_have_text(candidate)
    assert admin.get("/api/admin/bot/models").json()["current"] == candidate
    # Every version has a way back.
    back = page.locator(
        f"[data-testid=model-row][data-version='{before['current']}'] [data-testid=model-activate]"
    )
    expect(back).to_have_text("Roll back to this")


def answer_model_ready(server: LiveServer) -> dict[str, Any]:
    """/healthz's answer model once it is trained on the index as it is now (earlier tests
    edit entries, which retrains it in the background)."""

    def ready() -> dict[str, Any] | None:
        answers: dict[str, Any] = httpx.get(f"{server.url}/healthz").json()["answers"]
        return answers if answers["model"] and answers["current"] else None

    return eventually(ready, what="the answer model trained on the current index", timeout=180)


def to_fixed(value: float, digits: int) -> str:
    """``value`` as JavaScript's toFixed writes it: half up on the exact binary value (Python's
    format rounds half to even, so 0.8125 would differ)."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def trimmed(value: float, digits: int) -> str:
    """The console's trimNumber: toFixed without trailing zeros."""
    return to_fixed(value, digits).rstrip("0").rstrip(".")


def test_the_bot_shows_the_answer_models_chance_against_its_thresholds(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    answer_model_ready(live_server)
    text = "How long does delivery take?"
    expected = live_server.admin().post("/api/admin/bot/test", json={"text": text}).json()
    model = expected["answer_model"]
    assert model is not None, expected
    assert model["entry_id"] == "en-delivery-time", model
    page = open_admin(new_page, live_server, "test")
    page.fill("[data-testid=test-text]", text)
    page.click("[data-testid=test-submit]")

    card = page.locator("[data-testid=test-answer-model]")
    expect(card.locator("[data-testid=test-answer-probability]")).to_have_text(
        f"P(right) {to_fixed(model['probability'], 2)} — answers at ≥ "
        f"{to_fixed(model['answer_at'], 2)}, suggests at ≥ {to_fixed(model['suggest_at'], 2)}"
    )
    expect(card.locator("[data-testid=test-answer-entry]")).to_contain_text("en-delivery-time")
    expect(card.locator("[data-testid=test-answer-used]")).to_contain_text(
        "used: the decision" if model["used"] else "not used"
    )
    signals = card.locator("[data-testid=test-answer-signal]")
    expect(signals).to_have_count(len(model["evidence"]))
    name, value = next(iter(model["evidence"].items()))
    expect(signals.first).to_have_attribute("data-signal", name)
    expect(signals.first.locator("td.num")).to_have_text(trimmed(value, 3))
    if expected["decision"]["detail"]:
        expect(page.locator("[data-testid=test-decision-detail]")).to_have_text(
            expected["decision"]["detail"]
        )
    screenshot(page, "admin-test-bot", docs=True)


def test_the_bot_shows_no_answer_model_when_there_is_none(
    empty_server: LiveServer, new_page: PageFactory
) -> None:
    expected = empty_server.admin().post("/api/admin/bot/test", json={"text": "hello"}).json()
    assert expected["answer_model"] is None, expected
    page = open_admin(new_page, empty_server, "test")
    page.fill("[data-testid=test-text]", "hello")
    page.click("[data-testid=test-submit]")
    expect(page.locator("[data-testid=test-decision-kind]")).to_have_text(
        expected["decision"]["kind"]
    )
    expect(page.locator("[data-testid=test-answer-model]")).to_have_count(0)


def test_the_answer_model_trains_beside_the_serving_one_and_activates(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    admin = live_server.admin()
    serving = answer_model_ready(live_server)["model"]
    intent_current = admin.get("/api/admin/bot/models").json()["current"]
    page = open_admin(new_page, live_server, "training")
    expect(page.locator("[data-testid=model-current]")).to_have_text(intent_current)
    page.check("[data-testid=model-kind-answer]")
    expect(page.locator("#model-title")).to_have_text("Answer model")
    expect(page.locator("[data-testid=model-current]")).to_have_text(serving)
    page.click("[data-testid=train]")

    progress = page.locator("[data-testid=train-progress]")
    expect(progress).to_have_attribute("data-state", "done", timeout=TRAINING_TIMEOUT_MS)
    compare = page.locator("[data-testid=train-compare]")
    expect(compare).to_be_visible()
    candidate = compare.locator("[data-testid=candidate-version]").inner_text()
    assert candidate != serving
    models = admin.get("/api/admin/bot/models", params={"kind": "answer"}).json()
    assert models["kind"] == "answer"
    assert models["current"] == serving, "a candidate must not serve before activation"
    by_version = {v["version"]: v["metrics"] for v in models["versions"]}
    row = compare.locator("[data-testid=compare-row][data-metric=cv_in_scope_accuracy]")
    for column, version in (("current", serving), ("candidate", candidate)):
        rate = by_version[version]["cv_in_scope_accuracy"]
        expect(row.locator(f"[data-testid=compare-{column}]")).to_have_text(
            trimmed(rate * 100, 1) + "%"
        )
    expect(compare.locator("[data-testid=compare-row][data-metric=intents]")).to_be_visible()
    screenshot(page, "admin-training-answer")

    page.click("[data-testid=activate-candidate]")
    expect(page.locator("[data-testid=model-current]")).to_have_text(candidate)
    assert httpx.get(f"{live_server.url}/healthz").json()["answers"]["model"] == candidate
    back = page.locator(
        f"[data-testid=model-row][data-version='{serving}'] [data-testid=model-activate]"
    )
    expect(back).to_have_text("Roll back to this")
    # The intent classifier is untouched, and the switch goes back to it.
    page.check("[data-testid=model-kind-intent]")
    expect(page.locator("[data-testid=model-current]")).to_have_text(intent_current)
    expect(page.locator("[data-testid=train-compare]")).to_be_hidden()
    assert admin.get("/api/admin/bot/models").json()["current"] == intent_current


# -- the learning loop --------------------------------------------------------------------------

GIFT_WRAP = [
    "Do you offer gift wrapping?",
    "Can you gift wrap my order?",
    "Is gift wrapping available?",
]


def test_an_unanswered_cluster_becomes_a_published_faq_entry(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    for text in GIFT_WRAP:
        customer = Customer(live_server)
        first = customer.say(text)
        kinds = [r["payload"].get("kind") for r in first if r["type"] == "message"]
        assert "answer" not in kinds, f"the demo KB should not answer {text!r}: {first}"
        customer.say("no")  # picks none of the suggestions, if there were any

    page = open_admin(new_page, live_server, "learning")
    cluster = page.locator("[data-testid=cluster]").filter(has_text=GIFT_WRAP[1])
    expect(cluster).to_have_count(1)
    for text in GIFT_WRAP:
        expect(cluster).to_contain_text(text)
    key = cluster.get_attribute("data-key")
    cluster.locator("[data-testid=cluster-make-faq]").click()

    question = page.locator("[data-testid=cluster-faq-question]").input_value()
    assert question in GIFT_WRAP
    alternatives = page.locator("[data-testid=cluster-faq-alternatives]").input_value()
    assert sorted([question, *alternatives.splitlines()]) == sorted(GIFT_WRAP)
    answer = "Yes: tick **Gift wrap** at checkout. It costs 3 EUR per parcel."
    page.fill("[data-testid=cluster-faq-answer]", answer)
    expect(page.locator("[data-testid=cluster-faq-preview] strong")).to_have_text("Gift wrap")
    with page.expect_response(lambda r: r.url.endswith("/api/admin/learning/faq")) as created:
        page.click("[data-testid=cluster-faq-save]")
    assert created.value.status == 201
    entry_id = created.value.json()["entry_id"]

    expect(page.locator(f"[data-testid=cluster][data-key='{key}']")).to_have_count(0)
    expect(page.locator("[data-testid=cluster]").filter(has_text=GIFT_WRAP[1])).to_have_count(0)
    stored = entry(live_server.admin(), entry_id)
    assert stored["status"] == "published"
    assert stored["answer"] == answer
    reply = bot_reply(live_server, question)
    assert reply["text"] == answer, reply
    assert reply.get("entry_id") == entry_id, reply
    screenshot(page, "admin-learning")


# -- staff --------------------------------------------------------------------------------------


def test_a_created_user_shows_in_the_table(live_server: LiveServer, new_page: PageFactory) -> None:
    page = open_admin(new_page, live_server, "users")
    page.fill("[data-testid=user-username]", "lena")
    page.fill("[data-testid=user-display-name]", "Lena Park")
    page.fill("[data-testid=user-password]", "a long enough password")
    page.select_option("[data-testid=user-role]", "supervisor")
    page.fill("[data-testid=user-teams]", "support, billing")
    page.fill("[data-testid=user-languages]", "en, zh")
    page.fill("[data-testid=user-topics]", "refunds")
    page.fill("[data-testid=user-max-chats]", "4")
    page.click("[data-testid=user-submit]")

    row = page.locator("[data-testid=user-row][data-username=lena]")
    expect(row).to_contain_text("Lena Park")
    expect(row.locator("[data-testid=role-badge]")).to_have_text("supervisor")
    expect(row).to_contain_text("billing, support")
    expect(row).to_contain_text("0/4")
    listed = live_server.admin().get("/api/admin/users").json()["users"]
    lena = next(u for u in listed if u["username"] == "lena")
    assert lena["role"] == "supervisor"
    assert sorted(lena["teams"]) == ["billing", "support"]
    assert lena["languages"] == ["en", "zh"]
    assert lena["topics"] == ["refunds"]

    # Editing: disable the account from its row.
    row.locator("[data-testid=user-toggle]").click()
    page.click("[data-testid=confirm-ok]")
    expect(row.locator("[data-testid=user-status]")).to_have_text("disabled")
    screenshot(page, "admin-users")

    # Both acts are in the staff audit log, with who, from where and what changed.
    page.click("[data-testid=tab-staff-audit]")
    page.fill("[data-testid=staff-audit-action]", "user.")
    page.click("[data-testid=staff-audit-apply]")
    rows = page.locator("[data-testid=staff-audit-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-action", "user.disabled")
    expect(rows.nth(1)).to_contain_text("user.created")
    expect(rows.nth(1)).to_contain_text("lena")
    expect(rows.nth(1)).to_contain_text("127.0.0.1")
    csv_link = page.locator("[data-testid=staff-audit-csv]")
    expect(csv_link).to_have_attribute("href", "/api/admin/audit-log/export.csv?action=user.")
    screenshot(page, "admin-staff-audit")


def test_a_non_admin_cannot_use_the_page(live_server: LiveServer, new_page: PageFactory) -> None:
    live_server.staff("admin-page-agent", role="agent")
    page = new_page(live_server)
    log_in(page, "admin-page-agent")
    error = page.locator("[data-testid=login-error]")
    expect(error).to_contain_text("Only administrators can use this page")
    expect(error).to_contain_text("agent")
    expect(page.locator("#workspace")).to_be_hidden()
    # A reload does not let the agent's session in either, and says why.
    page.reload()
    expect(page.locator("#login-view")).to_be_visible()
    expect(error).to_contain_text("Only administrators can use this page")
    expect(page.locator("#workspace")).to_be_hidden()
    # The API agrees: the agent's session is refused there too.
    agent = live_server.log_in("admin-page-agent")
    assert agent.get("/api/admin/kb/faqs").status_code == 403


# -- the dashboard ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    """A served app with an empty knowledge base: every message falls back, a second miss
    escalates, so the dashboard's numbers can be counted by hand."""
    root = tmp_path_factory.mktemp("empty")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'kefu.db'}", _env_file=None
    )
    with serve(settings, embedder) as server:
        yield server


def assigned_ticket(staff: httpx.Client, conversation_id: str) -> dict[str, Any]:
    """The ticket once the dispatcher has assigned it to ``staff`` (assignment is automatic)."""

    def find() -> dict[str, Any] | None:
        mine = staff.get("/api/agent/tickets", params={"view": "mine"}).json()["tickets"]
        return next((t for t in mine if t["conversation_id"] == conversation_id), None)

    return eventually(find, what=f"{conversation_id}'s ticket assigned")


def test_dashboard_numbers_match_a_hand_counted_fixture(
    empty_server: LiveServer, new_page: PageFactory
) -> None:
    agent = empty_server.staff("dana", role="agent", display_name="Dana", languages=["en"])
    agent.put("/api/agent/me/presence", json={"presence": "online"}).raise_for_status()

    # A: one miss, closed by the customer, rated 5 / NPS 10 (bot only).
    a = Customer(empty_server)
    a.say("hello there")
    a.close()
    a.feedback(csat=5, nps=10)
    # B: two misses, so the bot hands over; Dana answers and closes; rated 2 / NPS 8.
    b = Customer(empty_server)
    b.say("zebra lamp quantum")
    b.say("purple window seven")
    # Dana is the only agent online: the dispatcher assigns B's ticket to her.
    ticket = assigned_ticket(agent, b.id)
    agent.post(
        f"/api/agent/tickets/{ticket['id']}/messages", json={"text": "Hello, Dana here."}
    ).raise_for_status()
    agent.post(f"/api/agent/tickets/{ticket['id']}/close").raise_for_status()
    assert b.status()["state"] == "closed"
    b.feedback(csat=2, nps=8)
    # C: one miss, left open.
    Customer(empty_server).say("orange kettle")

    # By hand: 3 conversations; B escalated, so 2 of 3 contained; 4 bot turns (A 1, B 2,
    # C 1), 3 of them fallbacks and none answered; A and B closed, each resolved at first
    # contact; CSAT 5 without a person and 2 with one; NPS one promoter and one passive of
    # two answers = 50; no complaint; B's live ticket answered in time.
    expected = {
        "conversations": "3",
        "containment": "66.7%",
        "escalation": "33.3%",
        "bot-answer": "0%",
        "fallback": "75%",
        "fcr": "100%",
        "csat-bot": "5",
        "csat-person": "2",
        "nps": "50",
        "complaints": "0%",
        "sla": "0",
    }
    today = datetime.now(UTC).date()
    filters = {
        "start": (today - timedelta(days=29)).isoformat(),
        "end": (today + timedelta(days=1)).isoformat(),
    }
    summary = empty_server.admin().get("/api/admin/analytics/summary", params=filters).json()
    assert summary["conversations"] == 3
    assert (summary["containment"]["numerator"], summary["containment"]["denominator"]) == (2, 3)
    assert summary["escalation"]["overall"]["numerator"] == 1
    assert (
        summary["bot_answers"]["answer"]["numerator"],
        summary["bot_answers"]["answer"]["denominator"],
    ) == (0, 4)
    assert summary["bot_answers"]["fallback"]["numerator"] == 3
    assert summary["first_contact_resolution"]["rate"] == 1.0
    assert summary["satisfaction"]["bot_only"]["csat_mean"] == 5
    assert summary["satisfaction"]["person_handled"]["csat_mean"] == 2
    assert summary["satisfaction"]["overall"]["nps"]["score"] == 50
    assert summary["complaints"]["rate"]["numerator"] == 0
    assert summary["sla"]["breached"] == {"numerator": 0, "denominator": 1, "rate": 0.0}
    assert [a["username"] for a in summary["agents"]] == ["dana"]

    page = open_admin(new_page, empty_server, "analytics")
    expect(page.locator("[data-testid=analytics-start]")).to_have_value(filters["start"])
    expect(page.locator("[data-testid=analytics-end]")).to_have_value(today.isoformat())
    for name, value in expected.items():
        expect(page.locator(f"[data-testid=tile-{name}]")).to_have_text(value)
    expect(page.locator("[data-testid=tile-containment-sub]")).to_have_text(
        "2 of 3 without a person"
    )
    expect(page.locator("[data-testid=tile-frt-person]")).not_to_have_text("—")
    for chart in ("volume-day", "volume-hour", "escalation-reason", "escalation-intent"):
        expect(page.locator(f"[data-testid=chart-{chart}]")).to_have_attribute(
            "data-rendered", "true"
        )
    expect(page.locator("[data-testid=chart-volume-day] .bars path")).to_have_count(1)
    scorecard = page.locator("[data-testid=scorecard-row][data-agent=dana]")
    expect(scorecard).to_contain_text("Dana")
    expect(page.locator("[data-testid=radar][data-agent=dana] .main-svg").first).to_be_visible()

    # The CSV links carry the filters; the overview agrees with the tiles.
    link = page.locator("[data-testid=csv-overview]")
    href = link.get_attribute("href") or ""
    assert f"start={filters['start']}" in href
    assert f"end={filters['end']}" in href
    csv_text = empty_server.admin().get(href).text
    assert "containment.numerator,2" in csv_text
    assert "conversations,3" in csv_text

    # A filter changes the numbers: no conversation is in Chinese.
    page.select_option("[data-testid=analytics-language]", "zh")
    expect(page.locator("[data-testid=tile-conversations]")).to_have_text("0")
    expect(page.locator("[data-testid=tile-containment]")).to_have_text("—")
    assert "language=zh" in (link.get_attribute("href") or "")
    page.select_option("[data-testid=analytics-language]", "")
    expect(page.locator("[data-testid=tile-conversations]")).to_have_text("3")
    screenshot(page, "admin-dashboard")
