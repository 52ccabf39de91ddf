"""Quality review (issue 17, item 2), through a real server's HTTP API on SQLite and
PostgreSQL: the versioned rubric, sampling closed conversations by filters, scoring against the
rubric, what agents see of their reviews, erasure, and the scorecard."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import Customer, go_online, ticket_of

QUALITY = "/api/agent/quality"
DEMO_RUBRIC = Path(__file__).resolve().parents[2] / "handoff" / "demo" / "quality_rubric.yaml"
# The demo rubric scored in full: greeting 0-2 (weight 1), the rest 0-4 with weights 2, 3, 2, 2.
FULL = {"greeting": 2, "understanding": 4, "accuracy": 4, "tone": 4, "resolution": 4}


def demo_criteria() -> list[dict[str, Any]]:
    criteria: list[dict[str, Any]] = yaml.safe_load(DEMO_RUBRIC.read_text("utf-8"))
    return criteria


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def refused(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code, response.text


def closed_chat(
    server: Any,
    agent: httpx.Client,
    *,
    language: str = "en",
    csat: int | None = None,
    opening: str | None = None,
) -> tuple[Customer, str]:
    """A customer asks for a person (or is handed over by the bot), ``agent`` takes the chat,
    answers and closes it, and the customer may rate it; the chat and the handover's reason."""
    customer = Customer(server, name="Shopper", language=language)
    if opening is not None:
        customer.say(opening)
    if customer.status()["state"] == "bot":
        customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    ok(agent.post(f"/api/agent/tickets/{ticket['id']}/claim"))
    reply = "您好，我来帮您查一下。" if language == "zh" else "Hello, let me check that for you."
    ok(agent.post(f"/api/agent/tickets/{ticket['id']}/messages", json={"text": reply}), 201)
    ok(agent.post(f"/api/agent/tickets/{ticket['id']}/close"))
    if csat is not None:
        ok(customer.post("feedback", csat=csat), 201)
    return customer, str(ticket["reason"])


def sample(staff: httpx.Client, **body: Any) -> dict[str, Any]:
    drawn: dict[str, Any] = ok(staff.post(f"{QUALITY}/samples", json=body), 201)
    return drawn


def pending(staff: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(staff.get(f"{QUALITY}/reviews"))["reviews"]
    return found


def skip_all(staff: httpx.Client) -> None:
    for review in pending(staff):
        ok(staff.delete(f"{QUALITY}/reviews/{review['id']}"), 204)


def conversations(drawn: dict[str, Any]) -> set[str]:
    return {review["conversation_id"] for review in drawn["sampled"]}


def test_the_rubric_is_versioned_and_validated(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    admin = server.admin()
    agent = server.staff("rubric-reader")
    supervisor = server.staff("rubric-lead", "supervisor")
    assert ok(agent.get(f"{QUALITY}/rubric")) == {"rubric": None}

    criteria = demo_criteria()
    greeting = criteria[0]
    # Bad rubrics are refused, with a clear code, and change nothing.
    for body, code in (
        ({"criteria": []}, None),
        ({"criteria": [greeting, dict(greeting, name="Hello")]}, "duplicate_criterion"),
        ({"criteria": [dict(greeting, key="Greeting!")]}, None),
        ({"criteria": [dict(greeting, weight=0)]}, None),
        ({"criteria": [dict(greeting, max_points=11)]}, None),
        ({"criteria": [dict(greeting, colour="red")]}, None),
        ({"criteria": [dict(greeting, name="")]}, None),
    ):
        refused(admin.put(f"{QUALITY}/rubric", json=body), 422, code)
    refused(supervisor.put(f"{QUALITY}/rubric", json={"criteria": criteria}), 403)
    refused(agent.put(f"{QUALITY}/rubric", json={"criteria": criteria}), 403)
    assert ok(agent.get(f"{QUALITY}/rubric")) == {"rubric": None}

    first = ok(admin.put(f"{QUALITY}/rubric", json={"criteria": criteria, "expected_version": 0}))
    assert first["created_by"] == "admin"
    seen = ok(agent.get(f"{QUALITY}/rubric"))["rubric"]
    assert seen["version"] == first["version"]
    assert [(c["key"], c["name_zh"]) for c in seen["criteria"]] == [
        ("greeting", "问候"),
        ("understanding", "理解问题"),
        ("accuracy", "答复准确"),
        ("tone", "语气与服务用语"),
        ("resolution", "问题解决"),
    ]
    assert [c["critical"] for c in seen["criteria"]] == [False, False, True, False, False]

    # An edit made from an old version is refused; one made from the current one is a new
    # version.
    stale = {"criteria": criteria[:2], "expected_version": first["version"] - 1}
    refused(admin.put(f"{QUALITY}/rubric", json=stale), 409, "rubric_changed")
    fresh = {"criteria": criteria[:2], "expected_version": first["version"]}
    second = ok(admin.put(f"{QUALITY}/rubric", json=fresh))
    assert second["version"] > first["version"]
    assert len(ok(agent.get(f"{QUALITY}/rubric"))["rubric"]["criteria"]) == 2


def test_sampling_by_filters_without_repeats(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    lead = server.staff("sample-lead", "supervisor", display_name="Lead Li")
    wang = server.staff("sample-wang", display_name="Wang Fang")
    zhao = server.staff("sample-zhao")
    for staff in (lead, wang, zhao):
        go_online(staff)

    low, _ = closed_chat(server, wang, csat=2)
    chinese, _ = closed_chat(server, wang, language="zh", csat=5)
    furious, reason = closed_chat(
        server,
        wang,
        opening="This is the WORST service ever!!! You scammed me, I'm furious and I'm done!!!",
    )
    zhaos, _ = closed_chat(server, zhao, csat=1)
    leads_own, _ = closed_chat(server, lead, csat=4)
    still_open = Customer(server, name="Waiting", language="en")
    still_open.ask_for_person()
    ok(wang.post(f"/api/agent/tickets/{ticket_of(wang, still_open.id)['id']}/claim"))

    # Bad input is refused and samples nothing.
    today = datetime.now(UTC).date()
    for body, code in (
        ({"size": 0}, None),
        ({"size": 51}, None),
        ({"csat_max": 6}, None),
        ({"shape": "round"}, None),
        ({"agent": "nobody-here"}, None),
        ({"seed": -1}, None),
        ({"closed_from": str(today), "closed_to": str(today - timedelta(days=1))}, None),
    ):
        refused(lead.post(f"{QUALITY}/samples", json=body), 422, code)
    refused(lead.post(f"{QUALITY}/samples", json={"agent": "sample-lead"}), 403, "own_conversation")
    refused(wang.post(f"{QUALITY}/samples", json={"size": 1}), 403)
    assert pending(lead) == []

    # Nothing matches: the filters are applied, and nothing is drawn.
    tomorrow = str(today + timedelta(days=1))
    assert sample(lead, closed_from=tomorrow)["eligible"] == 0
    assert sample(lead, handle_min_minutes=60)["eligible"] == 0
    yesterday = str(today - timedelta(days=1))  # the chats may have closed before midnight
    assert sample(lead, closed_from=yesterday, closed_to=str(today), size=1)["eligible"] == 4

    # Skipping a pending review lets its conversation be drawn again; the same seed over the
    # same conversations draws the same sample.
    skip_all(lead)
    drawn = sample(lead, size=2, seed=20261207)
    assert drawn["seed"] == 20261207
    assert (drawn["eligible"], len(drawn["sampled"])) == (4, 2)
    skip_all(lead)
    assert conversations(sample(lead, size=2, seed=20261207)) == conversations(drawn)
    skip_all(lead)

    by_agent = sample(lead, agent="sample-zhao", size=5)
    assert conversations(by_agent) == {zhaos.id}
    (review,) = by_agent["sampled"]
    assert (review["agent"], review["reviewer"], review["status"]) == (
        "sample-zhao",
        "sample-lead",
        "pending",
    )
    assert review["csat"] == 1
    assert review["handle_seconds"] is not None
    # zhao's chat is pending now: a CSAT filter that matches it draws only the others.
    assert conversations(sample(lead, csat_max=2, size=5)) == {low.id}
    assert conversations(sample(lead, language="zh", size=5)) == {chinese.id}
    # The furious customer was handed over by the bot itself, the others asked for a person.
    assert reason in {"negative_sentiment", "intent_rule"}
    assert sample(lead, escalated=False, size=5)["eligible"] == 0
    assert conversations(sample(lead, escalated=True, size=5)) == {furious.id}
    # Nothing is left: the supervisor's own chat and the open one are never drawn.
    assert sample(lead, size=50, seed=1) == {"seed": 1, "eligible": 0, "sampled": []}
    everything = {r["conversation_id"] for r in pending(lead)}
    assert everything == {low.id, chinese.id, furious.id, zhaos.id}
    assert still_open.id not in everything
    # Another supervisor (here an admin) may review the lead's own chat.
    admin = server.admin()
    assert conversations(sample(admin, agent="sample-lead")) == {leads_own.id}


def test_scoring_what_agents_see_the_scorecard_and_erasure(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    admin = server.admin()
    lead = server.staff("score-lead", "supervisor", display_name="Lead Li")
    wang = server.staff("score-wang", display_name="Wang Fang")
    zhao = server.staff("score-zhao")
    for staff in (lead, wang, zhao):
        go_online(staff)
    wangs, _ = closed_chat(server, wang, csat=4)
    wangs_other, _ = closed_chat(server, wang, language="zh")
    zhaos, _ = closed_chat(server, zhao, csat=2)
    leads_own, _ = closed_chat(server, lead)

    (review,) = sample(lead, agent="score-wang", size=1)["sampled"]
    ours = {wangs.id, wangs_other.id}
    assert review["conversation_id"] in ours
    (other,) = ours - {review["conversation_id"]}
    path = f"{QUALITY}/reviews/{review['id']}"
    refused(lead.post(f"{path}/submit", json={"scores": FULL}), 409, "no_rubric")
    ok(admin.put(f"{QUALITY}/rubric", json={"criteria": demo_criteria()}))
    # A pending review shows the current rubric, unscored.
    shown = ok(lead.get(path))
    assert [c["points"] for c in shown["criteria"]] == [None] * 5
    assert shown["score"] is None

    # Bad scores are refused with a code, and the review stays pending.
    for scores, code in (
        ({**FULL, "speed": 3}, "unknown_criterion"),
        ({k: v for k, v in FULL.items() if k != "tone"}, "score_out_of_range"),
        ({**FULL, "greeting": 3}, "score_out_of_range"),
        ({**FULL, "accuracy": -1}, "score_out_of_range"),
        ({**FULL, "tone": "good"}, None),
    ):
        refused(lead.post(f"{path}/submit", json={"scores": scores}), 422, code)
    refused(lead.post(f"{path}/submit", json={"scores": FULL, "comment": "x" * 4001}), 422)
    refused(wang.post(f"{path}/submit", json={"scores": FULL}), 403)
    refused(lead.post(f"{QUALITY}/reviews/999999/submit", json={"scores": FULL}), 404)
    assert ok(lead.get(path))["status"] == "pending"
    assert ok(wang.get(f"{QUALITY}/me"))["count"] == 0

    # Weighted points over the weighted maximum: (1*2 + 2*3 + 3*4 + 2*2 + 2*4) / 38 = 32 / 38.
    scores = {"greeting": 2, "understanding": 3, "accuracy": 4, "tone": 2, "resolution": 4}
    body = {"scores": scores, "comment": "Clear answer; greet by name next time."}
    scored = ok(lead.post(f"{path}/submit", json=body))
    assert scored["score"] == round(100 * 32 / 38, 2) == 84.21
    assert (scored["status"], scored["critical_failed"]) == ("submitted", False)
    assert scored["reviewer_name"] == "Lead Li"
    assert {c["key"]: c["points"] for c in scored["criteria"]} == scores
    refused(lead.post(f"{path}/submit", json=body), 409, "review_submitted")
    refused(lead.delete(path), 409, "review_submitted")

    # A critical criterion scored 0 makes the review 0, whatever the rest.
    (failing,) = sample(lead, agent="score-zhao")["sampled"]
    assert failing["conversation_id"] == zhaos.id
    failed = ok(
        lead.post(
            f"{QUALITY}/reviews/{failing['id']}/submit",
            json={
                "scores": {**FULL, "accuracy": 0},
                "comment": "Promised a refund we do not give.",
            },
        )
    )
    assert (failed["score"], failed["critical_failed"]) == (0.0, True)

    # Nobody reviews their own chat: an admin samples the lead's, and the lead cannot score it.
    (own,) = sample(admin, agent="score-lead")["sampled"]
    refused(lead.post(f"{QUALITY}/reviews/{own['id']}/submit", json={"scores": FULL}), 403)
    assert ok(lead.get(f"{QUALITY}/reviews/{own['id']}"))["status"] == "pending"

    # A later rubric leaves old reviews as they were scored.
    ok(admin.put(f"{QUALITY}/rubric", json={"criteria": demo_criteria()[:1]}))
    again = ok(lead.get(path))
    assert (again["score"], len(again["criteria"])) == (84.21, 5)
    assert again["rubric_version"] == scored["rubric_version"]

    # Agents see the submitted reviews of their own chats, and nothing else.
    mine = ok(wang.get(f"{QUALITY}/me"))
    assert (mine["count"], mine["mean_score"]) == (1, 84.21)
    (seen,) = mine["reviews"]
    assert (seen["conversation_id"], seen["reviewer_name"], seen["comment"]) == (
        review["conversation_id"],
        "Lead Li",
        "Clear answer; greet by name next time.",
    )
    assert ok(wang.get(path))["id"] == review["id"]
    refused(wang.get(f"{QUALITY}/reviews/{failing['id']}"), 404)
    refused(wang.get(f"{QUALITY}/reviews"), 403)
    refused(zhao.get(path), 404)
    assert [r["score"] for r in ok(zhao.get(f"{QUALITY}/me"))["reviews"]] == [0.0]
    (pending_of_wang,) = sample(lead, agent="score-wang")["sampled"]
    assert pending_of_wang["conversation_id"] == other
    refused(wang.get(f"{QUALITY}/reviews/{pending_of_wang['id']}"), 404)
    submitted = ok(lead.get(f"{QUALITY}/reviews", params={"status": "submitted"}))["reviews"]
    assert [r["id"] for r in submitted] == [failing["id"], review["id"]]
    by_agent = {"status": "all", "agent": "score-wang"}
    assert len(ok(lead.get(f"{QUALITY}/reviews", params=by_agent))["reviews"]) == 2

    # The scorecard: the number of reviews and their mean score, per agent.
    cards = {a["username"]: a for a in ok(lead.get("/api/admin/analytics/summary"))["agents"]}
    assert (cards["score-wang"]["reviews"], cards["score-wang"]["review_mean"]) == (1, 84.21)
    assert (cards["score-zhao"]["reviews"], cards["score-zhao"]["review_mean"]) == (1, 0.0)
    assert (cards["score-lead"]["reviews"], cards["score-lead"]["review_mean"]) == (0, None)
    exported = lead.get("/api/admin/analytics/export.csv", params={"metric": "agents"})
    rows = {r["username"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert rows["score-wang"]["review_mean"] == "84.21"
    assert rows["score-wang"]["reviews"] == "1"

    # The review is the conversation's: exported and erased with it.
    export = ok(
        admin.get(
            "/api/admin/customers/export", params={"conversation_id": review["conversation_id"]}
        )
    )
    assert [r["score"] for r in export["conversations"][0]["quality_reviews"]] == [84.21]
    erased = ok(
        admin.post(
            "/api/admin/customers/erase",
            json={"conversation_id": review["conversation_id"], "confirm": True},
        )
    )
    assert erased["erased"]["quality_review"] == 1
    refused(lead.get(path), 404)
    assert ok(wang.get(f"{QUALITY}/me"))["count"] == 0
    cards = {a["username"]: a for a in ok(lead.get("/api/admin/analytics/summary"))["agents"]}
    assert cards["score-wang"]["reviews"] == 0
    assert leads_own.id == own["conversation_id"]
