"""The customer web widget in a real browser against a live server.

Each test drives the demo store page (``/``) with Debian's chromium: the widget renders inside
the open shadow root of ``<kefu-widget>``, and playwright's CSS locators pierce it. Nothing of
kefu is mocked; the agent side goes through the agent console or the agent API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveServer, eventually, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT = 15_000  # ms, for every expectation
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
MOBILE: ViewportSize = {"width": 390, "height": 844}

expect.set_options(timeout=TIMEOUT)


# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=DESKTOP, locale="en-US")
    ctx.set_default_timeout(TIMEOUT)
    yield ctx
    ctx.close()


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    ctx = browser.new_context(**{"viewport": DESKTOP, "locale": "en-US", **options})
    ctx.set_default_timeout(TIMEOUT)
    return ctx


def watch(page: Page) -> list[str]:
    """Collect uncaught page errors, so a test can assert the widget threw none."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def open_store(page: Page, url: str) -> Locator:
    """Load the demo store and open the chat; returns the chat panel."""
    page.goto(url + "/")
    launcher = page.locator("[data-testid=kefu-launcher]")
    expect(launcher).to_be_visible()
    panel = page.locator("[data-testid=kefu-panel]")
    if not panel.is_visible():
        launcher.click()
    expect(panel).to_be_visible()
    return panel


def ask(page: Page, text: str) -> None:
    box = page.locator("[data-testid=kefu-input]")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def messages(page: Page, author: str | None = None) -> Locator:
    selector = "[data-testid=kefu-message]"
    if author:
        selector += f"[data-author={author}]"
    return page.locator(selector)


def last_message(page: Page, author: str) -> Locator:
    return messages(page, author).last


def seqs(page: Page) -> list[int]:
    """The data-seq of every message in the log, in the order shown."""
    values: list[str] = page.evaluate(
        """() => Array.from(document.querySelector('kefu-widget').shadowRoot
               .querySelectorAll('[data-testid=kefu-message][data-seq]'))
               .map(node => node.getAttribute('data-seq'))"""
    )
    return [int(v) for v in values]


def assert_seqs_clean(page: Page) -> list[int]:
    shown = seqs(page)
    assert len(shown) == len(set(shown)), f"a seq is shown twice: {shown}"
    assert shown == sorted(shown), f"messages out of order: {shown}"
    return shown


def stored_conversation(page: Page, url: str) -> dict[str, Any]:
    raw = page.evaluate("key => localStorage.getItem(key)", f"kefu:v1:{url}")
    assert raw, "the widget stored no conversation"
    data: dict[str, Any] = json.loads(raw)
    return data


def events(url: str, conversation: dict[str, Any]) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{url}/api/chat/conversations/{conversation['cid']}/events",
        headers={"Authorization": f"Bearer {conversation['token']}"},
        timeout=30,
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()["events"]
    return found


def keep_screenshot(page: Page, name: str) -> None:
    """A test artifact, and the documentation's copy when KEFU_UPDATE_SCREENSHOTS=1."""
    screenshot(page, name, docs=True)


# -- the bot -----------------------------------------------------------------------------------


def test_answers_an_faq_in_english_and_can_be_rated(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = watch(page)
    open_store(page, live_server.url)
    expect(page.locator("[data-testid=kefu-input]")).to_be_focused()
    expect(page.locator("[data-testid=kefu-log]")).to_have_attribute("role", "log")
    expect(page.locator("[data-testid=kefu-log]")).to_have_attribute("aria-live", "polite")

    ask(page, "How do I track my order?")
    mine = last_message(page, "customer")
    expect(mine).to_have_text(re.compile("How do I track my order"))
    expect(mine).to_have_attribute("data-state", "sent")
    answer = last_message(page, "bot")
    expect(answer).to_contain_text("My Orders")
    # markdown-lite: **My Orders** is bold and the link opens safely in a new tab
    expect(answer.locator("strong").first).to_have_text("My Orders")
    link = answer.locator("a")
    expect(link).to_have_attribute("href", re.compile(r"^https://"))
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile("noopener"))

    answer.locator("[data-testid=kefu-rate-up]").click()
    expect(answer.locator("[data-testid=kefu-rate-up]")).to_have_attribute("aria-pressed", "true")
    seq = int(answer.get_attribute("data-seq") or 0)
    conversation = stored_conversation(page, live_server.url)
    admin = live_server.admin()
    try:
        for _ in range(50):
            rows = admin.get(
                "/api/admin/exchanges", params={"conversation_id": conversation["cid"]}
            ).json()
            rated = [row for row in rows if row["reply_seq"] == seq]
            if rated and rated[0]["helpful"] is True:
                break
            page.wait_for_timeout(100)
        else:
            raise AssertionError(f"the rating of seq {seq} was not stored: {rows}")
    finally:
        admin.close()
    assert_seqs_clean(page)
    keep_screenshot(page, "widget-answer")
    assert errors == []


def test_answers_in_chinese_with_a_chinese_interface(
    live_server: LiveServer, browser: Browser
) -> None:
    ctx = new_context(browser, locale="zh-CN")
    try:
        page = ctx.new_page()
        open_store(page, live_server.url)
        expect(page.locator("[data-testid=kefu-input]")).to_have_attribute(
            "placeholder", re.compile("请输入")
        )
        expect(page.locator("[data-testid=kefu-human]")).to_contain_text("转人工")
        ask(page, "我的快递到哪了")
        answer = last_message(page, "bot")
        expect(answer).to_contain_text("我的订单")
        expect(answer.locator("[data-testid=kefu-rate-up]")).to_be_visible()
        font = answer.locator(".bubble").evaluate("node => getComputedStyle(node).fontFamily")
        assert "Noto Sans CJK SC" in font
        keep_screenshot(page, "widget-zh")
    finally:
        ctx.close()


def test_data_attributes_override_language_title_and_greeting(
    live_server: LiveServer, context: BrowserContext
) -> None:
    host = (
        '<!doctype html><meta charset="utf-8"><h1>another host page</h1>'
        '<script src="/widget.js" data-language="zh" data-title="测试商店" '
        'data-greeting="欢迎光临" data-position="left" data-bot-name="小明" '
        'data-accent="#ffd400"></script>'
    )
    page = context.new_page()  # an English browser
    warnings: list[str] = []
    page.on(
        "console",
        lambda message: warnings.append(message.text) if message.type == "warning" else None,
    )
    page.route(
        f"{live_server.url}/host-page",
        lambda route: route.fulfill(body=host, content_type="text/html"),
    )
    page.goto(f"{live_server.url}/host-page")
    launcher = page.locator("[data-testid=kefu-launcher]")
    launcher.click()
    expect(page.locator("[data-testid=kefu-panel]")).to_contain_text("测试商店")
    expect(page.locator("[data-testid=kefu-greeting]")).to_have_text(re.compile("欢迎光临"))
    expect(page.locator("[data-testid=kefu-input]")).to_have_attribute(
        "placeholder", re.compile("请输入")
    )
    box = launcher.bounding_box()
    assert box is not None
    assert box["x"] < DESKTOP["width"] / 2  # data-position="left"
    # The bot speaks under its own name.
    expect(page.locator("[data-testid=kefu-greeting]")).to_have_attribute("data-who", "bot:小明")
    expect(page.locator("[data-testid=kefu-greeting] .who")).to_have_text("小明")
    # A yellow too light for white text is darkened, and the page's console says so.
    assert any("data-accent #ffd400" in w and "darkened" in w for w in warnings), warnings


def test_a_suggestion_chip_asks_the_suggested_question(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    open_store(page, live_server.url)
    ask(page, "coupon")
    expect(last_message(page, "bot")).to_have_attribute("data-kind", "clarify")
    clarify_seq = last_message(page, "bot").get_attribute("data-seq")
    clarify = page.locator(f"[data-testid=kefu-message][data-seq='{clarify_seq}']")
    chips = clarify.locator("[data-testid=kefu-chip]")
    expect(chips.first).to_be_visible()
    assert 1 <= chips.count() <= 3
    chip = chips.first
    question = chip.inner_text()
    entry_id = chip.get_attribute("data-entry-id")

    chip.click()
    expect(last_message(page, "customer")).to_have_text(re.compile(re.escape(question)))
    expect(last_message(page, "bot")).to_have_attribute("data-kind", "answer")
    expect(chips.first).to_be_disabled()

    sent = [
        e
        for e in events(live_server.url, stored_conversation(page, live_server.url))
        if e["author"] == "customer"
    ]
    assert sent[-1]["payload"] == {"text": question, "suggestion": entry_id}
    assert_seqs_clean(page)


# -- continuity --------------------------------------------------------------------------------


def test_a_reload_and_a_new_tab_keep_the_conversation(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = watch(page)
    open_store(page, live_server.url)
    ask(page, "How long does delivery take?")
    expect(last_message(page, "bot")).to_contain_text("business days")
    before = assert_seqs_clean(page)
    assert len(before) >= 2

    page.reload()
    expect(page.locator("[data-testid=kefu-panel]")).to_be_visible()  # stays open on reload
    expect(messages(page)).to_have_count(len(before))
    expect(last_message(page, "bot")).to_contain_text("business days")
    assert assert_seqs_clean(page) == before

    ask(page, "How much does shipping cost?")
    expect(last_message(page, "bot")).to_contain_text("$49")
    after = assert_seqs_clean(page)
    assert after[: len(before)] == before
    assert len(after) == len(before) + 2

    # A second tab shows the same conversation; its closed launcher counts what arrives.
    other = context.new_page()
    other.goto(live_server.url + "/")
    expect(other.locator("[data-testid=kefu-panel]")).to_be_hidden()
    expect(other.locator("[data-testid=kefu-badge]")).to_be_hidden()
    expect(other.locator("[data-testid=kefu-status]")).to_have_attribute("data-status", "connected")
    ask(page, "Can I pay with PayPal?")
    expect(other.locator("[data-testid=kefu-badge]")).to_have_text("1")
    other.locator("[data-testid=kefu-launcher]").click()
    expect(other.locator("[data-testid=kefu-badge]")).to_be_hidden()
    expect(messages(other)).to_have_count(len(after) + 2)
    assert seqs(other) == seqs(page)
    assert errors == []


def test_survives_a_server_restart_without_losing_a_message(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    open_store(page, live_server.url)
    status = page.locator("[data-testid=kefu-status]")
    ask(page, "How do I cancel an order?")
    expect(last_message(page, "bot")).to_contain_text("Processing")
    expect(status).to_have_attribute("data-status", "connected")

    live_server.stop()
    try:
        expect(status).not_to_have_attribute("data-status", "connected")
        ask(page, "How long does a refund take?")
        queued = last_message(page, "customer")
        expect(queued).to_have_attribute("data-state", "sending")
        outbox = stored_conversation(page, live_server.url)["outbox"]
        assert [item["text"] for item in outbox] == ["How long does a refund take?"]
        page.wait_for_timeout(1500)  # a few reconnect attempts fail meanwhile
        expect(queued).to_have_attribute("data-state", "sending")
    finally:
        live_server.start()

    expect(status).to_have_attribute("data-status", "connected")
    expect(queued).to_have_attribute("data-state", "sent")
    expect(queued).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    expect(messages(page, "bot")).to_have_count(2)
    expect(last_message(page, "bot")).to_contain_text("refund", ignore_case=True)
    shown = assert_seqs_clean(page)

    stored = events(live_server.url, stored_conversation(page, live_server.url))
    texts = [e["payload"].get("text") for e in stored if e["author"] == "customer"]
    assert texts.count("How long does a refund take?") == 1
    assert shown == [e["seq"] for e in stored if e["type"] == "message"]
    assert stored_conversation(page, live_server.url).get("outbox") == []


# -- safety, isolation, accessibility ----------------------------------------------------------


def test_markup_in_messages_renders_as_text(
    live_server: LiveServer, context: BrowserContext
) -> None:
    evil = (
        'Our <img src=x onerror="window.__kefuXss=1"> policy is **safe**.\n'
        "<script>window.__kefuXss=2</script> "
        "[bad link](javascript:window.__kefuXss=3) and [good link](https://shop.example.com/help)"
    )
    admin = live_server.admin()
    try:
        created = admin.post(
            "/api/admin/kb/faqs",
            json={
                "question": "What is the zebra xylophone sticker policy?",
                "answer": evil,
                "language": "en",
                "category": "general",
                "status": "published",
            },
        )
    finally:
        admin.close()
    assert created.status_code == 201, created.text

    page = context.new_page()
    errors = watch(page)
    open_store(page, live_server.url)
    ask(page, '<b>bold?</b><img src=x onerror="window.__kefuXss=4">')
    expect(last_message(page, "customer")).to_have_text(re.compile(re.escape("<b>bold?</b><img")))
    ask(page, "What is the zebra xylophone sticker policy?")
    answer = last_message(page, "bot")
    expect(answer).to_contain_text('<img src=x onerror="window.__kefuXss=1">')
    expect(answer).to_contain_text("<script>")
    expect(answer.locator("strong")).to_have_text("safe")
    expect(answer.locator("a")).to_have_count(1)
    expect(answer.locator("a")).to_have_attribute("href", "https://shop.example.com/help")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__kefuXss") is None
    assert page.locator("[data-testid=kefu-log] img, [data-testid=kefu-log] script").count() == 0
    assert errors == []


def test_a_message_over_the_limit_is_counted_and_refused_not_cut(
    live_server: LiveServer, context: BrowserContext
) -> None:
    """A pasted 10,000-character message is kept whole, shown as too long, and not sent."""
    page = context.new_page()
    errors = watch(page)
    open_store(page, live_server.url)
    box = page.locator("[data-testid=kefu-input]")
    count = page.locator("[data-testid=kefu-count]")
    expect(count).to_be_hidden()  # nothing to say about a short message

    box.focus()
    page.keyboard.insert_text("a" * 10_000)  # as a paste arrives
    expect(box).to_have_value("a" * 10_000)
    expect(count).to_be_visible()
    expect(count).to_have_attribute("data-state", "over")
    expect(count).to_contain_text("10,000")
    expect(count).to_contain_text("2,000")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-testid=kefu-send]")).to_be_disabled()
    screenshot(page, "widget-message-too-long")
    box.press("Enter")
    page.wait_for_timeout(300)
    expect(box).to_have_value("a" * 10_000)
    expect(messages(page, "customer")).to_have_count(0)

    # Near the limit it counts down; at the limit it sends.
    box.fill("b" * 1_950)
    expect(count).to_have_attribute("data-state", "near")
    expect(count).to_contain_text("1,950")
    expect(page.locator("[data-testid=kefu-send]")).to_be_enabled()
    box.fill("c" * 2_000)
    box.press("Enter")
    expect(box).to_have_value("")
    expect(count).to_be_hidden()
    expect(last_message(page, "customer")).to_contain_text("c" * 100)
    assert errors == []


def test_isolated_from_the_host_page(live_server: LiveServer, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(live_server.url + "/")
    # The demo store's own aggressive CSS does apply to its page...
    featured = page.locator(".featured h3").first
    assert "Times" in featured.evaluate("node => getComputedStyle(node).fontFamily")
    # ...and none of it reaches the widget.
    open_store(page, live_server.url)
    ask(page, "How do I track my order?")
    bubble = last_message(page, "bot").locator(".bubble")
    expect(bubble).to_contain_text("My Orders")
    style = bubble.evaluate(
        """node => { const s = getComputedStyle(node);
               return {font: s.fontFamily, color: s.color, spacing: s.letterSpacing} }"""
    )
    assert "serif" not in style["font"].replace("sans-serif", "")
    assert style["color"] != "rgb(128, 0, 128)"
    assert style["spacing"] == "normal"
    send = page.locator("[data-testid=kefu-send]")
    assert send.evaluate("node => getComputedStyle(node).textTransform") == "none"
    globals_added = page.evaluate("""() => Object.keys(window).filter(k => /kefu/i.test(k))""")
    assert globals_added == ["KefuWidget"]
    assert page.evaluate("() => document.querySelector('kefu-widget').shadowRoot.mode") == "open"


def test_keyboard_and_small_screens(live_server: LiveServer, browser: Browser) -> None:
    # Reduced motion: the panel does not slide in, so its box can be measured at once.
    ctx = new_context(
        browser, viewport=MOBILE, has_touch=True, is_mobile=True, reduced_motion="reduce"
    )
    try:
        page = ctx.new_page()
        page.goto(live_server.url + "/")
        launcher = page.locator("[data-testid=kefu-launcher]")
        expect(launcher).to_have_attribute("aria-label", re.compile("chat", re.I))
        launcher.focus()
        page.keyboard.press("Enter")
        panel = page.locator("[data-testid=kefu-panel]")
        expect(panel).to_be_visible()
        expect(page.locator("[data-testid=kefu-input]")).to_be_focused()
        box = panel.bounding_box()
        assert box is not None
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)

        page.keyboard.type("Where can I find my previous orders?")
        page.keyboard.press("Enter")
        expect(last_message(page, "bot")).to_contain_text("My Orders")
        keep_screenshot(page, "widget-mobile")

        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(launcher).to_be_focused()
        expect(launcher).to_have_attribute("aria-expanded", "false")
    finally:
        ctx.close()


# -- people ------------------------------------------------------------------------------------

PROFILE: dict[str, Any] = {"teams": ["support"], "languages": ["en", "zh"]}


def status_of(url: str, conversation: dict[str, Any]) -> dict[str, Any]:
    response = httpx.get(
        f"{url}/api/chat/conversations/{conversation['cid']}/status",
        headers={"Authorization": f"Bearer {conversation['token']}"},
        timeout=30,
    )
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def staff(live_server: LiveServer) -> Iterator[Callable[..., httpx.Client]]:
    """Logged-in staff clients; every one is set offline and closed afterwards, so that
    automatic assignment in later tests cannot pick them."""
    made: list[httpx.Client] = []

    def make(username: str, **profile: Any) -> httpx.Client:
        client = live_server.staff(username, "agent", **{**PROFILE, **profile})
        made.append(client)
        return client

    yield make
    for client in made:
        client.put("/api/agent/me/presence", json={"presence": "offline"})
        client.close()


def ticket_for(agent: httpx.Client, conversation_id: str, view: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        for ticket in agent.get("/api/agent/tickets", params={"view": view}).json()["tickets"]:
            if ticket["conversation_id"] == conversation_id:
                found: dict[str, Any] = ticket
                return found
        return None

    found: dict[str, Any] = eventually(find, f"the ticket of {conversation_id} in {view}")
    return found


def test_talk_to_a_person_who_claims_and_replies_in_the_console(
    live_server: LiveServer,
    browser: Browser,
    context: BrowserContext,
    staff: Callable[..., httpx.Client],
) -> None:
    # A busy colleague at capacity keeps the team open, so the chat queues for a person.
    busy = staff("widget-busy", display_name="Bo Busy", max_chats=1)
    busy.put("/api/agent/me/presence", json={"presence": "online"}).raise_for_status()
    earlier = httpx.Client(base_url=live_server.url, timeout=30)
    started = earlier.post("/api/chat/conversations", json={}).json()
    earlier.headers["Authorization"] = f"Bearer {started['token']}"
    handoff = f"/api/chat/conversations/{started['conversation_id']}"
    earlier.post(f"{handoff}/handoff").raise_for_status()
    eventually(lambda: earlier.get(f"{handoff}/status").json()["state"] == "agent", "the busy chat")
    earlier.close()

    agent = staff("widget-lina", display_name="Li Na")
    console_context = new_context(browser, base_url=live_server.url)
    console = console_context.new_page()
    try:
        console.goto("/console")
        console.fill("#login-username", "widget-lina")
        console.fill("#login-password", PASSWORD)
        console.click("#login-submit")
        console.select_option("#presence", "away")
        eventually(lambda: agent.get("/api/agent/me").json()["presence"] == "away", "away")

        page = context.new_page()
        errors = watch(page)
        open_store(page, live_server.url)
        ask(page, "My parcel 78123456 is two weeks late")
        expect(last_message(page, "bot")).to_be_visible()
        page.locator("[data-testid=kefu-human]").click()
        queue = page.locator("[data-testid=kefu-queue]")
        expect(queue).to_be_visible()
        expect(queue).to_contain_text(re.compile("next in line|number \\d+ in the queue"))
        expect(page.locator("[data-testid=kefu-human]")).to_be_hidden()
        conversation = stored_conversation(page, live_server.url)
        assert status_of(live_server.url, conversation)["state"] == "waiting_for_agent"

        # The agent claims the chat from the queue in the console.
        ticket = ticket_for(agent, conversation["cid"], "queue")
        item = console.locator(
            f"[data-testid=queue-list] [data-testid=ticket-item][data-ticket-id='{ticket['id']}']"
        )
        item.click()
        console.click("[data-testid=claim]")
        joined = page.locator("[data-testid=kefu-message][data-type='agent.joined']")
        expect(joined).to_have_text("Li Na joined the chat")
        expect(queue).to_be_hidden()
        # The customer can hear of the claim before the console does; its reply box opens
        # when the claim's answer arrives, and keys pressed before that go nowhere.
        expect(console.locator("#reply-input")).to_be_enabled()

        # Typing, then a reply: the customer sees both live, with the agent's name.
        console.locator("#reply-input").press_sequentially("Hello, this is Li Na.")
        expect(page.locator("[data-testid=kefu-typing]")).to_contain_text("Li Na is typing")
        console.locator("#reply-input").press_sequentially(" I am checking order 78123456.")
        console.click("#reply-send")
        reply = last_message(page, "agent")
        expect(reply).to_contain_text("Hello, this is Li Na. I am checking order 78123456.")
        expect(reply.locator(".who")).to_have_text("Li Na")
        expect(page.locator("[data-testid=kefu-typing]")).to_be_hidden()

        # The customer's typing shows in the console.
        page.locator("[data-testid=kefu-input]").press_sequentially("Thank you")
        expect(console.locator("[data-testid=typing]")).to_be_visible()
        page.locator("[data-testid=kefu-input]").fill("")
        ask(page, "Thank you, I will wait")
        expect(last_message(page, "customer")).to_have_attribute("data-state", "sent")
        expect(
            console.locator("[data-testid=transcript] [data-testid=message][data-author=customer]")
        ).to_contain_text(["Thank you, I will wait"])
        keep_screenshot(page, "widget-handoff")

        # With the panel closed, the next agent message raises the unread badge; markup in it
        # stays text.
        page.locator("[data-testid=kefu-close]").click()
        sent = agent.post(
            f"/api/agent/tickets/{ticket['id']}/messages",
            json={"text": 'Found it <img src=x onerror="window.__kefuXss=1"> **shipped**'},
        )
        assert sent.status_code == 201, sent.text
        expect(page.locator("[data-testid=kefu-badge]")).to_have_text("1")
        expect(page.locator("[data-testid=kefu-launcher]")).to_have_attribute(
            "aria-label", re.compile("1 unread")
        )
        page.locator("[data-testid=kefu-launcher]").click()
        expect(page.locator("[data-testid=kefu-badge]")).to_be_hidden()
        expect(last_message(page, "agent")).to_contain_text(
            '<img src=x onerror="window.__kefuXss=1">'
        )
        expect(last_message(page, "agent").locator("strong")).to_have_text("shipped")
        assert page.evaluate("() => window.__kefuXss") is None
        assert_seqs_clean(page)

        # The agent closes; the customer rates the chat and the rating is stored.
        console.click("[data-testid=close-chat]")
        survey = page.locator("[data-testid=kefu-survey]")
        expect(survey).to_be_visible()
        expect(
            page.locator("[data-testid=kefu-message][data-type='conversation.closed']")
        ).to_have_text("Li Na ended the chat")
        expect(page.locator("[data-testid=kefu-input]")).to_be_hidden()
        page.locator("[data-testid=kefu-csat-4]").click()
        page.locator("[data-testid=kefu-nps-9]").click()
        page.locator("[data-testid=kefu-survey-comment]").fill("Quick and friendly")
        page.locator("[data-testid=kefu-survey-submit]").click()
        expect(page.locator("[data-testid=kefu-survey-thanks]")).to_be_visible()
        feedback = status_of(live_server.url, conversation)["feedback"]
        assert feedback == {"csat": 4, "nps": 9, "comment": "Quick and friendly"}
        assert errors == []
    finally:
        console_context.close()


def test_the_customer_ends_the_chat_rates_it_and_reopens_it(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    open_store(page, live_server.url)
    ask(page, "Do you ship internationally?")
    expect(last_message(page, "bot")).to_be_visible()
    conversation = stored_conversation(page, live_server.url)

    page.locator("[data-testid=kefu-end]").click()
    page.locator("[data-testid=kefu-end-confirm]").click()
    expect(last_message(page, "system")).to_have_text("You ended the chat")
    survey = page.locator("[data-testid=kefu-survey]")
    expect(survey).to_be_visible()
    expect(page.locator("[data-testid=kefu-input]")).to_be_hidden()
    assert status_of(live_server.url, conversation)["state"] == "closed"

    # Still asked after a reload; stars are required.
    page.reload()
    expect(survey).to_be_visible()
    page.locator("[data-testid=kefu-survey-submit]").click()
    expect(survey.locator("[role=alert]")).to_be_visible()
    page.locator("[data-testid=kefu-csat-5]").click()
    expect(page.locator("[data-testid=kefu-csat-5]")).to_have_attribute("aria-checked", "true")
    page.locator("[data-testid=kefu-survey-submit]").click()
    expect(page.locator("[data-testid=kefu-survey-thanks]")).to_be_visible()
    assert status_of(live_server.url, conversation)["feedback"] == {
        "csat": 5,
        "nps": None,
        "comment": None,
    }
    page.reload()
    expect(last_message(page, "system")).to_have_text("You rated this chat 5 out of 5")
    expect(survey).to_have_count(0)

    page.locator("[data-testid=kefu-reopen]").click()
    expect(last_message(page, "system")).to_have_text("The chat was reopened")
    expect(page.locator("[data-testid=kefu-input]")).to_be_visible()
    ask(page, "How much does express shipping cost?")
    expect(last_message(page, "bot")).to_contain_text("$12")
    assert status_of(live_server.url, conversation)["state"] == "bot"
    assert_seqs_clean(page)


def test_offline_message_when_nobody_can_take_the_chat(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    open_store(page, live_server.url)
    page.locator("[data-testid=kefu-human]").click()
    form = page.locator("[data-testid=kefu-offline-form]")
    expect(form).to_be_visible()
    email = page.locator("[data-testid=kefu-offline-email]")
    expect(email).to_be_focused()
    email.fill("not an address")
    text = page.locator("[data-testid=kefu-offline-text]")
    text.fill("Please call me about order 5566")
    page.locator("[data-testid=kefu-offline-submit]").click()
    expect(form.locator("[role=alert]")).to_be_visible()
    email.fill("wang.fang@example.com")
    # A pasted message longer than the server takes is refused here with its length, and kept
    # whole for the customer to shorten: never cut.
    text.fill("x" * 2500)
    page.locator("[data-testid=kefu-offline-submit]").click()
    expect(form.locator("[role=alert]")).to_contain_text("2,500 / 2,000")
    assert len(text.input_value()) == 2500
    expect(form).to_be_visible()
    text.fill("Please call me about order 5566")
    page.locator("[data-testid=kefu-offline-submit]").click()
    expect(form).to_be_hidden()
    expect(last_message(page, "system")).to_contain_text("wang.fang@example.com")
    conversation = stored_conversation(page, live_server.url)
    admin = live_server.admin()
    try:
        ticket = ticket_for(admin, conversation["cid"], "offline")
    finally:
        admin.close()
    assert ticket["offline_message"] == "Please call me about order 5566"
    # The bot keeps answering meanwhile.
    ask(page, "How do I track my order?")
    expect(last_message(page, "bot")).to_contain_text("My Orders")


def test_a_rejected_message_is_marked_failed_and_can_be_retried(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    open_store(page, live_server.url)
    ask(page, "hello")
    expect(last_message(page, "customer")).to_have_attribute("data-state", "sent")
    # Longer than the server takes (the input itself stops at 2,000 characters).
    page.evaluate("() => window.KefuWidget.send('x'.repeat(2001))")
    failed = last_message(page, "customer")
    expect(failed).to_have_attribute("data-state", "failed")
    expect(failed).to_contain_text("longer than 2000")
    retry = failed.locator("[data-testid=kefu-retry]")
    expect(retry).to_be_visible()
    client_id = failed.get_attribute("data-client-id")
    assert failed.get_attribute("data-seq") is None

    # Kept across a reload, still failed; a retry goes out again with the same client_id.
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    page.reload()
    failed = page.locator(f"[data-testid=kefu-message][data-client-id='{client_id}']")
    expect(failed).to_have_attribute("data-state", "failed")
    expect(page.locator("[data-testid=kefu-status]")).to_have_attribute("data-status", "connected")
    failed.locator("[data-testid=kefu-retry]").click()
    expect(failed).to_have_attribute("data-state", "failed")
    assert any(f'"client_id":"{client_id}"' in frame for frame in sent), sent
    stored = events(live_server.url, stored_conversation(page, live_server.url))
    assert [e["payload"]["text"] for e in stored if e["author"] == "customer"] == ["hello"]
    assert_seqs_clean(page)


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two computed ``rgb(r, g, b)`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_contrast_meets_wcag_aa(live_server: LiveServer, context: BrowserContext) -> None:
    page = context.new_page()
    open_store(page, live_server.url)  # data-accent="#0a7cff", too light for white text as is
    ask(page, "How do I track my order?")
    expect(last_message(page, "bot")).to_contain_text("My Orders")
    checks = {
        "customer bubble": last_message(page, "customer").locator(".bubble"),
        "bot bubble": last_message(page, "bot").locator(".bubble"),
        "header": page.locator("[data-testid=kefu-panel] .title"),
        "status": page.locator("[data-testid=kefu-status]"),
        "label": last_message(page, "bot").locator(".who"),
    }
    for name, locator in checks.items():
        colours = locator.evaluate(
            """node => {
                let back = node, bg = 'rgba(0, 0, 0, 0)';
                while (back && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
                    bg = getComputedStyle(back).backgroundColor;
                    back = back.parentElement || (back.getRootNode() && back.getRootNode().host);
                }
                return [getComputedStyle(node).color, bg];
            }"""
        )
        assert contrast(*colours) >= 4.5, (name, colours)
