"""Outbound events of API channels (issue 16, item 2): a real kefu server on SQLite and
PostgreSQL, an app's messages through the inbound API, and a real webhook receiver on loopback
that checks every signature. What the app hears (bot and agent replies, handoff, close; never
the customer's own words or staff notes), retries with backoff, a receiver down and back, order
within a conversation, giving up and replaying, redirects, restarts, and the delivery log's
refusals.

Backoff is shrunk through settings (50 ms doubling to 200 ms), so nothing sleeps long: every
wait polls with a deadline.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.channels.conftest import ApiChannel, create_channel
from tests.channels.webhook_receiver import Receiver
from tests.handoff.desk_helpers import go_online, tickets, wait_until
from tests.live import LiveServer, serve

FAST = {
    "webhook_retry_first_seconds": 0.05,
    "webhook_retry_max_seconds": 0.2,
    "webhook_poll_seconds": 0.1,
    "webhook_timeout_seconds": 2.0,
    "handoff_tick_seconds": 0.2,
}


@dataclass
class Hook:
    """One API channel (made through the admin API) whose webhook is ``receiver``."""

    channel: ApiChannel
    receiver: Receiver

    @property
    def server(self) -> LiveServer:
        return self.channel.server

    @property
    def admin(self) -> httpx.Client:
        return self.channel.admin

    @property
    def id(self) -> int:
        return self.channel.id

    @property
    def name(self) -> str:
        return self.channel.name

    def say(self, contact: str, text: str) -> dict[str, Any]:
        return self.channel.say(contact, text)

    def restarted(self) -> None:
        """After ``server.restart``-like stops and starts: new signed-in clients."""
        self.channel.admin = self.server.admin()
        self.channel.app = self.server.http()

    def deliveries(self, **params: Any) -> list[dict[str, Any]]:
        path = f"/api/admin/channels/{self.id}/deliveries"
        response = self.admin.get(path, params={"limit": 200, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def delivery(self, delivery_id: int) -> dict[str, Any]:
        response = self.admin.get(f"/api/admin/channels/{self.id}/deliveries/{delivery_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def settled(self, count: int, state: str = "delivered", **params: Any) -> list[dict[str, Any]]:
        """Until ``count`` deliveries (of ``params``) are in ``state``; them, oldest first."""

        def check() -> list[dict[str, Any]] | None:
            found = [d for d in self.deliveries(**params) if d["state"] == state]
            return sorted(found, key=lambda d: d["id"]) if len(found) >= count else None

        settled: list[dict[str, Any]] = wait_until(check, 30, f"{count} {state} deliveries")
        return settled


HookFactory = Callable[..., Hook]


@pytest.fixture
def hooks(settings: Settings, embedder: SentenceEmbedder) -> Iterator[HookFactory]:
    """``hooks(**settings)`` serves kefu and makes an API channel with its own receiver;
    further calls with the same server (``server=``) add channels."""
    with ExitStack() as stack:

        def make(server: LiveServer | None = None, **overrides: Any) -> Hook:
            if server is None:
                changed = settings.model_copy(update={**FAST, **overrides})
                server = stack.enter_context(serve(changed, embedder))
            receiver = Receiver()
            stack.callback(receiver.stop)
            channel = create_channel(server, server.admin(), webhook_url=receiver.url)
            receiver.secret = channel.signing_secret
            return Hook(channel, receiver)

        yield make


def by_delivery(hook: Hook) -> dict[str, int]:
    counts: dict[str, int] = {}
    for received in hook.receiver.events():
        counts[received.delivery] = counts.get(received.delivery, 0) + 1
    return counts


def test_the_app_hears_replies_handoff_and_close_signed_but_not_its_own_words_or_notes(
    hooks: HookFactory,
) -> None:
    hook = hooks()
    agent = hook.server.staff("webhook-agent", display_name="Dana")
    go_online(agent)
    first = hook.say("user-7", "hello, what is this thing")
    conversation_id = first["conversation_id"]
    assert first["replies"], "the bot answers"
    hook.settled(1)
    hook.say("user-7", "still nothing useful at all")  # a second miss: the bot hands off
    # Assigned automatically by the dispatcher, whose events wake the outbox as any others do.
    (ticket,) = wait_until(
        lambda: [t for t in tickets(agent, "mine") if t["conversation_id"] == conversation_id],
        10,
        "the ticket",
    )
    reply = agent.post(f"/api/agent/tickets/{ticket['id']}/messages", json={"text": "Hi, Dana"})
    assert reply.status_code == 201, reply.text
    note = agent.post(f"/api/agent/tickets/{ticket['id']}/notes", json={"text": "secret note"})
    assert note.status_code == 201, note.text
    assert agent.post(f"/api/agent/tickets/{ticket['id']}/close").status_code == 200

    def closed() -> bool:
        return any(r.body["event"] == "conversation.closed" for r in hook.receiver.events())

    wait_until(closed, 15, "the close to reach the app")
    got = hook.receiver.events()
    assert all(r.signed for r in got), "every request verifies with the signing secret"
    bodies = [r.body for r in got]
    kinds = [b["event"] for b in bodies]
    for expected in ("message", "conversation.escalated", "agent.joined", "conversation.closed"):
        assert expected in kinds, kinds
    assert "note" not in kinds
    assert all(b["author"]["type"] != "customer" for b in bodies)
    assert not any("secret note" in r.raw.decode() for r in got)
    assert not any("webhook-agent" in r.raw.decode() for r in got), "no staff username leaks"
    seqs = [b["seq"] for b in bodies]
    assert seqs == sorted(set(seqs)), "in order, each once"

    bot = bodies[0]
    assert bot["event"] == "message"
    assert bot["author"] == {"type": "bot", "name": None}
    assert bot["channel"] == hook.name
    assert bot["contact"] == {"id": "user-7"}
    assert bot["conversation_id"] == conversation_id
    assert bot["payload"]["text"]
    assert bot["created_at"].endswith(("Z", "+00:00"))
    headers = got[0].headers
    assert headers["X-Kefu-Delivery"] == str(bot["id"])
    assert headers["X-Kefu-Event"] == "message"
    assert headers["Content-Type"] == "application/json"
    assert "X-Kefu-Replay" not in headers
    agent_says = next(b for b in bodies if b["author"]["type"] == "agent")
    assert agent_says["author"] == {"type": "agent", "name": "Dana"}
    assert agent_says["payload"]["text"] == "Hi, Dana"
    closing = next(b for b in bodies if b["event"] == "conversation.closed")
    assert closing["payload"]["survey"] == {"csat": True, "nps": True}
    assert all(n == 1 for n in by_delivery(hook).values())

    log = hook.deliveries(conversation_id=conversation_id)
    assert {d["state"] for d in log} == {"delivered"}
    assert [d["id"] for d in log] == sorted((d["id"] for d in log), reverse=True), "newest first"
    detail = hook.delivery(log[-1]["id"])
    assert detail["history"][0]["status"] == 200
    assert detail["history"][0]["duration_ms"] >= 0


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(hooks: HookFactory) -> None:
    hook = hooks()
    hook.receiver.answers = [500, 500]
    hook.say("user-1", "hello there")
    (delivered,) = hook.settled(1)
    detail = hook.delivery(delivered["id"])
    assert detail["attempts"] == 3
    assert [a["status"] for a in detail["history"]] == [500, 500, 200]
    assert detail["history"][0]["error"] == "HTTP 500"
    got = hook.receiver.events()
    assert len(got) == 3
    assert {r.delivery for r in got} == {str(delivered["id"])}
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(got)]
    assert all(gap >= 0.03 for gap in gaps), gaps  # waited (50 ms ± 20 %), never hammered


def test_a_receiver_down_then_back_gets_every_event_in_order(hooks: HookFactory) -> None:
    hook = hooks()
    hook.receiver.stop()
    conversation = hook.say("user-2", "first question")["conversation_id"]
    hook.say("user-2", "second question")
    hook.say("user-2", "third question")

    def refused() -> bool:
        tried = [d for d in hook.deliveries() if d["attempts"] >= 2]
        return bool(tried) and all(d["state"] == "pending" for d in hook.deliveries())

    wait_until(refused, 15, "attempts against the refused connection")
    pending = hook.deliveries()
    head = min(pending, key=lambda d: d["seq"])
    assert head["last_status"] is None
    assert head["last_error"]
    # Later events of the conversation wait for the first: none was even tried.
    assert all(d["attempts"] == 0 for d in pending if d["id"] != head["id"])
    hook.receiver.start()
    delivered = hook.settled(len(pending))
    seqs = [r.body["seq"] for r in hook.receiver.events()]
    assert seqs == sorted(d["seq"] for d in delivered), "the app sees them in seq order"
    assert all(d["conversation_id"] == conversation for d in delivered)


def test_one_broken_channel_does_not_hold_up_another(hooks: HookFactory) -> None:
    broken = hooks()
    broken.receiver.stop()
    healthy = hooks(server=broken.server)
    broken.say("user-3", "hello there")
    healthy.say("user-4", "hello there")
    assert healthy.settled(1)[0]["contact_id"] == "user-4"
    assert all(d["state"] == "pending" for d in broken.deliveries())


def test_given_up_after_the_last_attempt_then_replayed(hooks: HookFactory) -> None:
    hook = hooks(webhook_max_attempts=2)
    hook.receiver.answers = [503, 503]
    hook.say("user-5", "hello there")
    (failed,) = hook.settled(1, "failed")
    assert failed["attempts"] == 2
    assert failed["last_status"] == 503
    path = f"/api/admin/channels/{hook.id}/deliveries/{failed['id']}/replay"
    replayed = hook.admin.post(path)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["replay"] is True
    hook.settled(1, "delivered")
    last = hook.receiver.events()[-1]
    assert last.delivery == str(failed["id"])
    assert last.headers["X-Kefu-Replay"] == "1"
    assert last.signed
    detail = hook.delivery(failed["id"])
    assert [a["replay"] for a in detail["history"]] == [False, False, True]

    again = hook.admin.post(path)  # a delivered one may be sent again too
    assert again.status_code == 200
    wait_until(lambda: len(hook.receiver.events()) == 4, 10, "the second replay")
    audit = hook.admin.get("/api/admin/audit-log", params={"action": "channel.delivery_replayed"})
    assert len(audit.json()["items"]) == 2


def test_replay_failed_queues_every_failed_delivery_of_the_channel(hooks: HookFactory) -> None:
    hook = hooks(webhook_max_attempts=1)
    hook.receiver.answers = [500, 500]
    hook.say("user-6", "hello there")
    hook.say("user-8", "hello there")
    hook.settled(2, "failed")
    answer = hook.admin.post(f"/api/admin/channels/{hook.id}/deliveries/replay-failed")
    assert answer.status_code == 200
    assert answer.json() == {"replayed": 2}
    hook.settled(2, "delivered")
    assert hook.admin.post(f"/api/admin/channels/{hook.id}/deliveries/replay-failed").json() == {
        "replayed": 0
    }


def test_a_redirect_is_not_followed_and_counts_as_a_failure(hooks: HookFactory) -> None:
    hook = hooks(webhook_max_attempts=2)
    hook.receiver.redirect_to = "/elsewhere"
    hook.say("user-9", "hello there")
    (failed,) = hook.settled(1, "failed")
    assert failed["last_status"] == 302
    assert "redirect" in failed["last_error"]
    assert hook.receiver.events("/elsewhere") == []


def test_the_delivery_log_refuses_what_is_not_this_channels(hooks: HookFactory) -> None:
    hook = hooks()
    other = hooks(server=hook.server)
    other.say("user-10", "hello there")
    (theirs,) = other.settled(1)
    base = f"/api/admin/channels/{hook.id}/deliveries"
    for method, path in (
        ("GET", f"{base}/{theirs['id']}"),
        ("POST", f"{base}/{theirs['id']}/replay"),
        ("POST", f"{base}/999999/replay"),
        ("GET", "/api/admin/channels/999999/deliveries"),
        ("POST", "/api/admin/channels/999999/deliveries/replay-failed"),
    ):
        response = hook.admin.request(method, path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert hook.admin.get(base, params={"state": "lost"}).status_code == 422
    assert hook.admin.get(base, params={"conversation_id": "x" * 40}).status_code == 422
    assert other.delivery(theirs["id"])["attempts"] == 1, "nothing changed"

    hook.receiver.stop()
    hook.say("user-11", "hello there")
    (pending,) = wait_until(lambda: hook.deliveries(state="pending"), 10, "a pending one")
    refused = hook.admin.post(f"{base}/{pending['id']}/replay")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "delivery_pending"


def test_a_restart_delivers_each_queued_event_exactly_once(hooks: HookFactory) -> None:
    hook = hooks()
    hook.receiver.stop()
    for n in range(3):
        hook.say(f"user-r{n}", "hello there")
    wait_until(lambda: len(hook.deliveries()) == 3, 10, "three queued deliveries")
    hook.server.stop()
    hook.receiver.start()
    hook.server.start()
    hook.restarted()
    hook.settled(3)
    assert sorted(by_delivery(hook).values()) == [1, 1, 1]


def test_a_graceful_stop_finishes_what_it_is_sending(hooks: HookFactory) -> None:
    hook = hooks()
    hook.receiver.delay = 1.0
    hook.say("user-g", "hello there")
    wait_until(lambda: hook.receiver.events(), 10, "the send to begin")
    hook.server.stop()  # while the receiver holds the request
    hook.receiver.delay = 0
    hook.server.start()
    hook.restarted()
    (delivered,) = hook.settled(1)
    assert delivered["attempts"] == 1
    assert by_delivery(hook) == {str(delivered["id"]): 1}


def test_the_dispatchers_assignment_reaches_the_app_at_once_not_by_the_poll(
    hooks: HookFactory,
) -> None:
    # With a poll this slow, only the broker's notice can bring the assignment in time.
    hook = hooks(webhook_poll_seconds=30.0)
    agent = hook.server.staff("assigned-agent", display_name="Lee")
    go_online(agent)
    hook.say("user-9", "hello, what is this thing")
    hook.say("user-9", "still nothing useful at all")  # the second miss hands off

    def joined() -> bool:
        return any(r.body["event"] == "agent.joined" for r in hook.receiver.events())

    wait_until(joined, 8, "the assignment to reach the app")
