"""The agent console in Debian's chromium against a live server: log in, presence, a customer's
escalation arriving, claiming, the transcript and context packet, replying, internal notes,
canned responses, typing both ways, closing, a reload, and a dropped socket's replay.

Customers are driven over the REST API (and the customer WebSocket for typing) exactly as the
widget would; the console is driven only through its page.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect
from websockets.sync.client import connect as ws_connect

from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveServer, eventually, screenshot
from tests.handoff import desk_helpers

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 15_000
PROFILE: dict[str, Any] = {"teams": ["support"], "languages": ["en", "zh"]}
expect.set_options(timeout=TIMEOUT_MS)


# -- helpers ------------------------------------------------------------------------------------


class Customer(desk_helpers.Customer):
    """A customer on the chat API, as the widget would be."""

    def wait_for_event(
        self, predicate: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        return eventually(lambda: next((e for e in self.events() if predicate(e)), None), what=what)

    def socket_url(self) -> str:
        base = self.url.replace("http://", "ws://", 1)
        return f"{base}/api/chat/ws?conversation_id={self.id}&token={self.token}&last_seq=0"


def agent_message(text: str, username: str) -> Callable[[dict[str, Any]], bool]:
    def matches(event: dict[str, Any]) -> bool:
        return bool(
            event["type"] == "message"
            and event["author"] == f"agent:{username}"
            and event["payload"].get("text") == text
        )

    return matches


PageFactory = Callable[[], Page]


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[PageFactory]:
    """Pages at 1280×800 in fresh browser contexts (no shared cookies), closed afterwards."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, base_url=live_server.url
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    if not page.url.endswith("/console"):
        page.goto("/console")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def open_console(new_page: PageFactory, username: str) -> Page:
    page = new_page()
    page.goto("/console")
    log_in(page, username)
    expect(page.locator("[data-testid=queue-list]")).to_be_visible()
    expect(page.locator("[data-testid=connection]")).to_have_text("connected")
    return page


def set_presence(page: Page, presence: str, staff: httpx.Client) -> None:
    page.select_option("#presence", presence)
    eventually(
        lambda: staff.get("/api/agent/me").json()["presence"] == presence,
        what=f"presence {presence}",
    )


def ticket_item(page: Page, listing: str, ticket_id: int) -> Any:
    return page.locator(
        f"[data-testid={listing}-list] [data-testid=ticket-item][data-ticket-id='{ticket_id}']"
    )


def ticket_of(staff: httpx.Client, conversation_id: str) -> dict[str, Any]:
    """The open ticket of a conversation, as the agent API lists it."""

    def find() -> dict[str, Any] | None:
        for view in ("queue", "mine", "offline"):
            for ticket in staff.get("/api/agent/tickets", params={"view": view}).json()["tickets"]:
                if ticket["conversation_id"] == conversation_id:
                    found: dict[str, Any] = ticket
                    return found
        return None

    return eventually(find, what=f"a ticket for {conversation_id}")


def seqs_shown(page: Page) -> list[int]:
    values = page.locator("[data-testid=transcript] [data-testid=message]").evaluate_all(
        "nodes => nodes.map(n => Number(n.dataset.seq))"
    )
    return [int(v) for v in values]


def assert_no_duplicates(page: Page) -> list[int]:
    seqs = seqs_shown(page)
    assert len(seqs) == len(set(seqs)), f"duplicate seqs in the transcript: {seqs}"
    assert seqs == sorted(seqs), f"the transcript is out of order: {seqs}"
    return seqs


@pytest.fixture
def go_offline(live_server: LiveServer) -> Iterator[list[str]]:
    """Agents named here are set offline afterwards, so auto-assignment in later tests
    cannot pick them."""
    names: list[str] = []
    yield names
    admin = live_server.admin()
    for name in names:
        admin.put(f"/api/agent/agents/{name}", json={"presence": "offline"})


# -- tests --------------------------------------------------------------------------------------


def test_login_presence_and_help(
    live_server: LiveServer, new_page: PageFactory, go_offline: list[str]
) -> None:
    staff = live_server.staff("agent-login", "agent", **PROFILE)
    go_offline.append("agent-login")
    page = new_page()
    page.goto("/console")
    expect(page.locator("#login-username")).to_be_visible()
    expect(page.locator("#login-error")).to_be_hidden()

    log_in(page, "agent-login", "not the password")
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("Wrong username or password")
    expect(page.locator("[data-testid=queue-list]")).to_be_hidden()
    screenshot(page, "console-login-error")

    log_in(page, "agent-login")
    expect(page.locator("[data-testid=queue-list]")).to_be_visible()
    expect(page.locator("[data-testid=mine-list]")).to_be_visible()
    expect(page.locator("[data-testid=offline-list]")).to_be_visible()
    expect(page.locator("#login-error")).to_be_hidden()
    expect(page.locator("[data-testid=connection]")).to_have_text("connected")
    expect(page).to_have_title("kefu console")
    help_line = page.locator("#help-line")
    for words in ("Enter", "Shift", "Alt", "claim", "next/previous chat"):
        expect(help_line).to_contain_text(words)

    set_presence(page, "online", staff)
    expect(page.locator("#presence")).to_have_value("online")
    set_presence(page, "away", staff)

    # Signing out shows the form again, and a reload stays signed out.
    page.click("#logout")
    expect(page.locator("#login-username")).to_be_visible()
    page.reload()
    expect(page.locator("#login-username")).to_be_visible()


def test_escalation_claim_reply_note_close(
    live_server: LiveServer, new_page: PageFactory, go_offline: list[str]
) -> None:
    admin = live_server.admin()
    # A busy colleague keeps the support team "open", so the escalation queues a ticket
    # that nobody is free to take automatically: agent-x, away, claims it from the queue.
    busy = live_server.staff("agent-busy", "agent", **PROFILE)
    go_offline.extend(["agent-busy", "agent-x"])
    admin.put("/api/agent/agents/agent-busy", json={"max_chats": 1}).raise_for_status()
    busy.put("/api/agent/me/presence", json={"presence": "online"}).raise_for_status()
    earlier = Customer(live_server)
    earlier.say("hello")
    earlier.ask_for_person()
    eventually(lambda: earlier.status()["state"] == "agent", what="the busy agent's chat")

    staff = live_server.staff("agent-x", "agent", **PROFILE)
    response = admin.post(
        "/api/agent/canned",
        json={
            "shortcut": "track",
            "title": "Tracking link",
            "text": "Hi {customer_name}, you can follow your parcel on **My Orders**.",
        },
    )
    assert response.status_code in (201, 409), response.text

    page = open_console(new_page, "agent-x")
    set_presence(page, "away", staff)

    customer = Customer(live_server, name="Wang Fang", email="wang.fang@example.com", tier="vip")
    customer.say("My order 78123456 has not arrived, it is two weeks late")
    status = customer.ask_for_person()
    assert status["state"] == "waiting_for_agent", status
    ticket = ticket_of(staff, customer.id)
    assert ticket["status"] == "queued", ticket

    item = ticket_item(page, "queue", ticket["id"])
    expect(item).to_be_visible()
    expect(item.locator("[data-testid=priority]")).to_have_text(ticket["priority"])
    expect(item).to_contain_text("Wang Fang")
    expect(page).to_have_title(re.compile(r"^\(1\) New chat – kefu console$"))
    screenshot(page, "console-new-ticket")

    item.click()
    transcript = page.locator("[data-testid=transcript]")
    customer_line = transcript.locator("[data-testid=message][data-author=customer]")
    expect(customer_line.first).to_contain_text("78123456")
    context = page.locator("[data-testid=context]")
    expect(context).to_contain_text("78123456")
    expect(context).to_contain_text("wang.fang@example.com")
    # The page only claimed her name, address and VIP tier (no signed identity): all are marked.
    expect(context.locator("[data-testid=unverified]")).to_have_count(3)
    expect(page).to_have_title("kefu console")
    # Not yet claimed: replying is not possible.
    expect(page.locator("#reply-input")).to_be_disabled()

    page.click("[data-testid=claim]")
    expect(ticket_item(page, "mine", ticket["id"])).to_be_visible()
    expect(ticket_item(page, "queue", ticket["id"])).to_have_count(0)
    expect(page.locator("[data-testid=claim]")).to_be_hidden()
    expect(transcript.locator("[data-type='agent.joined']")).to_have_count(1)
    customer.wait_for_event(lambda e: e["type"] == "agent.joined", "agent.joined")

    # Typing, both ways: the customer's socket sees the agent type, the console the customer.
    with ws_connect(customer.socket_url(), open_timeout=10) as socket:
        socket.send(json.dumps({"type": "typing", "typing": True}))
        expect(page.locator("[data-testid=typing]")).to_be_visible()
        page.locator("#reply-input").press_sequentially("Let me")
        deadline = time.monotonic() + 15
        typing: dict[str, Any] | None = None
        while typing is None and time.monotonic() < deadline:
            frame = json.loads(socket.recv(timeout=15))
            if frame.get("type") == "typing" and frame.get("who") == "agent":
                typing = frame
        assert typing is not None
        assert typing["typing"] is True
        socket.send(json.dumps({"type": "typing", "typing": False}))
        expect(page.locator("[data-testid=typing]")).to_be_hidden()
    page.fill("#reply-input", "")

    # A canned response through "/shortcut", placeholders filled in.
    page.locator("#reply-input").press_sequentially("/tra")
    canned = page.locator("[data-testid=canned-item]")
    expect(canned.first).to_be_visible()
    page.locator("#reply-input").press("Enter")
    expect(page.locator("#reply-input")).to_have_value(
        "Hi Wang Fang, you can follow your parcel on **My Orders**."
    )
    page.fill("#reply-input", "")

    # Shift+Enter is a new line; Enter sends.
    reply = page.locator("#reply-input")
    reply.press_sequentially("Hello Wang Fang, I am checking order 78123456.")
    reply.press("Shift+Enter")
    reply.press_sequentially("One moment please.")
    expect(reply).to_have_value(
        "Hello Wang Fang, I am checking order 78123456.\nOne moment please."
    )
    reply.press("Enter")
    sent = "Hello Wang Fang, I am checking order 78123456.\nOne moment please."
    mine = transcript.locator("[data-testid=message][data-author='agent:agent-x']")
    expect(mine).to_have_count(1)
    expect(mine.first).to_contain_text("One moment please.")
    expect(reply).to_have_value("")
    customer.wait_for_event(agent_message(sent, "agent-x"), "the agent's reply")

    # The canned picker from its button, sent with Ctrl+Enter.
    page.click("[data-testid=canned-button]")
    expect(canned.first).to_be_visible()
    canned.first.click()
    expect(reply).to_have_value("Hi Wang Fang, you can follow your parcel on **My Orders**.")
    reply.press("Control+Enter")
    expect(mine).to_have_count(2)
    expect(mine.nth(1).locator("strong")).to_have_text("My Orders")
    customer.wait_for_event(
        agent_message("Hi Wang Fang, you can follow your parcel on **My Orders**.", "agent-x"),
        "the canned reply",
    )

    # The customer answers, live.
    customer.say("Thanks, I'll wait. 谢谢！")
    expect(customer_line.last).to_contain_text("谢谢")

    # An internal note: marked in the console, never sent to the customer.
    page.check("#note-toggle")
    reply.fill("VIP customer: courier case opened, shipping fee refund offered.")
    reply.press("Enter")
    note = transcript.locator("[data-testid=message][data-internal=true]")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Internal")
    expect(note).to_contain_text("courier case opened")
    page.uncheck("#note-toggle")
    assert not any(
        "courier case" in str(e["payload"].get("text", "")) or e.get("internal")
        for e in customer.events()
    )
    assert_no_duplicates(page)
    expect(page.locator("[data-testid=transfer]")).to_be_visible()
    expect(page.locator("[data-testid=handback]")).to_be_visible()

    # Another customer starts waiting meanwhile: the queue and the title say so.
    waiting = Customer(live_server, name="陈杰", language="zh")
    waiting.say("我的订单 88812345 还没到，太慢了！")
    waiting.ask_for_person()
    second = ticket_of(staff, waiting.id)
    expect(ticket_item(page, "queue", second["id"])).to_contain_text("陈杰")
    expect(page).to_have_title(re.compile(r"^\(1\) New chat"))
    expect(page.locator(".toast")).to_have_count(0)
    reply.fill("Thank you for your patience, Wang Fang.")
    screenshot(page, "console-conversation")
    screenshot(page, "console", docs=True)
    reply.fill("")

    # Markup from anyone is text: HTML is shown, never run; only http(s) links are links.
    customer.say(
        "See **this** <img src=x onerror=alert(1)> https://example.com/track?id=1 "
        "[click](javascript:alert(1))"
    )
    shown = customer_line.last
    expect(shown).to_contain_text("<img src=x onerror=alert(1)>")
    expect(shown.locator("strong")).to_have_text("this")
    expect(shown.locator("img")).to_have_count(0)
    links = shown.locator("a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.com/track?id=1")
    expect(links).to_have_attribute("rel", re.compile(r"\bnoopener\b"))

    page.click("[data-testid=close-chat]")
    closed = customer.wait_for_event(lambda e: e["type"] == "conversation.closed", "the close")
    assert closed["payload"]["by"] == "agent"
    expect(ticket_item(page, "mine", ticket["id"])).to_have_count(0)
    expect(transcript.locator("[data-type='conversation.closed']")).to_have_count(1)
    expect(page.locator("#reply-input")).to_be_disabled()
    assert_no_duplicates(page)

    staff.post(f"/api/agent/tickets/{second['id']}/claim").raise_for_status()
    staff.post(f"/api/agent/tickets/{second['id']}/close").raise_for_status()


def test_reload_keeps_session_and_transcript(
    live_server: LiveServer, new_page: PageFactory, go_offline: list[str]
) -> None:
    staff = live_server.staff("agent-reload", "agent", **PROFILE)
    go_offline.append("agent-reload")
    page = open_console(new_page, "agent-reload")
    set_presence(page, "online", staff)

    customer = Customer(live_server, name="Li Lei")
    customer.say("Where is my parcel? Order 55512345")
    customer.ask_for_person()
    ticket = ticket_of(staff, customer.id)
    # Auto-assignment: the only online agent of the team gets the chat.
    item = ticket_item(page, "mine", ticket["id"])
    expect(item).to_be_visible()
    expect(page).to_have_title(re.compile(r"New chat"))
    item.click()
    transcript = page.locator("[data-testid=transcript]")
    reply = page.locator("#reply-input")
    reply.fill("Hi Li Lei, let me look.")
    reply.press("Enter")
    customer.wait_for_event(agent_message("Hi Li Lei, let me look.", "agent-reload"), "reply")
    customer.say("Thank you")
    expect(transcript.locator("[data-author=customer]").last).to_have_text(re.compile("Thank you"))
    before = assert_no_duplicates(page)

    page.reload()
    expect(page.locator("#login-username")).to_be_hidden()
    expect(page.locator("[data-testid=connection]")).to_have_text("connected")
    expect(ticket_item(page, "mine", ticket["id"])).to_be_visible()
    # The open chat is reopened by the address; the transcript is complete and single.
    expect(transcript.locator("[data-testid=message]")).to_have_count(len(before))
    assert assert_no_duplicates(page) == before

    customer.say("Are you still there?")
    expect(transcript.locator("[data-author=customer]").last).to_have_text(
        re.compile("still there")
    )
    reply.fill("Yes, still here.")
    reply.press("Enter")
    customer.wait_for_event(agent_message("Yes, still here.", "agent-reload"), "reply")
    # The customer can have the reply before the console's own socket echoes it back.
    expect(transcript.locator("[data-testid=message]")).to_have_count(len(before) + 2)
    after = assert_no_duplicates(page)
    assert after[: len(before)] == before
    assert len(after) == len(before) + 2

    page.click("[data-testid=close-chat]")
    customer.wait_for_event(lambda e: e["type"] == "conversation.closed", "the close")


def test_dropped_socket_replays_missed_events_once(
    live_server: LiveServer, new_page: PageFactory, go_offline: list[str]
) -> None:
    staff = live_server.staff("agent-drop", "agent", **PROFILE)
    go_offline.append("agent-drop")
    page = new_page()
    # The agent socket goes through a route the test can cut and restore.
    sockets: list[WebSocketRoute] = []
    cut = {"now": False}

    def route(ws: WebSocketRoute) -> None:
        if cut["now"]:
            ws.close(code=1011, reason="cut by the test")
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/api/agent/ws$"), route)
    page.goto("/console")
    log_in(page, "agent-drop")
    expect(page.locator("[data-testid=connection]")).to_have_text("connected")
    set_presence(page, "online", staff)

    customer = Customer(live_server, name="Zhang Wei")
    customer.say("I need help with a refund")
    customer.ask_for_person()
    ticket = ticket_of(staff, customer.id)
    ticket_item(page, "mine", ticket["id"]).click()
    transcript = page.locator("[data-testid=transcript]")
    expect(transcript.locator("[data-author=customer]")).to_have_count(1)

    cut["now"] = True
    for ws in sockets:
        ws.close(code=1011, reason="cut by the test")
    expect(page.locator("[data-testid=connection]")).to_have_text("reconnecting")
    customer.say("Hello? Anyone there?")
    customer.say("The refund is for order 99887766")
    page.wait_for_timeout(1500)
    cut["now"] = False

    expect(page.locator("[data-testid=connection]")).to_have_text("connected")
    expect(transcript.locator("[data-author=customer]")).to_have_count(3)
    expect(transcript.locator("[data-author=customer]").last).to_contain_text("99887766")
    assert_no_duplicates(page)
    # Live again after the replay.
    customer.say("ok")
    expect(transcript.locator("[data-author=customer]")).to_have_count(4)
    assert_no_duplicates(page)

    page.click("[data-testid=close-chat]")
    customer.wait_for_event(lambda e: e["type"] == "conversation.closed", "the close")


def test_keyboard_shortcuts_move_and_claim(
    live_server: LiveServer, new_page: PageFactory, go_offline: list[str]
) -> None:
    admin = live_server.admin()
    busy = live_server.staff("agent-busy2", "agent", **PROFILE)
    go_offline.extend(["agent-busy2", "agent-keys"])
    admin.put("/api/agent/agents/agent-busy2", json={"max_chats": 1}).raise_for_status()
    busy.put("/api/agent/me/presence", json={"presence": "online"}).raise_for_status()
    holder = Customer(live_server)
    holder.say("hi")
    holder.ask_for_person()
    eventually(lambda: holder.status()["state"] == "agent", what="the busy agent's chat")

    staff = live_server.staff("agent-keys", "agent", **PROFILE)
    page = open_console(new_page, "agent-keys")
    first, second = Customer(live_server, name="First"), Customer(live_server, name="Second")
    for person in (first, second):
        person.say("I want to talk to a person")
        person.ask_for_person()
    tickets = [ticket_of(staff, person.id) for person in (first, second)]
    for ticket in tickets:
        expect(ticket_item(page, "queue", ticket["id"])).to_be_visible()
    expect(page).to_have_title(re.compile(r"^\(2\) New chat – kefu console$"))

    order = page.locator("[data-testid=queue-list] [data-testid=ticket-item]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.ticketId)"
    )
    page.locator("body").press("Alt+ArrowDown")
    expect(page.locator("#chat-name")).to_be_visible()
    selected = page.locator("[data-testid=ticket-item][aria-selected=true]")
    expect(selected).to_have_attribute("data-ticket-id", order[0])
    page.locator("body").press("Alt+ArrowDown")
    expect(selected).to_have_attribute("data-ticket-id", order[1])
    page.locator("body").press("Alt+ArrowUp")
    expect(selected).to_have_attribute("data-ticket-id", order[0])

    page.locator("body").press("Alt+c")
    expect(ticket_item(page, "mine", int(order[0]))).to_be_visible()
    expect(page.locator("#reply-input")).to_be_enabled()

    for ticket in tickets:
        staff.post(f"/api/agent/tickets/{ticket['id']}/claim")
        staff.post(f"/api/agent/tickets/{ticket['id']}/close")


def test_transfer_with_note_and_hand_back(
    live_server: LiveServer, new_page: PageFactory, go_offline: list[str]
) -> None:
    staff = live_server.staff("agent-t1", "agent", **PROFILE)
    colleague = live_server.staff("agent-t2", "agent", display_name="Tao Two", **PROFILE)
    go_offline.extend(["agent-t1", "agent-t2"])
    page = open_console(new_page, "agent-t1")
    set_presence(page, "online", staff)

    customer = Customer(live_server, name="Sam Lee")
    customer.say("I was charged twice for order 66677788")
    customer.ask_for_person()
    ticket = ticket_of(staff, customer.id)
    ticket_item(page, "mine", ticket["id"]).click()
    expect(page.locator("[data-testid=transfer]")).to_be_visible()

    page.click("[data-testid=transfer]")
    dialog = page.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#transfer-agent option[value=agent-t2]")).to_have_count(1)
    page.select_option("#transfer-agent", "agent-t2")
    page.fill("#transfer-note", "Double charge confirmed in billing; please refund one.")
    page.click("[data-testid=transfer-submit]")
    expect(dialog).to_be_hidden()
    expect(ticket_item(page, "mine", ticket["id"])).to_have_count(0)
    mine = colleague.get("/api/agent/tickets", params={"view": "mine"}).json()["tickets"]
    assert [t["id"] for t in mine] == [ticket["id"]]
    transcript = page.locator("[data-testid=transcript]")
    note = transcript.locator("[data-internal=true]")
    expect(note).to_contain_text("Double charge confirmed")
    expect(transcript.locator("[data-type='agent.joined']").last).to_contain_text("Tao Two")
    # The previous owner may no longer reply.
    expect(page.locator("#reply-input")).to_be_disabled()
    customer.wait_for_event(
        lambda e: e["type"] == "agent.joined" and e["payload"].get("agent") == "Tao Two",
        "the colleague joining",
    )
    assert not any("Double charge" in str(e["payload"]) for e in customer.events())
    assert_no_duplicates(page)

    other = Customer(live_server, name="Kim")
    other.say("I want to talk to a person")
    other.ask_for_person()
    second = ticket_of(staff, other.id)
    ticket_item(page, "mine", second["id"]).click()
    page.click("[data-testid=handback]")
    other.wait_for_event(lambda e: e["type"] == "conversation.returned_to_bot", "hand back")
    expect(ticket_item(page, "mine", second["id"])).to_have_count(0)
    expect(transcript.locator("[data-type='conversation.returned_to_bot']")).to_have_count(1)
    assert other.status()["state"] == "bot"
    assert any(e["author"] == "bot" for e in other.say("How can I track my order?"))

    colleague.post(f"/api/agent/tickets/{ticket['id']}/close").raise_for_status()
