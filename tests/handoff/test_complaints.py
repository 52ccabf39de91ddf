"""Complaints on a clock (issue 17, item 1), through a real server's HTTP API and the agent
WebSocket: marking, the register by time left, level changes that move the deadline, the
warning before the deadline and the escalation after it, and resolution with a root cause."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import time_machine

from tests.handoff.conftest import ServerFactory
from tests.handoff.desk_helpers import (
    Customer,
    agent_socket,
    frames_until,
    go_online,
    ticket_of,
    wait_until,
)

COMPLAINTS = "/api/agent/complaints"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _claimed(server: Any, agent: httpx.Client, name: str) -> tuple[Customer, dict[str, Any]]:
    customer = Customer(server, name=name, language="en")
    customer.say("My parcel arrived broken and nobody answers my emails")
    customer.ask_for_person()
    ticket = ticket_of(agent, customer.id)
    claimed = agent.post(f"/api/agent/tickets/{ticket['id']}/claim")
    assert claimed.status_code == 200, claimed.text
    return customer, ticket


def _register(staff: httpx.Client, **params: Any) -> dict[str, Any]:
    response = staff.get(COMPLAINTS, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_marking_the_register_and_resolution(desk: ServerFactory) -> None:
    server = desk(assignment="pull")
    first = server.staff("complaint-agent", display_name="Wang Fang")
    second = server.staff("other-agent")
    supervisor = server.staff("complaint-lead", "supervisor")
    go_online(first)
    go_online(second)
    options = first.get(f"{COMPLAINTS}/options").json()
    assert options["hours"] == {"urgent": 24.0, "important": 48.0, "normal": 72.0}
    assert "delivery" in options["categories"]
    assert "logistics" in options["causes"]

    normal_customer, normal_ticket = _claimed(server, first, "Bo")
    urgent_customer, urgent_ticket = _claimed(server, first, "Li")

    marked = first.post(
        f"/api/agent/tickets/{normal_ticket['id']}/complaint",
        json={"level": "normal", "category": "delivery", "summary": "parcel broken"},
    )
    assert marked.status_code == 201, marked.text
    normal = marked.json()
    assert (normal["level"], normal["category"], normal["source"]) == (
        "normal",
        "delivery",
        "agent",
    )
    assert normal["owner"] == "Wang Fang"
    assert _at(normal["deadline_at"]) - _at(normal["created_at"]) == timedelta(hours=72)
    assert 72 * 3600 - 60 < normal["seconds_left"] <= 72 * 3600

    # Bad input is refused and changes nothing.
    path = f"/api/agent/tickets/{urgent_ticket['id']}/complaint"
    for body, status, code in (
        ({"level": "critical"}, 422, None),
        ({"level": "urgent", "category": "weather"}, 422, "unknown_category"),
        ({"level": "urgent", "summary": "x" * 501}, 422, None),
    ):
        refused = first.post(path, json=body)
        assert refused.status_code == status, refused.text
        if code:
            assert refused.json()["error"]["code"] == code
    again = first.post(f"/api/agent/tickets/{normal_ticket['id']}/complaint", json={})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_complaint"
    assert second.post(path, json={"level": "urgent"}).status_code == 403
    assert first.post("/api/agent/tickets/999999/complaint", json={}).status_code == 404
    assert len(_register(supervisor)["complaints"]) == 1

    marked = first.post(path, json={"level": "urgent", "category": "product"})
    assert marked.status_code == 201, marked.text
    urgent = marked.json()

    # The register: the most pressing first; an agent sees only the complaints they own.
    register = _register(supervisor)
    assert [c["id"] for c in register["complaints"]] == [urgent["id"], normal["id"]]
    assert register["open"] == {"urgent": 1, "normal": 1}
    # Neither is near its deadline yet: the live wall shows none.
    assert supervisor.get("/api/supervisor/wall").json()["complaints"] == []
    assert _register(second)["complaints"] == []
    assert [c["id"] for c in _register(first, level="normal")["complaints"]] == [normal["id"]]
    # A teammate may read it, as they may read the chat, but not act on it.
    assert second.get(f"{COMPLAINTS}/{normal['id']}").status_code == 200
    assert first.get(f"{COMPLAINTS}/{normal['id']}").json()["summary"] == "parcel broken"

    # A new level moves the deadline, counted from the complaint's opening.
    raised = first.patch(f"{COMPLAINTS}/{normal['id']}", json={"level": "important"})
    assert raised.status_code == 200, raised.text
    assert _at(raised.json()["deadline_at"]) - _at(normal["created_at"]) == timedelta(hours=48)
    assert second.patch(f"{COMPLAINTS}/{normal['id']}", json={"level": "urgent"}).status_code == 403

    # The story is in the transcript for staff, never for the customer.
    staff_events = first.get(f"/api/agent/conversations/{normal_customer.id}/events").json()
    kinds = [e["type"] for e in staff_events["events"] if e["type"].startswith("complaint.")]
    assert kinds == ["complaint.opened", "complaint.changed"]
    assert not [e for e in normal_customer.events() if e["type"].startswith("complaint.")]

    resolve = f"{COMPLAINTS}/{urgent['id']}/resolve"
    bad = first.post(resolve, json={"root_cause": "bad luck", "resolution": "sent a new one"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "unknown_root_cause"
    assert first.post(resolve, json={"root_cause": "logistics"}).status_code == 422
    assert first.get(f"{COMPLAINTS}/{urgent['id']}").json()["status"] == "open"
    done = first.post(resolve, json={"root_cause": "logistics", "resolution": "sent a new one"})
    assert done.status_code == 200, done.text
    resolved = done.json()
    assert (resolved["status"], resolved["on_time"], resolved["root_cause"]) == (
        "resolved",
        True,
        "logistics",
    )
    assert first.post(resolve, json={"root_cause": "other", "resolution": "x"}).status_code == 409
    assert first.patch(f"{COMPLAINTS}/{urgent['id']}", json={"level": "normal"}).status_code == 409
    assert [c["id"] for c in _register(supervisor)["complaints"]] == [normal["id"]]
    assert [c["id"] for c in _register(supervisor, status="resolved")["complaints"]] == [
        urgent["id"]
    ]
    assert urgent_customer.id == resolved["conversation_id"]

    # Analytics: by category and cause, on time per level, and the trend.
    report_url = "/api/admin/analytics/complaints"
    assert first.get(report_url).status_code == 403
    assert supervisor.get(report_url, params={"start": "yesterday"}).status_code == 422
    report = supervisor.get(report_url).json()
    assert (report["opened"], report["open"], report["resolved"], report["pending"]) == (2, 1, 1, 1)
    assert report["by_category"] == {"delivery": 1, "product": 1}
    assert report["by_cause"] == {"logistics": 1}
    assert report["by_source"] == {"agent": 2}
    assert report["on_time"]["urgent"] == {"numerator": 1, "denominator": 1, "rate": 1.0}
    assert report["on_time"]["important"]["denominator"] == 0  # still inside its time
    assert [(d["opened"], d["resolved"]) for d in report["trend"]] == [(2, 1)]


def test_the_owner_is_warned_and_supervisors_get_the_overdue_ones(desk: ServerFactory) -> None:
    # Hours short enough to watch: urgent is 2.7 s, warned from half-time.
    server = desk(
        assignment="pull",
        complaint_hours={"urgent": 0.00075, "important": 48, "normal": 72},
        complaint_warn_share=0.5,
    )
    agent = server.staff("clock-agent")
    supervisor = server.staff("clock-lead", "supervisor")
    go_online(agent)
    customer, ticket = _claimed(server, agent, "Mei")
    with (
        agent_socket(server.url, agent) as agent_ws,
        agent_socket(server.url, supervisor) as lead_ws,
    ):
        marked = agent.post(
            f"/api/agent/tickets/{ticket['id']}/complaint", json={"level": "urgent"}
        )
        assert marked.status_code == 201, marked.text
        complaint_id = marked.json()["id"]

        def complaint_frame(kind: str) -> Any:
            return lambda f: f.get("type") == kind and f["complaint"]["id"] == complaint_id

        soon = frames_until(agent_ws, complaint_frame("complaint.due_soon"), timeout=10)[-1]
        assert soon["complaint"]["overdue"] is False
        lead_frames = frames_until(lead_ws, complaint_frame("complaint.overdue"), timeout=10)
        assert lead_frames[-1]["complaint"]["owner"] == "clock-agent"
        # The supervisor was not told of the warning: the agent owns it.
        assert "complaint.due_soon" not in [f.get("type") for f in lead_frames]
        frames_until(agent_ws, complaint_frame("complaint.overdue"), timeout=10)

    shown = wait_until(
        lambda: (c := agent.get(f"{COMPLAINTS}/{complaint_id}").json())["overdue_at"] and c,
        what="the complaint marked overdue",
    )
    assert shown["overdue"] is True
    assert shown["seconds_left"] < 0
    assert ticket_of(agent, customer.id, view="mine")["priority"] == "urgent"
    # The supervisors' live wall lists it, without the customer's name.
    wall = supervisor.get("/api/supervisor/wall").json()["complaints"]
    assert [(c["complaint_id"], c["overdue"], c["owner"]) for c in wall] == [
        (complaint_id, True, "clock-agent")
    ]
    staff_events = agent.get(f"/api/agent/conversations/{customer.id}/events").json()["events"]
    kinds = [e["type"] for e in staff_events if e["type"].startswith("complaint.")]
    assert kinds == ["complaint.opened", "complaint.due_soon", "complaint.overdue"]
    done = agent.post(
        f"{COMPLAINTS}/{complaint_id}/resolve",
        json={"root_cause": "other", "resolution": "called the customer"},
    )
    assert done.status_code == 200
    assert done.json()["on_time"] is False
    report = supervisor.get("/api/admin/analytics/complaints").json()
    assert report["on_time"]["urgent"] == {"numerator": 0, "denominator": 1, "rate": 0.0}
    assert supervisor.get("/api/supervisor/wall").json()["complaints"] == []


def test_the_timers_fire_within_a_minute_of_the_deadline(desk: ServerFactory) -> None:
    """Issue 17's figure, on a controllable clock: the server's wall clock is moved to just
    before and then to the deadline itself (time-machine moves ``datetime.now`` for the whole
    process, the server's thread included), and the dispatcher's own sweep, on its own tick,
    must record the overdue escalation less than a minute after the deadline."""
    server = desk(assignment="pull")
    agent = server.staff("timer-agent")
    go_online(agent)
    _customer, ticket = _claimed(server, agent, "Lin")
    marked = agent.post(f"/api/agent/tickets/{ticket['id']}/complaint", json={"level": "urgent"})
    assert marked.status_code == 201, marked.text
    complaint_id = marked.json()["id"]
    deadline = _at(marked.json()["deadline_at"])
    assert deadline - _at(marked.json()["created_at"]) == timedelta(hours=24)

    def read() -> dict[str, Any]:
        # A day later the morning's session has expired: sign in again, as the agent would.
        response = server.log_in("timer-agent").get(f"{COMPLAINTS}/{complaint_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    with time_machine.travel(deadline - timedelta(seconds=30), tick=True):
        # Inside the last quarter: the owner is warned, and the same sweep left it not overdue.
        warned = wait_until(lambda: (c := read())["warned_at"] and c, what="the warning")
        assert warned["overdue_at"] is None
        assert _at(warned["warned_at"]) < deadline
    with time_machine.travel(deadline, tick=True):
        overdue = wait_until(lambda: (c := read())["overdue_at"] and c, what="the escalation")
    late = _at(overdue["overdue_at"]) - deadline
    print(f"complaint escalated {late.total_seconds():.3f} s after its deadline")
    assert timedelta(0) <= late < timedelta(minutes=1)
