"""The follow-up survey (issue 17, item 5), through a real server's HTTP API, with a real SMTP
server on loopback (aiosmtpd) as the mail relay: due days after the close and not before, the
e-mail in the chat's language, the link's page and its answer, the widget's question on
return, failures retried then given up, one e-mail however many sweeps and processes, the
answers in first-contact resolution, and erasure.

Time is moved the way the retention tests move it: a chat's close is set days into the past
in the database, and the sweep (every 0.1 s here) or the next request finds it due.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.clock import utcnow
from core.db import make_engine
from core.mailer import parse_smtp_url
from core.settings import Settings
from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import IDENTITY_SECRET, Customer, signed, wait_until
from tests.handoff.mail_relay import Relay
from tests.live import LiveServer

FOLLOW_UP = "follow-up"
LINK = re.compile(r"https?://[^\s\"<>]+/survey/follow-up/([\w-]+)\?answer=(\w+)")


def _engine(server: LiveServer) -> Engine:
    return make_engine(server.settings.resolved_database_url)


def closed_days_ago(server: LiveServer, conversation_id: str, days: float) -> None:
    """Test setup: the chat's close moves ``days`` into the past."""
    engine = _engine(server)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE conversation SET closed_at = :then WHERE id = :cid"),
            {"then": utcnow() - timedelta(days=days), "cid": conversation_id},
        )
    engine.dispose()


def follow_up_row(server: LiveServer, conversation_id: str) -> dict[str, Any]:
    engine = _engine(server)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT status, email_state, attempts, sent_at, last_error, answer "
                "FROM follow_up_survey WHERE conversation_id = :cid"
            ),
            {"cid": conversation_id},
        ).one()
    engine.dispose()
    return dict(row._mapping)


def chat(server: LiveServer, text_: str, **start: Any) -> Customer:
    """A customer who wrote and then closed the chat."""
    customer = Customer(server, **start)
    customer.say(text_)
    assert customer.post("close").status_code == 200
    return customer


def widget_question(customer: Customer) -> dict[str, Any] | None:
    response = customer.http.get(f"/api/chat/conversations/{customer.id}/{FOLLOW_UP}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] | None = response.json()["follow_up"]
    return found


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    return plain.get_content(), html.get_content()


def links(message: EmailMessage) -> dict[str, str]:
    """answer -> the link's token, from the plain text."""
    return {answer: token for token, answer in LINK.findall(parts(message)[0])}


def fcr(lead: httpx.Client) -> tuple[int, int]:
    summary = lead.get("/api/admin/analytics/summary").json()
    rate = summary["first_contact_resolution"]
    return rate["numerator"], rate["denominator"]


def test_the_follow_up_by_email_in_each_language(
    desk: ServerFactory, relay: tuple[Relay, str]
) -> None:
    mail, smtp_url = relay
    server = desk(
        identity_secret=IDENTITY_SECRET,
        smtp_url=smtp_url,
        smtp_from="care@shop.example",
        public_url="https://help.shop.example",
        follow_up_sweep_seconds=0.1,
    )
    lead = server.staff("follow-up-lead", "supervisor")
    zh = chat(
        server,
        "我的包裹还没到",
        language="zh",
        **signed(external_id="c-zh", email="li@example.com", name="李雷"),
    )
    en = chat(
        server,
        "Where is my parcel?",
        language="en",
        **signed(external_id="c-en", email="amy@example.com", name="Amy"),
    )
    # An address the widget passed unsigned is anyone's claim: asked in the widget only.
    unsigned = chat(server, "Where is my parcel?", language="en", email="bob@example.com")
    later = chat(
        server,
        "Where is my parcel?",
        language="en",
        **signed(external_id="c-3", email="cy@example.com"),
    )
    # Nothing is due at the close.
    assert [widget_question(c) for c in (zh, en, unsigned, later)] == [None] * 4
    assert fcr(lead) == (4, 4)

    for customer in (zh, en, unsigned):
        closed_days_ago(server, customer.id, 3 + 1 / 1440)
    closed_days_ago(server, later.id, 3 - 1 / 24)  # an hour short of due
    wait_until(lambda: len(mail.messages) >= 2, what="two follow-up e-mails")
    assert widget_question(later) is None
    # The later one falls due: its e-mail comes, and the first two are not sent again.
    closed_days_ago(server, later.id, 3 + 1 / 1440)
    wait_until(lambda: mail.to("cy@example.com"), what="the later chat's e-mail")
    assert sorted(m["To"] for m in mail.messages) == [
        "amy@example.com",
        "cy@example.com",
        "li@example.com",
    ]
    assert follow_up_row(server, unsigned.id)["email_state"] == "none"

    (chinese,) = mail.to("li@example.com")
    assert chinese["Subject"] == "您的问题解决了吗？"
    assert chinese["From"] == "care@shop.example"
    assert chinese["Auto-Submitted"] == "auto-generated"
    plain, html = parts(chinese)
    assert "李雷" in plain
    assert "是的，问题已解决" in plain
    assert "没有，我仍需要帮助" in plain
    assert "是的，问题已解决" in html
    assert "https://help.shop.example/survey/follow-up/" in html
    tokens = links(chinese)
    assert set(tokens) == {"solved", "not_solved"}
    assert tokens["solved"] == tokens["not_solved"]
    (english,) = mail.to("amy@example.com")
    assert english["Subject"] == "Did your problem stay solved?"
    assert "Yes, it stayed solved" in parts(english)[0]
    assert "No, I still need help" in parts(english)[1]

    # The link's page asks, in the chat's language; a GET changes nothing.
    page = server.http()
    path = f"/survey/follow-up/{tokens['not_solved']}"
    asked = page.get(path)
    assert asked.status_code == 200
    assert 'lang="zh-CN"' in asked.text
    assert 'data-state="open"' in asked.text
    assert asked.headers["referrer-policy"] == "no-referrer"
    chosen = page.get(path, params={"answer": "not_solved"})
    assert chosen.status_code == 200
    assert "请确认您的回答" in chosen.text
    assert "not_solved chosen" in chosen.text
    assert page.get(path, params={"answer": "maybe"}).status_code == 422
    invalid = page.get("/survey/follow-up/not-a-token-we-ever-sent")
    assert invalid.status_code == 404
    assert "This link is not valid" in invalid.text
    assert "此链接无效" in invalid.text
    assert page.post("/survey/follow-up/not-a-token-we-ever-sent", data={}).status_code == 404
    assert page.post(path, data={"answer": "maybe"}).status_code == 422
    assert follow_up_row(server, zh.id)["answer"] is None

    # "Still need help": recorded once, a note for staff, and the chat offered.
    answered = page.post(path, data={"answer": "not_solved"})
    assert answered.status_code == 200, answered.text
    assert "我们已通知客服团队" in answered.text
    again = page.post(path, data={"answer": "solved"})
    assert again.status_code == 409
    assert "您已经回答过：没有，我仍需要帮助" in again.text
    assert (widget_question(zh) or {})["answer"] == "not_solved"
    staff_events = lead.get(f"/api/agent/conversations/{zh.id}/events").json()["events"]
    notes = [e for e in staff_events if e["type"] == "follow_up.answered"]
    assert [(n["internal"], n["payload"]["answer"], n["payload"]["via"]) for n in notes] == [
        (True, "not_solved", "email")
    ]
    assert not [e for e in zh.events() if e["type"].startswith("follow_up")]

    # The English customer answers in the widget instead; the link then says so.
    in_widget = en.post(FOLLOW_UP, answer="solved")
    assert in_widget.status_code == 200, in_widget.text
    en_page = page.get(f"/survey/follow-up/{links(english)['solved']}")
    assert "You already answered: Yes, it stayed solved" in en_page.text
    # The unsigned customer was asked on return: shown counts as asked.
    assert (widget_question(unsigned) or {})["answer"] is None

    summary = lead.get("/api/admin/analytics/summary").json()
    first = summary["first_contact_resolution"]
    assert (first["numerator"], first["denominator"]) == (3, 4)
    assert summary["follow_up"]["response_rate"]["numerator"] == 2
    assert summary["follow_up"]["response_rate"]["denominator"] == 4
    assert summary["follow_up"]["stayed_solved"]["rate"] == 0.5
    overview = lead.get("/api/admin/analytics/export.csv").text
    assert "follow_up.stayed_solved.rate,0.5" in overview

    # Export and erasure take the follow-up with the conversation; the link dies with it.
    admin = server.admin()
    exported = admin.get("/api/admin/customers/export", params={"email": "li@example.com"})
    (conversation,) = exported.json()["conversations"]
    (row,) = conversation["follow_ups"]
    assert row["answer"] == "not_solved"
    assert "token_hash" not in row
    erased = admin.post(
        "/api/admin/customers/erase", json={"email": "li@example.com", "confirm": True}
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["follow_up_survey"] == 1
    assert page.get(path).status_code == 404


def test_the_widget_asks_about_the_latest_close_without_smtp(
    desk: ServerFactory, relay: tuple[Relay, str]
) -> None:
    mail, _smtp_url = relay
    server = desk(identity_secret=IDENTITY_SECRET, follow_up_sweep_seconds=0.1)
    customer = chat(
        server, "Where is my parcel?", **signed(external_id="c-w", email="wen@example.com")
    )
    quiet = Customer(server, language="en")  # never wrote: nothing to follow up
    assert quiet.post("close").status_code == 200
    closed_days_ago(server, quiet.id, 4)
    assert widget_question(quiet) is None

    # Not due yet: nothing to answer, and saying so changes nothing.
    refused = customer.post(FOLLOW_UP, answer="solved")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "no_follow_up"
    closed_days_ago(server, customer.id, 3.5)
    first = widget_question(customer)
    assert first is not None
    assert first["answer"] is None
    assert first["choices"] == ["solved", "not_solved"]

    # Reopened and closed again: the question waits for, and is about, the latest close.
    assert customer.post("reopen").status_code == 200
    assert widget_question(customer) is None
    assert customer.post("close").status_code == 200
    assert widget_question(customer) is None
    closed_days_ago(server, customer.id, 3.01)
    latest = widget_question(customer)
    assert latest is not None
    assert latest["closed_at"] != first["closed_at"]
    assert latest["closed_at"] == customer.status()["closed_at"]

    for body in ({"answer": "maybe"}, {}, {"answer": None}):
        bad = customer.http.post(f"/api/chat/conversations/{customer.id}/{FOLLOW_UP}", json=body)
        assert bad.status_code == 422, bad.text
    assert (widget_question(customer) or {})["answer"] is None
    done = customer.post(FOLLOW_UP, answer="solved")
    assert done.status_code == 200, done.text
    assert done.json()["answer"] == "solved"
    twice = customer.post(FOLLOW_UP, answer="not_solved")
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "follow_up_answered"
    assert (widget_question(customer) or {})["answer"] == "solved"
    # No relay configured: no e-mail, though the address was known.
    assert follow_up_row(server, customer.id)["email_state"] == "none"
    assert mail.messages == []


def test_a_failed_send_is_retried_then_given_up(
    desk: ServerFactory, relay: tuple[Relay, str], caplog: pytest.LogCaptureFixture
) -> None:
    mail, smtp_url = relay
    mail.fail = {"flaky@example.com": 1, "gone@example.com": 99}
    server = desk(
        identity_secret=IDENTITY_SECRET,
        smtp_url=smtp_url,
        smtp_from="care@shop.example",
        follow_up_sweep_seconds=0.1,
        follow_up_retry_seconds=0.2,
        follow_up_max_attempts=3,
    )
    flaky = chat(
        server, "Where is my parcel?", **signed(external_id="f", email="flaky@example.com")
    )
    gone = chat(server, "Where is my parcel?", **signed(external_id="g", email="gone@example.com"))
    with caplog.at_level(logging.WARNING, logger="kefu.handoff.follow_up"):
        for customer in (flaky, gone):
            closed_days_ago(server, customer.id, 3.1)
        wait_until(lambda: mail.to("flaky@example.com"), what="the retried e-mail")
        wait_until(
            lambda: follow_up_row(server, gone.id)["email_state"] == "failed",
            what="the follow-up given up",
        )
        # The sweep logs after it has committed the row, so the line may trail the state.
        wait_until(lambda: "giving up" in caplog.text, what="the giving-up log line")
    flaky_row = follow_up_row(server, flaky.id)
    assert (flaky_row["email_state"], flaky_row["attempts"], flaky_row["last_error"]) == (
        "sent",
        2,
        None,
    )
    gone_row = follow_up_row(server, gone.id)
    assert gone_row["attempts"] == 3
    assert gone_row["sent_at"] is None
    assert "451" in gone_row["last_error"]
    assert "gone@example.com" not in gone_row["last_error"]
    assert mail.tries["gone@example.com"] == 3
    assert "@example.com" not in caplog.text
    # Given up means given up: the relay recovers, another chat's mail goes, this one's not.
    mail.fail.clear()
    another = chat(server, "Where is my parcel?", **signed(external_id="h", email="hu@example.com"))
    closed_days_ago(server, another.id, 3.1)
    wait_until(lambda: mail.to("hu@example.com"), what="another chat's e-mail")
    assert mail.tries["gone@example.com"] == 3
    # Still asked in the widget.
    assert widget_question(gone) is not None


def test_two_processes_send_each_follow_up_once(
    desk: ServerFactory, relay: tuple[Relay, str]
) -> None:
    mail, smtp_url = relay
    first = desk(
        identity_secret=IDENTITY_SECRET,
        smtp_url=smtp_url,
        smtp_from="care@shop.example",
        follow_up_sweep_seconds=0.05,
    )
    # A second server on the same database: on SQLite every process sweeps, on PostgreSQL the
    # leader does; either way each claim is one conditional UPDATE.
    second = LiveServer(first.settings, first.embedder)
    second.start()
    try:
        customers = [
            chat(
                first if n % 2 else second,
                "Where is my parcel?",
                **signed(external_id=f"p{n}", email=f"p{n}@example.com"),
            )
            for n in range(6)
        ]
        for customer in customers:
            closed_days_ago(first, customer.id, 3.2)
        wait_until(lambda: len(mail.messages) >= 6, what="six follow-up e-mails")
        last = chat(
            second, "Where is my parcel?", **signed(external_id="pz", email="z@example.com")
        )
        closed_days_ago(first, last.id, 3.2)
        wait_until(lambda: mail.to("z@example.com"), what="one more e-mail")
        addresses = [m["To"] for m in mail.messages]
        assert sorted(addresses) == sorted({*addresses})
        assert len(addresses) == 7
    finally:
        second.close_clients()
        second.stop()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example:2525", ("mail.example", 2525, False, False, None)),
        ("smtp://relay", ("relay", 25, False, False, None)),
        ("smtps://u%40x:p%2Fw@mail.example", ("mail.example", 465, True, False, "u@x")),
        ("smtp://mail.example:587?starttls=1", ("mail.example", 587, False, True, None)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[Any, ...]) -> None:
    target = parse_smtp_url(url)
    found = (target.host, target.port, target.implicit_tls, target.starttls, target.username)
    assert found == expected
    assert "p/w" not in repr(target)


@pytest.mark.parametrize(
    "changes",
    [
        {"smtp_url": "http://mail.example"},
        {"smtp_url": "smtps://mail.example?starttls=1"},
        {"smtp_url": "smtp://mail.example?tls=1"},
        {"smtp_url": "smtp://:25"},
        {"follow_up_days": -1},
        {"public_url": "help.shop.example"},
    ],
)
def test_bad_follow_up_settings_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **changes)


def test_follow_ups_can_be_turned_off() -> None:
    assert Settings(_env_file=None, follow_up_days="off").follow_up_days == 0
    assert Settings(_env_file=None).follow_up_days == 3
