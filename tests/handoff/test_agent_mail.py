"""E-mail to the desk (issue 16, item 4): a message a customer leaves while nobody is online is
mailed to the desk's addresses, masked, once, retried when the relay fails; with the setting, a
new live ticket too. A real SMTP server on loopback (aiosmtpd) plays the relay."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from core.db import make_engine
from core.settings import Settings
from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import Customer, go_online, wait_until
from tests.handoff.mail_relay import Relay
from tests.live import LiveServer

DESK = ["desk@shop.example", "lead@shop.example"]
LIVE = {"waiting_for_agent", "agent"}


def mail_settings(smtp_url: str, **more: Any) -> dict[str, Any]:
    return {
        "smtp_url": smtp_url,
        "smtp_from": "kefu@shop.example",
        "public_url": "https://help.shop.example",
        "agent_notice_emails": DESK,
        "mail_sweep_seconds": 0.1,
        **more,
    }


def outbox(server: LiveServer) -> list[dict[str, Any]]:
    engine = make_engine(server.settings.resolved_database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT key, state, attempts, last_error, body FROM mail_outbox ORDER BY id")
        ).all()
    engine.dispose()
    return [dict(row._mapping) for row in rows]


def leave(server: LiveServer, message: str, **start: Any) -> Customer:
    customer = Customer(server, **start)
    left = customer.post("offline-message", email="mei@example.com", text=message)
    assert left.status_code == 201, left.text
    return customer


def test_an_offline_message_is_mailed_to_the_desk_once_and_masked(
    desk: ServerFactory, relay: tuple[Relay, str]
) -> None:
    mail, smtp_url = relay
    server = desk(**mail_settings(smtp_url))
    leave(server, "Refund to card 4111111111111111 please, call +86 138 0013 8000", name="Mei")
    wait_until(lambda: len(mail.messages) == 2, what="the desk's notices")
    assert sorted(m["To"] for m in mail.messages) == sorted(DESK)
    notice = mail.to(DESK[0])[0]
    assert notice["From"] == "kefu@shop.example"
    assert notice["Subject"].startswith("[kefu] New offline message #")
    assert notice["Auto-Submitted"] == "auto-generated"
    body = notice.get_content()
    assert "https://help.shop.example/console" in body
    assert "Mei" in body
    assert "4111111111111111" not in body
    assert "138 0013 8000" not in body
    assert "mei@example.com" not in body
    assert "Refund to card" in body
    # Further sweeps, and another message, mail once each.
    leave(server, "Where is order SO123456?")
    wait_until(lambda: len(mail.messages) == 4, what="the second notices")
    assert [row["state"] for row in outbox(server)] == ["sent"] * 4
    # The customer's words leave the database with the mail.
    assert [row["body"] for row in outbox(server)] == [""] * 4
    assert len(mail.messages) == 4


def test_a_failing_relay_is_retried_then_given_up(
    desk: ServerFactory, relay: tuple[Relay, str]
) -> None:
    mail, smtp_url = relay
    mail.fail = {DESK[0]: 1}
    server = desk(**mail_settings(smtp_url, mail_retry_seconds=0.2, mail_max_attempts=3))
    leave(server, "Is anyone there?")
    wait_until(lambda: mail.to(DESK[0]), what="the retried notice")
    rows = {row["attempts"]: row for row in outbox(server)}
    # The other address had its mail at once; the refused one on the second attempt.
    assert [(r["state"], r["last_error"]) for r in rows.values()] == [("sent", None)] * 2
    assert sorted(rows) == [1, 2]
    assert len(mail.messages) == 2
    # A relay that keeps refusing: three attempts, then failed, the address never logged.
    mail.fail = {DESK[0]: 99}
    leave(server, "Hello?")
    wait_until(
        lambda: any(r["state"] == "failed" for r in outbox(server)), what="the notice given up"
    )
    (last,) = [r for r in outbox(server) if r["state"] == "failed"]
    assert last["attempts"] == 3
    assert "451" in last["last_error"]
    assert "shop.example" not in last["last_error"]


def test_live_tickets_are_not_mailed_by_default(
    desk: ServerFactory, relay: tuple[Relay, str]
) -> None:
    mail, smtp_url = relay
    quiet = desk(**mail_settings(smtp_url))
    agent = quiet.staff("li-na")
    go_online(agent)
    customer = Customer(quiet)
    customer.ask_for_person()
    wait_until(lambda: customer.status()["state"] in LIVE, what="a live ticket")
    leave(quiet, "A message for later")
    wait_until(lambda: len(mail.messages) == 2, what="the offline notices")
    subjects = {m["Subject"].split(" #")[0] for m in mail.messages}
    assert subjects == {"[kefu] New offline message"}


def test_live_tickets_are_mailed_with_the_setting(
    desk: ServerFactory, relay: tuple[Relay, str]
) -> None:
    mail, smtp_url = relay
    told = desk(**mail_settings(smtp_url, agent_notice_live_tickets=True))
    agent = told.staff("li-na")
    go_online(agent)
    customer = Customer(told)
    customer.ask_for_person()
    wait_until(lambda: len(mail.messages) == 2, what="the live ticket's notices")
    assert mail.messages[-1]["Subject"].startswith("[kefu] New chat waiting for an agent #")


@pytest.mark.parametrize("emails", [["not-an-address"], ["a b@shop.example"]])
def test_bad_notice_addresses_are_refused(emails: list[str]) -> None:
    with pytest.raises(ValidationError):
        Settings(agent_notice_emails=emails)
