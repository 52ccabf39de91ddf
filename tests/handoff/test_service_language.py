"""Service language: the list, the check on agents' replies, and the report, through a real
server's HTTP API and agent socket (and the matcher's table of cases)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from handoff.phrase_match import Listed, find_phrases
from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import Customer, agent_socket, frames_until, go_online, ticket_of

URL = "/api/agent/service-language"
CALM = {
    "phrase": "calm down",
    "language": "en",
    "alternatives": ["I understand how frustrating this is"],
}


def _listed(staff: httpx.Client) -> list[dict[str, Any]]:
    response = staff.get(URL)
    assert response.status_code == 200, response.text
    phrases: list[dict[str, Any]] = response.json()["phrases"]
    return phrases


def _report(staff: httpx.Client) -> dict[str, dict[str, Any]]:
    response = staff.get(f"{URL}/report", params={"days": 30})
    assert response.status_code == 200, response.text
    return {p["phrase"]: p for p in response.json()["phrases"]}


def _agent_messages(customer: Customer) -> list[str]:
    return [
        e["payload"]["text"]
        for e in customer.events()
        if e["type"] == "message" and e["author"].startswith("agent:")
    ]


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [
        ("Please calm down.", "calm down", "calm down"),
        ("Please CALM   Down!", "calm down", "CALM   Down"),
        ("Ｃａｌｍ ｄｏｗｎ please", "calm down", "Ｃａｌｍ ｄｏｗｎ"),
        ("That’s not my job", "that's not my job", "That’s not my job"),
        ("I know, right", "no", None),
        ("nobody", "no", None),
        ("No, sorry.", "no", "No"),
        ("好的no问题", "no", "no"),
        ("抱歉，我不知道这个订单", "我不知道", "我不知道"),
        ("这不归我管。", "这不归我管", "这不归我管"),
        ("cafe\u0301 closes", "café", "cafe\u0301"),
    ],
)
def test_the_matcher_folds_case_width_and_accents_and_keeps_to_words(
    text: str, phrase: str, found: str | None
) -> None:
    matches = find_phrases(text, [Listed(1, phrase, ("instead",))])
    assert [text[m.start : m.end] for m in matches] == ([found] if found else [])
    assert [m.text for m in matches] == ([found] if found else [])


def test_of_two_overlapping_phrases_the_earlier_and_longer_is_kept() -> None:
    listed = [Listed(1, "not my job", ()), Listed(2, "that's not my job", ())]
    assert [m.phrase_id for m in find_phrases("well, that's not my job", listed)] == [2]


def test_the_list_is_read_by_staff_and_changed_by_supervisors_and_admins(
    desk: ServerFactory,
) -> None:
    server = desk()
    agent = server.staff("sl-agent")
    supervisor = server.staff("sl-boss", "supervisor")
    admin = server.admin()
    # An installation without the demo starts with an empty list.
    assert _listed(agent) == []
    assert agent.post(URL, json=CALM).status_code == 403
    assert _listed(supervisor) == []

    created = supervisor.post(URL, json={**CALM, "phrase": "  calm down  "})
    assert created.status_code == 201, created.text
    phrase = created.json()
    assert (phrase["phrase"], phrase["language"]) == ("calm down", "en")
    zh = admin.post(URL, json={"phrase": "我不知道", "language": "zh", "alternatives": []})
    assert zh.status_code == 201, zh.text
    before = _listed(agent)
    assert [p["phrase"] for p in before] == ["calm down", "我不知道"]

    other = {**CALM, "phrase": "be patient"}
    refused = {
        "blank": {**other, "phrase": "   "},
        "too long": {**other, "phrase": "x" * 129},
        "language": {**other, "language": "fr"},
        "too many alternatives": {**other, "alternatives": [f"option {i}" for i in range(11)]},
        "blank alternative": {**other, "alternatives": [" "]},
        "long alternative": {**other, "alternatives": ["y" * 201]},
    }
    for why, body in refused.items():
        response = supervisor.post(URL, json=body)
        assert response.status_code == 422, (why, response.text)
    duplicate = supervisor.post(URL, json={**CALM, "phrase": "Calm  DOWN"})
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.json()["error"]["code"] == "conflict"
    renamed = admin.put(f"{URL}/{zh.json()['id']}", json={**CALM, "alternatives": []})
    assert renamed.status_code == 409, renamed.text
    assert agent.put(f"{URL}/{phrase['id']}", json=CALM).status_code == 403
    assert agent.delete(f"{URL}/{phrase['id']}").status_code == 403
    assert _listed(agent) == before

    # The same words for every language are another entry.
    everywhere = supervisor.post(URL, json={**CALM, "language": None})
    assert everywhere.status_code == 201, everywhere.text
    edited = admin.put(
        f"{URL}/{phrase['id']}", json={**CALM, "alternatives": ["I hear you", "I'm sorry"]}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["alternatives"] == ["I hear you", "I'm sorry"]

    assert agent.get(f"{URL}/report").status_code == 403
    for days in ("0", "367", "-1", "week"):
        bad = supervisor.get(f"{URL}/report", params={"days": days})
        assert bad.status_code == 422, (days, bad.text)
    assert admin.get(f"{URL}/report", params={"days": 366}).status_code == 200
    report = _report(supervisor)
    assert report["calm down"]["uses"] == 0

    assert supervisor.delete(f"{URL}/{everywhere.json()['id']}").status_code == 204
    assert supervisor.delete(f"{URL}/{everywhere.json()['id']}").status_code == 404
    assert [p["phrase"] for p in _listed(agent)] == ["calm down", "我不知道"]


def test_a_reply_with_a_listed_phrase_is_held_back_until_the_agent_confirms(
    desk: ServerFactory,
) -> None:
    server = desk(assignment="pull")
    agent = server.staff("sl-writer", display_name="Wang Fang")
    supervisor = server.staff("sl-lead", "supervisor", display_name="Li Na")
    for body in (
        CALM,
        {"phrase": "我不知道", "language": "zh", "alternatives": ["我帮您查一下"]},
        {"phrase": "no", "alternatives": []},
    ):
        assert supervisor.post(URL, json=body).status_code == 201
    go_online(agent)
    customer = Customer(server, name="Bo")
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    assert agent.post(f"/api/agent/tickets/{ticket['id']}/claim").status_code == 200
    messages = f"/api/agent/tickets/{ticket['id']}/messages"

    held = agent.post(messages, json={"text": "Please calm down, I'm on it.", "client_id": "c1"})
    assert held.status_code == 422, held.text
    error = held.json()["error"]
    assert error["code"] == "service_language"
    assert [
        {k: d[k] for k in ("phrase", "alternatives", "start", "end", "text")}
        for d in error["details"]
    ] == [
        {
            "phrase": "calm down",
            "alternatives": ["I understand how frustrating this is"],
            "start": 7,
            "end": 16,
            "text": "calm down",
        }
    ]
    # In the middle of a Chinese sentence, in a chat that started in English.
    chinese = agent.post(messages, json={"text": "抱歉，我不知道这个订单在哪里"})
    assert chinese.status_code == 422, chinese.text
    assert [(d["phrase"], d["start"], d["end"]) for d in chinese.json()["error"]["details"]] == [
        ("我不知道", 3, 7)
    ]
    assert _agent_messages(customer) == []
    assert _report(supervisor)["calm down"]["uses"] == 0

    # "no" is a word: "know" and "nothing" do not contain it.
    plain = agent.post(messages, json={"text": "I know nothing is worse than waiting."})
    assert plain.status_code == 201, plain.text
    # Notes are for colleagues: not checked, not counted.
    note = agent.post(f"/api/agent/tickets/{ticket['id']}/notes", json={"text": "calm down!"})
    assert note.status_code == 201, note.text

    sent = agent.post(
        messages,
        json={"text": "Please calm down, I'm on it.", "client_id": "c1", "confirm_phrases": True},
    )
    assert sent.status_code == 201, sent.text
    with agent_socket(server.url, agent) as ws:
        ws.send(
            json.dumps(
                {
                    "type": "message",
                    "ticket_id": ticket["id"],
                    "text": "calm down",
                    "client_id": "w1",
                }
            )
        )
        refused = frames_until(ws, lambda f: f.get("type") == "error")[-1]
        assert (refused["code"], refused["client_id"]) == ("service_language", "w1")
        ws.send(
            json.dumps(
                {
                    "type": "message",
                    "ticket_id": ticket["id"],
                    "text": "Calm down.",
                    "client_id": "w2",
                    "confirm_phrases": True,
                }
            )
        )
        frames_until(ws, lambda f: f.get("type") == "ack" and f.get("client_id") == "w2")
    lead = supervisor.post(messages, json={"text": "No, calm down.", "confirm_phrases": True})
    assert lead.status_code == 201, lead.text

    assert _agent_messages(customer) == [
        "I know nothing is worse than waiting.",
        "Please calm down, I'm on it.",
        "Calm down.",
        "No, calm down.",
    ]
    report = _report(supervisor)
    calm = report["calm down"]
    assert calm["uses"] == 3
    assert calm["last_used"] is not None
    assert [(a["username"], a["display_name"], a["uses"]) for a in calm["agents"]] == [
        ("sl-writer", "Wang Fang", 2),
        ("sl-lead", "Li Na", 1),
    ]
    assert report["no"]["uses"] == 1
    assert report["我不知道"]["uses"] == 0

    # Taking a phrase off the list keeps its past uses in the report.
    assert supervisor.delete(f"{URL}/{calm['id']}").status_code == 204
    gone = _report(supervisor)["calm down"]
    assert (gone["deleted"], gone["id"], gone["uses"]) == (True, None, 3)
    assert agent.post(messages, json={"text": "calm down"}).status_code == 201
