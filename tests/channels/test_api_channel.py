"""The API channel: an app sends its customers' messages with the channel's secret, the bot
answers, a person takes over, and the app reads the conversation back (docs/channels.md).

A served app with the demo knowledge base per database; channels are made through the admin
API; the agent works through the agent API. Nothing of the product is mocked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from core.clock import utcnow
from core.db import make_engine
from tests.channels.conftest import ApiChannel, ChannelFactory
from tests.handoff.desk_helpers import wait_until
from tests.live import LiveServer

CONTACT = {"id": "user-1", "name": "Mei Lin", "email": "mei@example.com"}


def wait_for(probe: Any, what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def pulled(channel: ApiChannel, contact: str, after: int = 0) -> dict[str, Any]:
    response = channel.events(contact, after)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


@pytest.fixture
def agent(channel_server: LiveServer) -> Iterator[httpx.Client]:
    """An agent of team support, online for the test only, so the bot can hand over."""
    staff = channel_server.staff("channel-agent", "agent", teams=["support"], max_chats=50)
    staff.put("/api/agent/me/presence", json={"presence": "online"}).raise_for_status()
    yield staff
    staff.put("/api/agent/me/presence", json={"presence": "away"}).raise_for_status()


def ticket_for(staff: httpx.Client, conversation_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        for view in ("mine", "queue"):
            listed = staff.get("/api/agent/tickets", params={"view": view}).json()["tickets"]
            for ticket in listed:
                if ticket["conversation_id"] == conversation_id:
                    return dict(ticket)
        return None

    found: dict[str, Any] = wait_for(find, "the ticket on the agent's desk")
    return found


def handed_to(staff: httpx.Client, conversation_id: str) -> dict[str, Any]:
    """The ticket, claimed by ``staff`` if the dispatcher has not assigned it yet."""
    ticket = ticket_for(staff, conversation_id)
    if ticket["status"] == "queued":
        claimed = staff.post(f"/api/agent/tickets/{ticket['id']}/claim")
        # 409: the dispatcher assigned it meanwhile (to the only agent online).
        assert claimed.status_code in {200, 409}, claimed.text
    return ticket


def set_reopen_until(server: LiveServer, conversation_id: str, when: Any) -> None:
    """Test setup: the closed conversation's reopening window ends at ``when``."""
    engine = make_engine(server.settings.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE conversation SET reopen_until = :when WHERE id = :cid"),
            {"when": when, "cid": conversation_id},
        )
    engine.dispose()


# -- the conversation -------------------------------------------------------------------------


def test_the_bot_answers_an_apps_message_and_the_app_reads_it_back(
    api_channel: ApiChannel,
) -> None:
    answer = api_channel.say(CONTACT, "How can I track my order?")
    assert answer["contact_id"] == "user-1"
    message = answer["message"]
    assert (message["seq"], message["author"], message["type"]) == (1, "customer", "message")
    assert message["payload"]["text"] == "How can I track my order?"
    [reply] = answer["replies"]
    assert (reply["seq"], reply["author"], reply["type"]) == (2, "bot", "message")
    assert reply["payload"]["entry_id"] == "en-order-track"
    body = pulled(api_channel, "user-1")
    assert body["conversation_id"] == answer["conversation_id"]
    assert [e["seq"] for e in body["events"]] == [1, 2]
    assert body["events"][1] == reply
    assert pulled(api_channel, "user-1", after=1)["events"] == [reply]
    # The next message goes to the same conversation.
    again = api_channel.say(CONTACT, "thanks")
    assert again["conversation_id"] == answer["conversation_id"]
    assert again["message"]["seq"] == 3


def test_an_escalation_reaches_an_agent_who_sees_the_channel_and_replies(
    api_channel: ApiChannel, agent: httpx.Client
) -> None:
    answer = api_channel.say(CONTACT, "let me talk to a person")
    escalated = answer["replies"][-1]
    assert escalated["type"] == "conversation.escalated"
    assert escalated["payload"]["state"] == "waiting_for_agent"
    conversation_id = answer["conversation_id"]
    ticket = handed_to(agent, conversation_id)
    assert (ticket["channel"], ticket["channel_name"]) == ("api", api_channel.name)
    assert ticket["customer"]["name"] == "Mei Lin"
    detail = agent.get(f"/api/agent/tickets/{ticket['id']}").json()
    assert detail["ticket"]["channel_name"] == api_channel.name
    assert detail["context"]["channel"] == {"kind": "api", "name": api_channel.name}
    # The customer's identity is the app's claim, never verified.
    assert detail["context"]["customer"]["verified"] is False

    sent = agent.post(f"/api/agent/tickets/{ticket['id']}/messages", json={"text": "Hi Mei!"})
    assert sent.status_code == 201, sent.text
    note = agent.post(f"/api/agent/tickets/{ticket['id']}/notes", json={"text": "VIP?"})
    assert note.status_code in {200, 201}, note.text
    events = pulled(api_channel, "user-1")["events"]
    said = [e for e in events if e["type"] == "message" and e["author"].startswith("agent")]
    assert [e["payload"]["text"] for e in said] == ["Hi Mei!"]
    # The agent's internal note never reaches the app.
    assert not any(e["internal"] for e in events)
    # A message to a person owes the bot nothing: no bot reply in the response.
    later = api_channel.say(CONTACT, "thank you, waiting")
    assert later["conversation_id"] == conversation_id
    assert later["replies"] == []


def test_a_closed_conversation_reopens_within_its_window_and_a_new_one_starts_after(
    channel_server: LiveServer, api_channel: ApiChannel, agent: httpx.Client
) -> None:
    first = api_channel.say(CONTACT, "let me talk to a person")
    conversation_id = first["conversation_id"]
    ticket = handed_to(agent, conversation_id)
    agent.post(f"/api/agent/tickets/{ticket['id']}/close").raise_for_status()

    reopened = api_channel.say(CONTACT, "one more thing")
    assert reopened["conversation_id"] == conversation_id
    kinds = [e["type"] for e in pulled(api_channel, "user-1")["events"]]
    assert "conversation.reopened" in kinds
    # Reopened to the person who had it: a new ticket is on the desk.
    again = handed_to(agent, conversation_id)
    agent.post(f"/api/agent/tickets/{again['id']}/close").raise_for_status()
    set_reopen_until(channel_server, conversation_id, utcnow() - timedelta(minutes=1))

    fresh = api_channel.say(CONTACT, "How can I track my order?")
    assert fresh["conversation_id"] != conversation_id
    assert fresh["message"]["seq"] == 1
    assert fresh["replies"][0]["payload"]["entry_id"] == "en-order-track"
    body = pulled(api_channel, "user-1")
    assert body["conversation_id"] == fresh["conversation_id"]


# -- idempotency ------------------------------------------------------------------------------


def test_a_retried_key_returns_the_first_answer_and_stores_one_message(
    api_channel: ApiChannel,
) -> None:
    first = api_channel.send(CONTACT, "How can I track my order?", key="k-1")
    assert first.status_code == 200, first.text
    retry = api_channel.send(CONTACT, "How can I track my order?", key="k-1")
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert [e["seq"] for e in pulled(api_channel, "user-1")["events"]] == [1, 2]
    # Another key is another message.
    other = api_channel.send(CONTACT, "How can I track my order?", key="k-2")
    assert other.json()["message"]["seq"] == 3


def test_concurrent_retries_with_one_key_store_one_message(api_channel: ApiChannel) -> None:
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def post() -> None:
        start.wait()
        answers.append(api_channel.send("racer", "How can I track my order?", key="race-1"))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert all(body == bodies[0] for body in bodies)
    assert [a.headers.get("Idempotent-Replayed") for a in answers].count(None) == 1
    events = pulled(api_channel, "racer")["events"]
    assert [e["author"] for e in events] == ["customer", "bot"]


def test_a_key_reused_with_another_body_is_refused_and_stores_nothing(
    api_channel: ApiChannel,
) -> None:
    api_channel.send(CONTACT, "hello", key="k-9").raise_for_status()
    before = pulled(api_channel, "user-1")["events"]
    for changed in (
        {"text": "hello again"},
        {"contact": {**CONTACT, "name": "Someone else"}},
        {"language": "zh"},
    ):
        contact = changed.pop("contact", CONTACT)
        reused = api_channel.send(contact, changed.pop("text", "hello"), key="k-9", **changed)
        assert reused.status_code == 422
        assert error_of(reused) == "idempotency_key_reused"
    assert pulled(api_channel, "user-1")["events"] == before


def test_a_key_still_answers_after_the_contacts_conversation_changed(
    channel_server: LiveServer, api_channel: ApiChannel, agent: httpx.Client
) -> None:
    first = api_channel.send(CONTACT, "let me talk to a person", key="before-close")
    first.raise_for_status()
    conversation_id = first.json()["conversation_id"]
    ticket = handed_to(agent, conversation_id)
    agent.post(f"/api/agent/tickets/{ticket['id']}/close").raise_for_status()
    set_reopen_until(channel_server, conversation_id, utcnow() - timedelta(minutes=1))
    fresh = api_channel.say(CONTACT, "hello")
    assert fresh["conversation_id"] != conversation_id

    retry = api_channel.send(CONTACT, "let me talk to a person", key="before-close")
    assert retry.json() == first.json()
    assert [e["seq"] for e in pulled(api_channel, "user-1")["events"]] == [1, 2]


# -- refusals ---------------------------------------------------------------------------------


def test_a_wrong_or_missing_secret_is_refused_alike(api_channel: ApiChannel) -> None:
    wrong = api_channel.send(CONTACT, "hello", secret="kefu_in_not-the-secret")
    missing = api_channel.send(CONTACT, "hello", secret="")
    other_scheme = api_channel.app.post(
        f"/api/channels/{api_channel.name}/messages",
        json={"contact": CONTACT, "text": "hello"},
        headers={"Authorization": f"Basic {api_channel.secret}"},
    )
    for refused in (wrong, missing, other_scheme):
        assert refused.status_code == 401
        assert error_of(refused) == "invalid_channel_secret"
    assert wrong.json() == missing.json()
    # Checked before the body: a bad body with a bad secret is still a 401.
    assert api_channel.send(CONTACT, "", secret="nope").status_code == 401
    assert api_channel.events("user-1", secret="nope").status_code == 401
    assert error_of(api_channel.events("user-1")) == "unknown_contact"


def test_an_unknown_channel_is_a_404(api_channel: ApiChannel) -> None:
    response = api_channel.app.post(
        "/api/channels/no-such-channel/messages",
        json={"contact": CONTACT, "text": "hello"},
        headers={"Authorization": f"Bearer {api_channel.secret}"},
    )
    assert response.status_code == 404
    assert error_of(response) == "unknown_channel"


def test_a_disabled_channel_refuses_its_app_until_enabled_again(
    api_channel: ApiChannel,
) -> None:
    path = f"/api/admin/channels/{api_channel.name}"
    api_channel.admin.patch(path, json={"enabled": False}).raise_for_status()
    refused = api_channel.send(CONTACT, "hello")
    assert refused.status_code == 403
    assert error_of(refused) == "channel_disabled"
    assert error_of(api_channel.events("user-1")) == "channel_disabled"
    # Only a caller with the secret learns that it is disabled.
    assert api_channel.send(CONTACT, "hello", secret="nope").status_code == 401
    api_channel.admin.patch(path, json={"enabled": True}).raise_for_status()
    assert api_channel.say(CONTACT, "hello")["message"]["seq"] == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": "hello"}, "invalid"),  # no contact
        ({"contact": {"id": ""}, "text": "hello"}, "invalid"),
        ({"contact": {"id": "x" * 129}, "text": "hello"}, "invalid"),
        ({"contact": {"id": "   "}, "text": "hello"}, "invalid_contact"),
        ({"contact": {"id": "u", "email": "not-an-address"}, "text": "hi"}, "invalid_email"),
        ({"contact": "user-1", "text": "hello"}, "invalid"),
        ({"contact": {"id": "u"}}, "invalid"),  # no text
        ({"contact": {"id": "u"}, "text": 42}, "invalid"),
        ({"contact": {"id": "u"}, "text": "   "}, "empty_message"),
        ({"contact": {"id": "u"}, "text": "x" * 2001}, "message_too_long"),
        ({"contact": {"id": "u"}, "text": "a\u0000b"}, "invalid_text"),
        ({"contact": {"id": "u\u0000"}, "text": "hello"}, "invalid"),
        ({"contact": {"id": "u"}, "text": "hello", "language": "fr"}, "invalid"),
    ],
)
def test_a_malformed_message_is_a_422_and_stores_nothing(
    api_channel: ApiChannel, body: dict[str, Any], code: str
) -> None:
    response = api_channel.app.post(
        f"/api/channels/{api_channel.name}/messages",
        json=body,
        headers={"Authorization": f"Bearer {api_channel.secret}"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    # The top code, or for the service's own checks the first detail's, as the widget's send.
    assert code in {error["code"], *(d.get("code") for d in error["details"])}, error
    for contact in ("u", "user-1", "   "):
        assert error_of(api_channel.events(contact)) == "unknown_contact"


def test_a_malformed_idempotency_key_is_a_422(api_channel: ApiChannel) -> None:
    keys: list[str | bytes] = ["has space", "k" * 129, "ключ".encode()]
    for key in keys:
        response = api_channel.app.post(
            f"/api/channels/{api_channel.name}/messages",
            json={"contact": CONTACT, "text": "hello"},
            headers=[
                (b"Authorization", f"Bearer {api_channel.secret}".encode()),
                (b"Idempotency-Key", key if isinstance(key, bytes) else key.encode()),
            ],
        )
        assert response.status_code == 422, response.text
        assert error_of(response) == "invalid_idempotency_key"
    assert error_of(api_channel.events("user-1")) == "unknown_contact"


def test_rotating_the_secret_stops_the_old_one_at_once(api_channel: ApiChannel) -> None:
    api_channel.say(CONTACT, "hello")
    rotated = api_channel.admin.post(f"/api/admin/channels/{api_channel.name}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("kefu_in_")
    assert new_secret != api_channel.secret
    assert rotated.json()["signing_secret"] is None  # the signing secret did not change
    refused = api_channel.send(CONTACT, "hello")
    assert refused.status_code == 401
    assert api_channel.send(CONTACT, "hello", secret=new_secret).status_code == 200


def test_two_channels_keep_their_contacts_apart(channel_factory: ChannelFactory) -> None:
    one, two = channel_factory(), channel_factory()
    first = one.say(CONTACT, "hello")
    second = two.say(CONTACT, "hello")
    assert first["conversation_id"] != second["conversation_id"]
    # One channel's secret opens nothing of another's.
    assert two.send(CONTACT, "hello", secret=one.secret).status_code == 401


# -- what follows from the channel ------------------------------------------------------------


def test_analytics_filter_and_break_down_by_channel(api_channel: ApiChannel) -> None:
    api_channel.say({"id": "stats-1"}, "How can I track my order?")
    admin = api_channel.admin
    only = admin.get("/api/admin/analytics/summary", params={"channel": "api"}).json()
    assert only["filters"]["channel"] == "api"
    [api] = only["by_channel"]
    assert api["channel"] == "api"
    assert api["conversations"] == only["conversations"] >= 1
    assert set(api) == {"channel", "conversations", "containment", "escalation"}
    none = admin.get("/api/admin/analytics/summary", params={"channel": "wechat"}).json()
    assert (none["conversations"], none["by_channel"]) == (0, [])
    exported = admin.get(
        "/api/admin/analytics/export.csv", params={"metric": "by_channel", "channel": "api"}
    )
    assert exported.status_code == 200, exported.text
    assert exported.text.splitlines()[0] == (
        "channel,conversations,containment,escalated,escalation_rate"
    )
    assert exported.text.splitlines()[1].startswith(f"api,{api['conversations']},")


def test_erasing_a_conversation_takes_its_contact_and_keys_with_it(
    api_channel: ApiChannel,
) -> None:
    contact = {"id": "erase-me", "name": "Jo Bloggs", "email": "jo@example.com"}
    first = api_channel.send(contact, "How can I track my order?", key="erase-1")
    conversation_id = first.json()["conversation_id"]
    admin = api_channel.admin
    exported = admin.get("/api/admin/customers/export", params={"conversation_id": conversation_id})
    assert exported.status_code == 200, exported.text
    [conversation] = exported.json()["conversations"]
    [row] = conversation["channel_contacts"]
    assert (row["external_id"], row["name"], row["email"]) == (
        "erase-me",
        "Jo Bloggs",
        contact["email"],
    )
    assert [k["key"] for k in conversation["channel_message_keys"]] == ["erase-1"]

    erased = admin.post(
        "/api/admin/customers/erase", json={"email": "jo@example.com", "confirm": True}
    )
    assert erased.status_code == 200, erased.text
    counts = erased.json()["erased"]
    assert (counts["channel_contact"], counts["channel_message_key"]) == (1, 1)
    assert error_of(api_channel.events("erase-me")) == "unknown_contact"
    # The key went with the conversation: the same request now starts a new one.
    again = api_channel.send(contact, "How can I track my order?", key="erase-1")
    assert again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") is None
    assert again.json()["conversation_id"] != conversation_id


def test_erasing_a_conversation_takes_its_webhook_deliveries_with_it(
    channel_factory: ChannelFactory,
) -> None:
    # Nothing listens on port 9: the deliveries stay pending, with the contact's id in them.
    channel = channel_factory(webhook_url="http://127.0.0.1:9/hook")
    contact = {"id": "erase-deliveries", "email": "dee@example.com"}
    sent = channel.say(contact, "How can I track my order?")
    admin = channel.admin
    log = f"/api/admin/channels/{channel.id}/deliveries"
    wait_until(lambda: admin.get(log).json()["items"], what="the reply's delivery")
    exported = admin.get(
        "/api/admin/customers/export", params={"conversation_id": sent["conversation_id"]}
    )
    [conversation] = exported.json()["conversations"]
    assert conversation["channel_deliveries"]
    assert conversation["channel_deliveries"][0]["external_id"] == "erase-deliveries"
    erased = admin.post(
        "/api/admin/customers/erase", json={"email": "dee@example.com", "confirm": True}
    )
    assert erased.status_code == 200, erased.text
    counts = erased.json()["erased"]
    assert counts["channel_delivery"] >= 1
    assert counts["channel_outbox_cursor"] == 1
    assert admin.get(log).json()["items"] == []
