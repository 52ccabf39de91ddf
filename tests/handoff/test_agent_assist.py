"""Agent assist: the console's suggested replies for the customer's latest message, and the
count of the ones used (issue 17, item 4), through a real server's HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import Customer, go_online, ticket_of

FAQ_URL = "/api/admin/kb/faqs"

FAQS = [
    {
        "question": "How do I get a refund?",
        "alternatives": ["I want my money back", "Can I return this for a refund?"],
        "answer": "Refunds go back to your card within 5 business days of receiving the return.",
        "language": "en",
    },
    {
        "question": "How long does shipping take?",
        "alternatives": ["When will my parcel arrive?", "delivery time"],
        "answer": "Orders arrive in 3 to 5 business days.",
        "language": "en",
    },
    {
        "question": "How do I reset my password?",
        "alternatives": ["I forgot my password"],
        "answer": "Use **Forgot password** on the sign-in page.",
        "language": "en",
    },
    {
        "question": "怎么申请退款？",
        "alternatives": ["我要退钱", "退款多久到账"],
        "answer": "退款在收到退货后 3 个工作日内原路退回。",
        "language": "zh",
    },
    {
        "question": "快递多久能到？",
        "alternatives": ["什么时候发货", "物流太慢了"],
        "answer": "一般 2 到 4 天送达。",
        "language": "zh",
    },
]

CANNED = [
    {"shortcut": "hello", "title": "Greeting", "text": "Hi {customer_name}, how can I help?"},
    {
        "shortcut": "refund-ok",
        "title": "Refund approved",
        "text": "Hi {customer_name}, your refund is approved and the money is on its way back.",
    },
    {
        "shortcut": "late-parcel",
        "title": "Late parcel",
        "text": "I'm sorry your parcel is late; I have asked the courier to deliver it today.",
    },
    {
        "shortcut": "tuikuan",
        "title": "退款已批准",
        "text": "{customer_name}您好，退款已批准，钱款正在退回。",
        "language": "zh",
    },
]


def _stock(server: Any) -> httpx.Client:
    admin: httpx.Client = server.admin()
    for entry in FAQS:
        body = {**entry, "category": "general", "status": "published"}
        response = admin.post(FAQ_URL, json=body)
        assert response.status_code == 201, response.text
    supervisor: httpx.Client = server.staff("floor-lead", "supervisor")
    for item in CANNED:
        response = supervisor.post("/api/agent/canned", json=item)
        assert response.status_code == 201, response.text
    return supervisor


def _assist(agent: httpx.Client, ticket: dict[str, Any]) -> dict[str, Any]:
    response = agent.get(f"/api/agent/tickets/{ticket['id']}/assist")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _of(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in body["suggestions"] if s["kind"] == kind]


def test_suggestions_follow_the_latest_message_and_uses_are_counted(
    desk: ServerFactory,
) -> None:
    server = desk(assignment="pull")
    supervisor = _stock(server)
    faq_ids = {
        entry["question"]: entry["id"]
        for entry in server.admin().get(FAQ_URL, params={"limit": 50}).json()["items"]
    }
    agent = server.staff("assist-agent", display_name="Wang Fang")
    go_online(agent)

    customer = Customer(server, name="Bo", language="en")
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    assert agent.post(f"/api/agent/tickets/{ticket['id']}/claim").status_code == 200
    # Nothing written yet: nothing to suggest.
    assert _assist(agent, ticket) == {"message_seq": None, "suggestions": []}

    customer.say("I want my money back for order #10482, the shoes don't fit")
    first = _assist(agent, ticket)
    written = [e for e in customer.events() if e["author"] == "customer"]
    assert first["message_seq"] == written[-1]["seq"]
    faqs, canned = _of(first, "faq"), _of(first, "canned")
    assert faqs[0]["id"] == faq_ids["How do I get a refund?"]
    assert faqs[0]["text"].startswith("Refunds go back to your card")
    assert [s["rank"] for s in faqs] == list(range(1, len(faqs) + 1))
    assert all(s["id"] in faq_ids.values() for s in faqs)  # English entries only
    assert canned[0]["title"] == "Refund approved"
    # Placeholders are filled for this customer, and the Chinese response is not offered.
    assert canned[0]["text"].startswith("Hi Bo, your refund")
    assert "退款已批准" not in [s["title"] for s in canned]

    customer.say("and when will my other parcel arrive? it is late")
    second = _assist(agent, ticket)
    assert second["message_seq"] > first["message_seq"]
    assert _of(second, "faq")[0]["id"] == faq_ids["How long does shipping take?"]
    assert _of(second, "canned")[0]["title"] == "Late parcel"

    used = agent.post(
        f"/api/agent/tickets/{ticket['id']}/assist/used",
        json={"kind": "faq", "id": faq_ids["How long does shipping take?"], "rank": 1},
    )
    assert used.status_code == 204, used.text
    late = _of(second, "canned")[0]
    used = agent.post(
        f"/api/agent/tickets/{ticket['id']}/assist/used",
        json={"kind": "canned", "id": late["id"], "rank": 1},
    )
    assert used.status_code == 204, used.text

    # Bad input is refused and counts nothing.
    for body, code in (
        ({"kind": "macro", "id": "x", "rank": 1}, 422),
        ({"kind": "faq", "id": "no-such-entry", "rank": 1}, 404),
        ({"kind": "canned", "id": "999999", "rank": 1}, 404),
        ({"kind": "canned", "id": "not-a-number", "rank": 1}, 404),
        ({"kind": "faq", "id": faq_ids["How do I get a refund?"], "rank": 0}, 422),
        ({"kind": "faq", "id": "", "rank": 1}, 422),
    ):
        refused = agent.post(f"/api/agent/tickets/{ticket['id']}/assist/used", json=body)
        assert refused.status_code == code, (body, refused.text)
        assert "error" in refused.json()
    valid = {"kind": "canned", "id": late["id"], "rank": 1}
    assert agent.post("/api/agent/tickets/999999/assist/used", json=valid).status_code == 404
    assert agent.get("/api/agent/tickets/999999/assist").status_code == 404

    assert agent.get("/api/agent/assist/usage").status_code == 403
    assert supervisor.get("/api/agent/assist/usage", params={"days": 0}).status_code == 422
    usage = supervisor.get("/api/agent/assist/usage", params={"days": 7})
    assert usage.status_code == 200, usage.text
    report = usage.json()
    assert report["total"] == 2
    assert report["by_kind"] == {"faq": 1, "canned": 1}
    assert {(i["kind"], i["title"], i["uses"]) for i in report["items"]} == {
        ("faq", "How long does shipping take?", 1),
        ("canned", "Late parcel", 1),
    }
    assert [a["uses"] for a in report["agents"]] == [2]


def test_chinese_messages_get_chinese_suggestions(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    _stock(server)
    agent = server.staff("zh-agent", display_name="李娜", languages=["zh"])
    go_online(agent)
    customer = Customer(server, name="王先生", language="zh")
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    assert agent.post(f"/api/agent/tickets/{ticket['id']}/claim").status_code == 200
    customer.say("订单 LM20240518 的衣服不合适，我要退钱")
    body = _assist(agent, ticket)
    assert _of(body, "faq")[0]["title"] == "怎么申请退款？"
    assert {s["title"] for s in _of(body, "faq")} <= {"怎么申请退款？", "快递多久能到？"}
    assert _of(body, "canned")[0]["title"] == "退款已批准"
    assert _of(body, "canned")[0]["text"] == "王先生您好，退款已批准，钱款正在退回。"
