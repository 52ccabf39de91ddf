"""E-mail continuity in the agent console, in Debian's chromium: a customer who went away gets
the agent's reply by mail, answers it by mail, and the agent sees the answer in the open chat,
marked as having come by e-mail."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, expect

from knowledge_base.embeddings import SentenceEmbedder
from tests.e2e.conftest import LiveServer, desk_only, eventually, screenshot, signed_in
from tests.handoff.desk_helpers import Customer, go_online
from tests.handoff.mail_relay import Relay
from tests.live import free_port

pytestmark = [pytest.mark.browser]

expect.set_options(timeout=15_000)

DOMAIN = "reply.shop.example"
ADDRESS = "grace@example.com"


@pytest.fixture(scope="module")
def relay() -> Iterator[Relay]:
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder, relay: Relay
) -> Iterator[LiveServer]:
    listen = f"127.0.0.1:{free_port()}"
    with desk_only(
        tmp_path_factory,
        embedder,
        "email",
        smtp_url=relay.url,  # type: ignore[attr-defined]
        smtp_from="care@shop.example",
        inbound_mail_domain=DOMAIN,
        inbound_smtp_listen=listen,
        mail_sweep_seconds=0.2,
        customer_reply_delay_seconds=0.3,
        handoff_tick_seconds=0.2,
    ) as live:
        live.listen = listen  # type: ignore[attr-defined]
        yield live


def test_an_answer_by_mail_shows_in_the_open_chat(
    browser: Browser, server: LiveServer, relay: Relay
) -> None:
    agent = server.staff("mei", display_name="Mei")
    go_online(agent)
    customer = Customer(server, name="Grace", email=ADDRESS, language="en")
    customer.ask_for_person()
    customer.events()  # the widget showed the hand-over; then Grace closed the page
    page = signed_in(browser, server, "mei")
    item = page.locator("[data-testid=queue-list] [data-testid=ticket-item]").first
    item.click()
    page.get_by_test_id("claim").click()
    page.fill("#reply-input", "Your parcel left our depot this morning.")
    page.click("#reply-send")

    mail = eventually(lambda: [m for m in relay.messages if m["To"] == ADDRESS], "the mail")[0]
    token = re.fullmatch(rf"reply\+[0-9a-f]{{32}}@{re.escape(DOMAIN)}", str(mail["Reply-To"]))
    assert token is not None, mail["Reply-To"]
    answer = EmailMessage()
    answer["From"] = f"Grace <{ADDRESS}>"
    answer["To"] = str(mail["Reply-To"])
    answer["Subject"] = f"Re: {mail['Subject']}"
    answer["Message-ID"] = make_msgid(domain="example.com")
    answer["In-Reply-To"] = str(mail["Message-ID"])
    answer.set_content(
        "Great, thank you! Can it go to my office instead?\n\n"
        "On Mon, 7 Dec 2026 at 10:00, care@shop.example wrote:\n"
        "> Your parcel left our depot this morning.\n"
    )
    host, _, port = server.listen.rpartition(":")  # type: ignore[attr-defined]
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(answer)

    last = page.locator("[data-testid=transcript] .msg--customer").last
    expect(last).to_contain_text("Can it go to my office instead?")
    expect(last.locator(".msg__meta")).to_contain_text("by e-mail")
    expect(last).not_to_contain_text("left our depot")
    screenshot(page, "console-answer-by-email")
