"""The analytics API over data made the way customers and agents make it: through the app.

The knowledge base is empty, so the bot falls back and a second miss escalates
(`repeated_misses`). Timestamps are real, so counts and rates are checked exactly and
durations only for being there; the duration formulas are checked in test_metrics.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from core.staff import Role
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD, log_in, staff_client

SUMMARY = "/api/admin/analytics/summary"
EXPORT = "/api/admin/analytics/export.csv"
CHAT = "/api/chat/conversations"
NOTHING = {"numerator": 0, "denominator": 0, "rate": None}
NO_SPREAD = {"count": 0, "mean": None, "p50": None, "p90": None}


@pytest.fixture
def desk_client(migrated: Settings, embedder: SentenceEmbedder) -> Iterator[TestClient]:
    """The app with a dispatcher that sweeps five times a second, an admin logged in."""
    fast = migrated.model_copy(update={"handoff_tick_seconds": 0.2})
    with staff_client(fast, embedder) as client:
        yield client


class Customer:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        response = client.post(CHAT, json={})
        assert response.status_code == 201, response.text
        self.id: str = response.json()["conversation_id"]
        self.auth = {"Authorization": f"Bearer {response.json()['token']}"}

    def post(self, action: str, **body: Any) -> dict[str, Any]:
        response = self.client.post(
            f"{CHAT}/{self.id}/{action}", json=body or None, headers=self.auth
        )
        assert response.status_code in {200, 201}, response.text
        result: dict[str, Any] = response.json()
        return result

    def say(self, text: str) -> None:
        self.post("messages", text=text)

    def state(self) -> str:
        response = self.client.get(f"{CHAT}/{self.id}/status", headers=self.auth)
        assert response.status_code == 200, response.text
        return str(response.json()["state"])


def wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def staff_post(client: TestClient, path: str, **body: Any) -> dict[str, Any]:
    response = client.post(path, json=body or None)
    assert response.status_code in {200, 201}, response.text
    result: dict[str, Any] = response.json()
    return result


def ticket_of(client: TestClient, customer: Customer, view: str = "mine") -> int:
    response = client.get("/api/agent/tickets", params={"view": view})
    assert response.status_code == 200, response.text
    found = [t["id"] for t in response.json()["tickets"] if t["conversation_id"] == customer.id]
    assert len(found) == 1, response.json()
    return int(found[0])


def with_person(client: TestClient, customer: Customer) -> int:
    """Wait for the dispatcher to give the chat to the online admin; its ticket id."""
    wait_until(lambda: customer.state() == "agent", "the chat to be assigned")
    return ticket_of(client, customer)


def summary(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get(SUMMARY, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def export(client: TestClient, metric: str, **params: str) -> list[list[str]]:
    response = client.get(EXPORT, params={"metric": metric, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator, "rate": numerator / denominator}


# -- no data, access, bad input ---------------------------------------------------------------


def test_with_no_data_every_metric_is_zero_or_null(client: TestClient) -> None:
    Customer(client)  # opened the widget and wrote nothing: not counted
    body = summary(client)
    assert body["conversations"] == 0
    assert body["volume"] == {"by_hour": [0] * 24, "by_day": []}
    for key in ("containment", "first_contact_resolution"):
        assert body[key] == NOTHING
    assert body["escalation"] == {"overall": NOTHING, "by_reason": [], "by_intent": []}
    assert body["bot_answers"] == {"answer": NOTHING, "fallback": NOTHING}
    assert body["first_response"] == {"bot": NO_SPREAD, "people": NO_SPREAD}
    for key in ("time_to_claim", "handle_time", "resolution_time"):
        assert body[key] == NO_SPREAD
    assert body["satisfaction"]["overall"]["csat_mean"] is None
    assert body["satisfaction"]["overall"]["nps"]["score"] is None
    assert body["sentiment_by_day"] == []
    assert body["complaints"]["rate"] == NOTHING
    assert body["complaints"]["answered_within"]["72h"] == NOTHING
    assert body["sla"] == {"breached": NOTHING}
    assert body["agents"] == []
    assert export(client, "agents") == [
        [
            "username",
            "display_name",
            "conversations_handled",
            "first_response_mean",
            "first_response_median",
            "handle_time_mean",
            "csat_mean",
            "closed",
            "handed_back",
            "transferred_away",
            "resolution_rate",
            "reviews",
            "review_mean",
        ]
    ]
    assert export(client, "volume_by_day") == [["day", "conversations"]]
    assert export(client, "volume_by_hour")[1:] == [[str(h), "0"] for h in range(24)]
    overview = {row[0]: row[1] for row in export(client, "overview")[1:]}
    assert overview["containment.denominator"] == "0"
    assert overview["containment.rate"] == ""


def test_only_supervisors_and_admins_see_analytics(client: TestClient) -> None:
    assert client.get(SUMMARY).status_code == 200
    log_in(client, Role.supervisor)
    assert client.get(SUMMARY).status_code == 200
    assert client.get(EXPORT).status_code == 200
    log_in(client, Role.agent)
    for path in (SUMMARY, EXPORT):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    client.cookies.clear()
    assert client.get(SUMMARY).status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (SUMMARY, {"start": "yesterday"}, "start"),
        (SUMMARY, {"end": "2026-13-01"}, "end"),
        (SUMMARY, {"start": "2026-11-02", "end": "2026-11-02"}, "end"),
        (SUMMARY, {"team": "x" * 65}, "team"),
        (SUMMARY, {"agent": "nobody-by-that-name"}, "agent"),
        (EXPORT, {"metric": "everything"}, "metric"),
        (EXPORT, {"metric": "agents", "start": "soon"}, "start"),
    ],
)
def test_bad_parameters_are_422(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"] == [{"field": field}]


# -- a day at the desk ------------------------------------------------------------------------


def build_a_day(client: TestClient) -> None:
    """Six engaged conversations and one empty one; expectations in test_a_day_at_the_desk."""
    staff_post(
        client,
        "/api/admin/users",
        username="bob",
        password=PASSWORD,
        role="agent",
        display_name="Bob",
    )
    response = client.put("/api/agent/me/presence", json={"presence": "online"})
    assert response.status_code == 200, response.text

    # A: the bot alone; closed; rated 5 / 10.
    a = Customer(client)
    a.say("hello there")
    a.post("close")
    a.post("feedback", csat=5, nps=10)

    # B: the bot alone; closed, reopened at once, closed again.
    b = Customer(client)
    b.say("hello there")
    b.post("close")
    b.post("reopen")
    b.post("close")

    # C: two misses escalate; the admin answers and closes; rated 4 / 6.
    c = Customer(client)
    c.say("hello there")
    c.say("tell me about your store")
    ticket = with_person(client, c)
    staff_post(client, f"/api/agent/tickets/{ticket}/messages", text="Hi, I am here")
    staff_post(client, f"/api/agent/tickets/{ticket}/close")
    c.post("feedback", csat=4, nps=6, comment="ok")

    # D: the button; the admin answers, transfers to Bob; Bob's chat is closed; rated 2.
    d = Customer(client)
    d.say("hello there")
    d.post("handoff")
    ticket = with_person(client, d)
    staff_post(client, f"/api/agent/tickets/{ticket}/messages", text="One moment")
    staff_post(client, f"/api/agent/tickets/{ticket}/transfer", to_agent="bob")
    staff_post(client, f"/api/agent/tickets/{ticket}/close")
    d.post("feedback", csat=2)

    # E: the button; the admin answers and hands back; the customer closes; rated 3 / 9.
    e = Customer(client)
    e.say("hello there")
    e.post("handoff")
    ticket = with_person(client, e)
    staff_post(client, f"/api/agent/tickets/{ticket}/messages", text="Over to the bot")
    staff_post(client, f"/api/agent/tickets/{ticket}/handback")
    e.post("close")
    e.post("feedback", csat=3, nps=9)

    # F: opened, nothing written.
    Customer(client)

    # G: nobody online: the button escalates with no ticket, then an offline message.
    response = client.put("/api/agent/me/presence", json={"presence": "away"})
    assert response.status_code == 200, response.text
    g = Customer(client)
    g.say("hello there")
    g.post("handoff")
    g.post("offline-message", email="g@example.com", text="Please write to me")
    assert g.state() == "bot"


def test_a_day_at_the_desk(desk_client: TestClient) -> None:
    client = desk_client
    build_a_day(client)
    body = summary(client)

    assert body["conversations"] == 6
    assert sum(body["volume"]["by_hour"]) == 6
    assert sum(d["conversations"] for d in body["volume"]["by_day"]) == 6
    # Only A: B was reopened within 24 hours, C, D, E and G escalated.
    assert body["containment"] == rate(1, 6)
    escalation = body["escalation"]
    assert escalation["overall"] == rate(4, 6)
    reasons = {r["key"]: r["conversations"] for r in escalation["by_reason"]}
    assert reasons == {"asked_for_person": 3, "repeated_misses": 1}
    # Without intents, no escalation has one.
    assert [(r["key"], r["conversations"]) for r in escalation["by_intent"]] == [("(none)", 4)]

    # Seven exchanges: A, B, D, E and G one fallback each; C a fallback and an escalation.
    assert body["bot_answers"]["answer"] == rate(0, 7)
    assert body["bot_answers"]["fallback"] == rate(6, 7)
    assert body["first_response"]["bot"]["count"] == 7
    assert body["first_response"]["bot"]["p50"] >= 0

    # Live tickets C, D and E were answered; D's transfer keeps it out of time to claim.
    people = body["first_response"]["people"]
    assert people["count"] == 3
    assert people["mean"] >= 0
    assert people["p90"] >= people["p50"] >= 0
    assert body["time_to_claim"]["count"] == 2
    assert body["handle_time"]["count"] == 3
    assert body["resolution_time"]["count"] == 5  # A, B, C, D, E; G is still open
    # Closed: A, B, C, D, E. B was reopened, D transferred.
    assert body["first_contact_resolution"] == rate(3, 5)

    satisfaction = body["satisfaction"]
    assert satisfaction["overall"]["responses"] == 4
    assert satisfaction["overall"]["csat_mean"] == 3.5
    assert satisfaction["overall"]["csat_satisfied"] == rate(2, 4)
    assert satisfaction["overall"]["nps"] == {
        "responses": 3,
        "promoters": 2,
        "detractors": 1,
        "score": pytest.approx(100 / 3),
    }
    assert satisfaction["bot_only"]["csat_mean"] == 5.0
    assert satisfaction["bot_only"]["nps"]["score"] == 100.0
    assert satisfaction["person_handled"]["responses"] == 3
    assert satisfaction["person_handled"]["csat_mean"] == 3.0
    assert satisfaction["person_handled"]["nps"]["score"] == 0.0

    assert sum(d["exchanges"] for d in body["sentiment_by_day"]) == 7
    assert body["complaints"]["rate"] == rate(0, 6)
    assert body["sla"]["breached"] == rate(0, 3)

    admin, bob = body["agents"]
    assert admin["username"] == "admin-tester"
    assert (admin["conversations_handled"], admin["closed"], admin["handed_back"]) == (2, 1, 1)
    assert admin["transferred_away"] == 1
    assert admin["resolution"] == rate(1, 3)
    assert admin["csat_mean"] == 3.5  # C and E
    assert admin["first_response"]["count"] == 2
    assert admin["handle_time"]["count"] == 2
    # D counts once, for Bob, who had it when it closed.
    assert bob["username"] == "bob"
    assert (bob["conversations_handled"], bob["closed"], bob["transferred_away"]) == (1, 1, 0)
    assert bob["resolution"] == rate(1, 1)
    assert bob["csat_mean"] == 2.0

    check_filters(client)
    check_exports(client)


def check_filters(client: TestClient) -> None:
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    # Around midnight UTC a conversation could fall on either side; the union is all of them.
    assert summary(client, start=yesterday, end=tomorrow)["conversations"] == 6
    assert summary(client, start=tomorrow)["conversations"] == 0
    assert summary(client, end=yesterday)["conversations"] == 0
    assert summary(client, language="zh")["conversations"] == 0
    assert summary(client, language="en")["conversations"] == 6

    # The support team had C, D, E (live) and G (offline).
    team = summary(client, team="support")
    assert team["conversations"] == 4
    assert team["containment"] == rate(0, 4)
    assert team["sla"]["breached"] == rate(0, 3)
    assert summary(client, team="billing")["conversations"] == 0

    # Bob owns D's ticket; only his row is on the scorecard.
    bob = summary(client, agent="bob")
    assert bob["conversations"] == 1
    assert bob["escalation"]["overall"] == rate(1, 1)
    assert [a["username"] for a in bob["agents"]] == ["bob"]
    assert bob["filters"]["agent"] == "bob"
    # The admin owns C and E and wrote in D.
    assert summary(client, agent="admin-tester")["conversations"] == 3


def check_exports(client: TestClient) -> None:
    rows = export(client, "agents")
    assert rows[0][0] == "username"
    assert [(r[0], r[1], r[7], r[9]) for r in rows[1:]] == [
        ("admin-tester", "admin-tester", "1", "1"),
        ("bob", "Bob", "1", "0"),
    ]
    assert export(client, "escalation_by_reason") == [
        ["reason", "conversations", "rate"],
        ["asked_for_person", "3", str(3 / 6)],
        ["repeated_misses", "1", str(1 / 6)],
    ]
    assert export(client, "escalation_by_intent")[1][:2] == ["(none)", "4"]
    by_day = export(client, "volume_by_day")
    assert by_day[0] == ["day", "conversations"]
    assert sum(int(r[1]) for r in by_day[1:]) == 6
    sentiment = export(client, "sentiment_by_day")
    assert sentiment[0] == ["day", "mean_sentiment", "exchanges"]
    overview = {row[0]: row[1] for row in export(client, "overview")[1:]}
    assert overview["conversations"] == "6"
    assert overview["first_contact_resolution.numerator"] == "3"
    assert export(client, "agents", agent="bob")[1][0] == "bob"


# -- service levels ---------------------------------------------------------------------------


def test_an_unanswered_chat_past_the_target_is_a_breach(
    migrated: Settings, embedder: SentenceEmbedder
) -> None:
    strict = migrated.model_copy(update={"handoff_tick_seconds": 0.2, "first_response_seconds": 1})
    with staff_client(strict, embedder) as client:
        response = client.put("/api/agent/me/presence", json={"presence": "online"})
        assert response.status_code == 200, response.text
        customer = Customer(client)
        customer.say("hello there")
        customer.post("handoff")
        ticket = with_person(client, customer)

        def breached() -> bool:
            found = client.get(f"/api/agent/tickets/{ticket}")
            return bool(found.json()["ticket"]["sla_breached"])

        wait_until(breached, "the first-response target to pass")
        staff_post(client, f"/api/agent/tickets/{ticket}/messages", text="Sorry for the wait")
        body = summary(client)
        assert body["sla"]["breached"] == rate(1, 1)
        assert body["first_response"]["people"]["count"] == 1
        assert body["first_response"]["people"]["mean"] >= 1.0
