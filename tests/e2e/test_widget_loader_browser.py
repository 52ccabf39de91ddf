"""The widget's scripts in a real browser: a page loads only the launcher (widget.js) until the
chat is wanted, then the chat panel of its language (widget-chat.en.js or widget-chat.zh.js)
once, however often it is clicked, and never the other language's; a failed fetch says so and
the next open tries again; a returning customer's conversation loads with the page and
resumes; and a chat panel of another build refuses to run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_widget_browser import (
    ask,
    assert_seqs_clean,
    context,
    last_message,
    messages,
    new_context,
    open_store,
    watch,
)

__all__ = ["context"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHAT_SCRIPT = re.compile(r"/widget-chat\.(en|zh)\.js(\?|$)")


def chat_fetches(page: Page) -> list[str]:
    """The URLs of every request the page makes for a chat panel, as they are made."""
    seen: list[str] = []

    def note(request: Request) -> None:
        if CHAT_SCRIPT.search(request.url):
            seen.append(request.url)

    page.on("request", note)
    return seen


def test_the_chat_is_fetched_once_and_only_when_opened(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = watch(page)
    fetched = chat_fetches(page)
    held: list[Route] = []
    page.route(CHAT_SCRIPT, lambda route: held.append(route))  # answered when the test says
    page.goto(live_server.url + "/")
    launcher = page.locator("[data-testid=kefu-launcher]")
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-label", "Open chat")
    page.wait_for_timeout(500)
    assert fetched == []
    expect(page.locator("[data-testid=kefu-panel]")).to_have_count(0)

    # A double click (the pointer on the launcher starts the fetch early) fetches once.
    launcher.dblclick()
    expect(launcher).to_have_attribute("aria-busy", "true")
    page.wait_for_timeout(300)
    assert len(fetched) == 1
    assert fetched[0].startswith(live_server.url + "/widget-chat.en.js?v=")
    held[0].continue_()
    expect(page.locator("[data-testid=kefu-panel]")).to_be_visible()
    expect(page.locator("[data-testid=kefu-input]")).to_be_focused()
    expect(launcher).not_to_have_attribute("aria-busy", "true")
    ask(page, "How do I track my order?")
    expect(last_message(page, "bot")).to_contain_text("My Orders")

    # Closing and opening again uses the chat already there.
    page.locator("[data-testid=kefu-close]").click()
    launcher.click()
    expect(page.locator("[data-testid=kefu-panel]")).to_be_visible()
    assert len(fetched) == 1
    assert errors == []


@pytest.mark.parametrize(
    ("locale", "attribute", "lang", "title", "placeholder"),
    [
        ("en-US", "", "en", "Customer service", "Type your message…"),
        ("zh-CN", "", "zh", "在线客服", "请输入您的问题…"),
        ("en-US", ' data-language="zh"', "zh", "在线客服", "请输入您的问题…"),
        ("zh-CN", ' data-language="en"', "en", "Customer service", "Type your message…"),
    ],
)
def test_the_page_gets_the_chat_panel_of_its_language_only(
    live_server: LiveServer,
    browser: Browser,
    locale: str,
    attribute: str,
    lang: str,
    title: str,
    placeholder: str,
) -> None:
    # Each panel carries one language's texts: the page's, from data-language or the browser's.
    ctx = new_context(browser, locale=locale)
    try:
        page = ctx.new_page()
        errors = watch(page)
        fetched = chat_fetches(page)
        page.route(
            f"{live_server.url}/lang-page",
            lambda route: route.fulfill(
                body=f'<!doctype html><meta charset="utf-8"><script src="/widget.js"{attribute}>'
                "</script>",
                content_type="text/html",
            ),
        )
        page.goto(f"{live_server.url}/lang-page")
        page.locator("[data-testid=kefu-launcher]").click()
        expect(page.locator("[data-testid=kefu-panel]")).to_be_visible()
        expect(page.locator("#kefu-title")).to_have_text(title)
        expect(page.locator("[data-testid=kefu-input]")).to_have_attribute(
            "placeholder", placeholder
        )
        assert [url.split("?")[0] for url in fetched] == [
            f"{live_server.url}/widget-chat.{lang}.js"
        ]
        assert errors == []
    finally:
        ctx.close()


def test_a_failed_fetch_says_so_and_the_next_open_tries_again(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    fetched = chat_fetches(page)
    attempts: list[str] = []

    def fail_once(route: Route) -> None:
        attempts.append(route.request.url)
        if len(attempts) == 1:
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route(CHAT_SCRIPT, fail_once)
    page.goto(live_server.url + "/")
    launcher = page.locator("[data-testid=kefu-launcher]")
    launcher.click()
    failed = page.locator("[data-testid=kefu-load-error]")
    expect(failed).to_be_visible()
    expect(failed).to_have_text("The chat could not be loaded. Please try again.")
    expect(failed).to_have_attribute("role", "alert")
    expect(launcher).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("[data-testid=kefu-panel]")).to_have_count(0)

    launcher.click()
    expect(page.locator("[data-testid=kefu-panel]")).to_be_visible()
    expect(failed).to_be_hidden()
    assert len(attempts) == 2
    assert len(fetched) == 2
    ask(page, "How long does delivery take?")
    expect(last_message(page, "bot")).to_contain_text("business days")


def test_a_stored_conversation_loads_with_the_page_and_resumes(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = watch(page)
    open_store(page, live_server.url)
    ask(page, "How much does shipping cost?")
    expect(last_message(page, "bot")).to_contain_text("$49")
    before = assert_seqs_clean(page)
    page.locator("[data-testid=kefu-close]").click()

    # Back later, the chat closed: the conversation loads with the page, without a click, and
    # its socket is connected (it counts what arrives while the panel stays closed).
    fetched = chat_fetches(page)
    page.reload()
    status = page.locator("[data-testid=kefu-status]")
    expect(status).to_have_attribute("data-status", "connected")
    assert len(fetched) == 1
    expect(page.locator("[data-testid=kefu-panel]")).to_be_hidden()
    expect(page.locator("[data-testid=kefu-badge]")).to_be_hidden()
    expect(messages(page)).to_have_count(len(before))
    page.locator("[data-testid=kefu-launcher]").click()
    expect(page.locator("[data-testid=kefu-panel]")).to_be_visible()
    assert assert_seqs_clean(page) == before
    ask(page, "Can I pay with PayPal?")
    expect(messages(page, "bot")).to_have_count(2)
    assert len(fetched) == 1
    assert errors == []


def test_the_pages_api_loads_the_chat_when_asked(live_server: LiveServer, browser: Browser) -> None:
    ctx = new_context(browser)
    try:
        page = ctx.new_page()
        errors = watch(page)
        fetched = chat_fetches(page)
        page.goto(live_server.url + "/")
        expect(page.locator("[data-testid=kefu-launcher]")).to_be_visible()
        assert page.evaluate("() => window.KefuWidget.conversationId") is None
        page.evaluate("() => window.KefuWidget.send('How do I track my order?')")
        expect(last_message(page, "bot")).to_contain_text("My Orders")
        expect(page.locator("[data-testid=kefu-panel]")).to_be_hidden()
        expect(page.locator("[data-testid=kefu-badge]")).to_have_text("1")
        page.evaluate("() => window.KefuWidget.open()")
        expect(page.locator("[data-testid=kefu-panel]")).to_be_visible()
        assert page.evaluate("() => window.KefuWidget.conversationId")
        assert len(fetched) == 1
        assert errors == []
    finally:
        ctx.close()


@pytest.mark.parametrize(
    ("policy", "tag"),
    [
        ("script-src 'self'", '<script src="/widget.js"></script>'),
        ("script-src 'nonce-k3fu'", '<script src="/widget.js" nonce="k3fu"></script>'),
        (
            "script-src 'nonce-k3fu' 'strict-dynamic'",
            '<script src="/widget.js" nonce="k3fu"></script>',
        ),
    ],
)
def test_a_page_whose_policy_lets_widget_js_run_gets_the_chat_too(
    live_server: LiveServer, context: BrowserContext, policy: str, tag: str
) -> None:
    page = context.new_page()
    errors = watch(page)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security" in message.text else None
        ),
    )
    page.route(
        f"{live_server.url}/strict-page",
        lambda route: route.fulfill(
            body=f'<!doctype html><meta charset="utf-8"><h1>A strict shop</h1>{tag}',
            content_type="text/html",
            headers={"Content-Security-Policy": policy},
        ),
    )
    page.goto(f"{live_server.url}/strict-page")
    page.locator("[data-testid=kefu-launcher]").click()
    # (A page the browser makes up may not open a socket to a loopback address: chatting on
    # another site is test_widget_embedding_browser's; here the scripts are what matter.)
    expect(page.locator("[data-testid=kefu-panel]")).to_be_visible()
    expect(page.locator("[data-testid=kefu-input]")).to_be_focused()
    assert refused == []
    assert errors == []


def test_a_chat_panel_of_another_build_refuses_to_run(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    thrown: list[str] = []
    page.on("pageerror", lambda error: thrown.append(str(error)))

    def another_build(route: Route) -> None:
        served = route.fetch()
        body = re.sub(r'\.build!=="\w+"', '.build!=="0123456789ab"', served.text())
        assert body != served.text()
        route.fulfill(response=served, body=body)

    page.route(CHAT_SCRIPT, another_build)
    page.goto(live_server.url + "/")
    page.locator("[data-testid=kefu-launcher]").click()
    expect(page.locator("[data-testid=kefu-load-error]")).to_be_visible()
    expect(page.locator("[data-testid=kefu-panel]")).to_have_count(0)
    assert any("same build" in error for error in thrown), thrown
