"""The authorisation matrix: every route and socket of the app, tried by every actor.

The routes come from the app itself; the policy from ``tests/authz_matrix.py``, where a route
without an entry fails ``test_every_route_has_an_entry``. One live server per database; A's
conversation, ticket and the rest are made through the real API. ``-s`` prints the counts
(BENCHMARKS.md, "Authorisation matrix").
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from core.auth import COOKIE
from core.settings import Settings
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.authz_matrix import ACTORS, MATRIX, STAFF, Entry
from tests.conftest import PASSWORD, fresh_database
from tests.live import LiveServer, serve

DENIED = frozenset({401, 403, 404})
REFUSED = frozenset({401, 403})
# Error codes a socket gives for a refusal on authority (as 401/403/404 are on REST).
SOCKET_REFUSALS = frozenset({"unauthenticated", "forbidden", "invalid_token", "not_found"})
USERS = {
    "owner": ("agent", ["support"]),
    "teammate": ("agent", ["support"]),
    "outsider": ("agent", ["billing"]),
    "supervisor": ("supervisor", ["support"]),
    "admin": ("admin", ["support"]),
}


def route_keys(app: FastAPI) -> set[str]:
    """``METHOD /path`` for every REST route and ``WS /path`` for every socket of the app."""
    keys: set[str] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            keys.update(f"{method} {context.path}" for method in context.methods or ())
        elif isinstance(route, APIWebSocketRoute):
            keys.add(f"WS {context.path}")
    return keys


def test_every_route_has_an_entry(tmp_path: Path, embedder: SentenceEmbedder) -> None:
    settings = Settings(
        data_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'k.db'}", _env_file=None
    )
    app = create_app(settings, embedder=embedder)
    app.state.engine.dispose()
    keys = route_keys(app)
    sockets = {k for k in keys if k.startswith("WS ")}
    missing = sorted(keys - MATRIX.keys())
    assert not missing, (
        "routes without an authorisation policy: add an entry for each to MATRIX in "
        f"tests/authz_matrix.py (who may use it): {missing}"
    )
    stale = sorted(
        k for k in MATRIX if k not in keys and not any(k.startswith(f"{s} ") for s in sockets)
    )
    assert not stale, f"entries in tests/authz_matrix.py for routes that no longer exist: {stale}"


# -- the world the actors act on ----------------------------------------------------------------


@dataclass
class Credentials:
    cookie: str
    csrf: str


class Matrix:
    """The live server, its staff, customer B, and a plain HTTP client that keeps no cookies."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = server.http()
        self.serial = itertools.count(1)
        setup = server.admin()
        self.setup = setup
        for actor, (role, teams) in USERS.items():
            self._create(_username(actor), role, teams=teams, max_chats=50)
        for name in ("target", "victim", "login", "second-step"):
            self._create(f"m-{name}", "agent", teams=["support"])
        self.staff = {actor: self.log_in(_username(actor)) for actor in STAFF}
        for actor in ("owner", "teammate", "outsider"):
            self.call("PUT", "/api/agent/me/presence", actor, json={"presence": "online"})
        self.recovery_codes = self._enrol("m-second-step")
        self.victim_session = self._session_of("m-victim")
        self.customer_b = self.start_conversation()[1]
        self.job_id = self._ok(setup.post("/api/admin/kb/reindex-jobs"))["id"]

    def _create(self, username: str, role: str, **profile: Any) -> None:
        body = {"username": username, "password": PASSWORD, "role": role, **profile}
        self._ok(self.setup.post("/api/admin/users", json=body))

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def log_in(self, username: str) -> Credentials:
        self.http.cookies.clear()
        response = self.http.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        body = self._ok(response)
        cookie = response.cookies[COOKIE]
        self.http.cookies.clear()
        return Credentials(cookie, body["csrf_token"])

    def _enrol(self, username: str) -> list[str]:
        """Two-step sign-in on for ``username``; its recovery codes, one per second step."""
        credentials = self.log_in(username)
        secret = self.call("POST", "/api/auth/mfa/setup", credentials).json()["secret"]
        code = pyotp.TOTP(secret).now()
        confirmed = self.call("POST", "/api/auth/mfa/confirm", credentials, json={"code": code})
        codes: list[str] = self._ok(confirmed)["recovery_codes"]
        return codes

    def _session_of(self, username: str) -> str:
        sessions = self.call("GET", "/api/auth/sessions", self.log_in(username)).json()["sessions"]
        session_id: str = sessions[0]["id"]
        return session_id

    def start_conversation(self) -> tuple[str, str]:
        body = self._ok(self.http.post("/api/chat/conversations", json={"language": "en"}))
        return body["conversation_id"], body["token"]

    def headers(self, who: str | Credentials, world: World) -> dict[str, str]:
        if isinstance(who, Credentials):
            return {"Cookie": f"{COOKIE}={who.cookie}", "X-CSRF-Token": who.csrf}
        if who == "customer_a":
            return {"Authorization": f"Bearer {world.conversation[1]}"}
        if who == "customer_b":
            return {"Authorization": f"Bearer {self.customer_b}"}
        if who in self.staff:
            return self.headers(self.staff[who], world)
        return {}

    def call(
        self, method: str, path: str, who: str | Credentials, world: World | None = None, **kw: Any
    ) -> httpx.Response:
        self.http.cookies.clear()
        headers = self.headers(who, world or World(self))
        response = self.http.request(method, path, headers=headers, **kw)
        self.http.cookies.clear()
        return response


class World:
    """A's conversation (escalated, claimed by ``owner``) and the other things routes name,
    each made through the API the first time a route needs it."""

    def __init__(self, matrix: Matrix) -> None:
        self.m = matrix
        self._made: dict[str, str] = {}

    @cached_property
    def conversation(self) -> tuple[str, str]:
        conversation_id, token = self.m.start_conversation()
        bearer = {"Authorization": f"Bearer {token}"}
        path = f"/api/chat/conversations/{conversation_id}/handoff"
        self.m._ok(self.m.http.post(path, headers=bearer))
        return conversation_id, token

    @cached_property
    def ticket_id(self) -> int:
        conversation_id = self.conversation[0]
        queue = self.m.call("GET", "/api/agent/tickets", "owner", self, params={"view": "queue"})
        found = [t for t in queue.json()["tickets"] if t["conversation_id"] == conversation_id]
        assert len(found) == 1, queue.text
        ticket_id: int = found[0]["id"]
        self.m._ok(self.m.call("POST", f"/api/agent/tickets/{ticket_id}/claim", "owner", self))
        return ticket_id

    def value(self, name: str) -> str:
        """A path parameter of A's world, made the first time it is asked for."""
        if name not in self._made:
            self._made[name] = self._make(name)
        return self._made[name]

    def _make(self, name: str) -> str:
        m = self.m
        if name == "conversation_id":
            self.ticket_id  # noqa: B018 - A's chat is claimed before anyone acts on it
            return self.conversation[0]
        if name == "ticket_id":
            return str(self.ticket_id)
        if name == "seq":
            return "1"  # A's first message
        if name == "username":
            return "m-target"
        if name == "session_id":
            return m.victim_session
        if name == "job_id":
            return str(m.job_id)
        if name == "seq":
            return "1"
        if name == "version":
            return "no-such-version"
        if name == "order_number":
            return "SO123456"  # the demo store's order API serves anyone
        if name == "channel_id":
            channel = {"name": f"matrix-channel-{next(m.serial)}", "kind": "api"}
            return str(m._ok(m.setup.post("/api/admin/channels", json=channel))["id"])
        if name == "delivery_id":
            return "999999"  # none: the admin's replay or read is a 404, never a 401 or 403
        if name == "contact_id":
            return "no-such-contact"  # the channel routes' {name} names no channel anyway
        if name == "open_id":
            return "o-no-such-openid"  # {name} names no WeChat channel: 404 for the admin
        if name == "link_token":
            return "no-such-follow-up-link-token"  # a follow-up link names none of A's world
        if name == "canned_id":
            return str(m._ok(m.setup.post("/api/agent/canned", json=self.body("canned")))["id"])
        if name == "complaint_id":
            path = f"/api/agent/tickets/{self.ticket_id}/complaint"
            made = m.setup.post(path, json={"level": "normal"})
            if made.status_code == 201:
                return str(made.json()["id"])
            found = m._ok(
                m.setup.get(
                    "/api/agent/complaints",
                    params={"conversation_id": self.value("conversation_id"), "status": "all"},
                )
            )
            return str(found["complaints"][0]["id"])
        if name == "review_id":
            return self._review_of_owner()
        if name == "phrase_id":
            phrase = self.body("service_phrase")
            return str(m._ok(m.setup.post("/api/agent/service-language", json=phrase))["id"])
        if name == "entry_id":
            faq = {"question": f"Question {next(m.serial)}?", "answer": "An answer."}
            return str(m._ok(m.setup.post("/api/admin/kb/faqs", json=faq))["id"])
        if name == "name":
            return str(
                m._ok(m.setup.post("/api/admin/kb/intents", json=self.body("new_intent")))["name"]
            )
        raise AssertionError(f"no value for the path parameter {name!r}: add one to World.value")

    def _review_of_owner(self) -> str:
        """A pending quality review of a chat of its own that ``owner`` took and closed."""
        m = self.m
        conversation_id, token = m.start_conversation()
        bearer = {"Authorization": f"Bearer {token}"}
        m._ok(m.http.post(f"/api/chat/conversations/{conversation_id}/handoff", headers=bearer))
        queue = m.call("GET", "/api/agent/tickets", "owner", self, params={"view": "queue"})
        ticket = next(t for t in queue.json()["tickets"] if t["conversation_id"] == conversation_id)
        for action in ("claim", "close"):
            m._ok(m.call("POST", f"/api/agent/tickets/{ticket['id']}/{action}", "owner", self))
        sample = {"agent": _username("owner"), "size": 50}
        m._ok(m.setup.post("/api/agent/quality/samples", json=sample))
        listed = m.setup.get("/api/agent/quality/reviews", params={"status": "all"})
        reviews = m._ok(listed)["reviews"]
        return str(next(r["id"] for r in reviews if r["conversation_id"] == conversation_id))

    def body(self, name: str) -> Any:
        n = next(self.m.serial)
        if name == "login":
            return {"username": "m-login", "password": PASSWORD}
        if name == "second_step":
            first = self.m.http.post(
                "/api/auth/login", json={"username": "m-second-step", "password": PASSWORD}
            )
            return {
                "challenge": self.m._ok(first)["challenge"],
                "code": self.m.recovery_codes.pop(),
            }
        if name == "mfa_disable":
            return {"password": PASSWORD, "code": "000000"}
        if name == "canned":
            return {"shortcut": f"c{n}", "title": "Hello", "text": "Hello {name}"}
        if name == "service_phrase":
            return {"phrase": f"matrix phrase {n}", "alternatives": ["kinder words"]}
        if name == "new_user":
            return {"username": f"m-new-{n}", "password": PASSWORD, "role": "agent"}
        if name == "new_intent":
            return {"name": f"matrix_intent_{n}", "description": "made by the matrix"}
        raise AssertionError(f"no body named {name!r}: add it to World.body")


# -- attempts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    route: str
    actor: str
    allowed: bool
    outcome: str  # the HTTP status, or the socket's first answer

    @property
    def leak(self) -> bool:
        if self.allowed:
            return False
        return (self.outcome.isdigit() and int(self.outcome) not in DENIED) or (
            not self.outcome.isdigit() and not self.outcome.startswith("refused")
        )

    @property
    def wrongly_refused(self) -> bool:
        if not self.allowed:
            return False
        return (self.outcome.isdigit() and int(self.outcome) in REFUSED) or (
            not self.outcome.isdigit() and self.outcome.startswith("refused")
        )


class Runner:
    def __init__(self, matrix: Matrix) -> None:
        self.m = matrix
        self.world = World(matrix)
        self.attempts: list[Attempt] = []
        # A world of its own for each route that changes it, renewed after each success.
        self.fresh: dict[str, World] = {}

    def run(self, routes: set[str]) -> list[Attempt]:
        for key in sorted(routes):
            entry = MATRIX[key]
            if key.startswith("WS "):
                self._socket_route(key)
                continue
            for actor in ACTORS:
                self.attempts.append(self._rest(key, entry, actor))
        return self.attempts

    def _rest(self, key: str, entry: Entry, actor: str) -> Attempt:
        method, template = key.split(" ", 1)
        world = self.fresh.setdefault(key, World(self.m)) if entry.fresh else self.world
        path = re.sub(r"\{(\w+)\}", lambda found: world.value(found.group(1)), template)
        who: str | Credentials = actor
        if entry.own_session and actor in self.m.staff:
            who = self.m.log_in(_username(actor))
        kwargs: dict[str, Any] = {"params": entry.params}
        if entry.files is not None:
            kwargs["files"] = entry.files
        elif entry.body is not None:
            kwargs["json"] = world.body(entry.body) if isinstance(entry.body, str) else entry.body
        response = self.m.call(method, path, who, world, **kwargs)
        if entry.own_session and actor in self.m.staff:
            # Signing out everywhere else ended the actor's usual session too.
            self.m.staff[actor] = self.m.log_in(_username(actor))
        if entry.fresh and response.status_code < 300:
            self.fresh[key] = World(self.m)
        return Attempt(key, actor, actor in entry.allowed, str(response.status_code))

    def _socket_route(self, key: str) -> None:
        if key == "WS /api/chat/ws":
            for actor in ACTORS:
                self.attempts.append(self._chat_socket(actor))
        elif key == "WS /api/agent/ws":
            for actor in ACTORS:
                self.attempts.extend(self._agent_socket(actor))
        elif key.startswith("WS /api/agent/ws "):
            return  # the frames, tried by _agent_socket
        elif key == "WS /api/supervisor/wall/ws":
            for actor in ACTORS:
                self.attempts.append(self._wall_socket(actor))
        else:
            raise AssertionError(f"no way to try the socket {key}: add one to Runner")

    def _chat_socket(self, actor: str) -> Attempt:
        conversation_id, a_token = self.world.conversation
        token = {"customer_a": a_token, "customer_b": self.m.customer_b}.get(actor)
        offered = [Subprotocol("kefu.v1")]
        if token:
            offered.append(Subprotocol(f"kefu.token.{token}"))
        url = f"{_ws(self.m.server)}/api/chat/ws?conversation_id={conversation_id}"
        with connect(url, subprotocols=offered, additional_headers=self._cookie(actor)) as ws:
            outcome = _answer(ws, {"ready"})
            if outcome == "ready":
                _drain(ws)
        return Attempt(
            "WS /api/chat/ws", actor, actor in MATRIX["WS /api/chat/ws"].allowed, outcome
        )

    def _agent_socket(self, actor: str) -> list[Attempt]:
        key = "WS /api/agent/ws"
        headers = {**self._cookie(actor), "Origin": self.m.server.url}
        conversation_id, ticket_id = self.world.conversation[0], self.world.ticket_id
        with connect(f"{_ws(self.m.server)}/api/agent/ws", additional_headers=headers) as ws:
            opened = _answer(ws, {"ready"})
            attempts = [Attempt(key, actor, actor in MATRIX[key].allowed, opened)]
            frames = {
                "subscribe": ({"conversation_id": conversation_id, "last_seq": 0}, "subscribed"),
                "message": (
                    {"ticket_id": ticket_id, "text": "hi", "client_id": f"m{actor}"},
                    "ack",
                ),
            }
            for frame, (fields, success) in frames.items():
                outcome = opened
                if opened == "ready":
                    ws.send(json.dumps({"type": frame, **fields}))
                    outcome = _answer(ws, {success})
                name = f"{key} {frame}"
                attempts.append(Attempt(name, actor, actor in MATRIX[name].allowed, outcome))
        return attempts

    def _wall_socket(self, actor: str) -> Attempt:
        key = "WS /api/supervisor/wall/ws"
        headers = {**self._cookie(actor), "Origin": self.m.server.url}
        with connect(f"{_ws(self.m.server)}{key[3:]}", additional_headers=headers) as ws:
            outcome = _answer(ws, {"wall"})
        return Attempt(key, actor, actor in MATRIX[key].allowed, outcome)

    def _cookie(self, actor: str) -> dict[str, str]:
        if actor not in self.m.staff:
            return {}
        return {"Cookie": f"{COOKIE}={self.m.staff[actor].cookie}"}


def _username(actor: str) -> str:
    return f"m-{actor}"


def _ws(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://")


def _drain(ws: ClientConnection) -> None:
    """Read the replay to its end, so the socket closes between frames rather than in one."""
    with contextlib.suppress(TimeoutError):
        while True:
            ws.recv(timeout=0.3)


def _answer(ws: ClientConnection, success: set[str]) -> str:
    """The success frame's type, or ``refused <code>`` for an error frame (or a close)."""
    try:
        while True:
            frame = json.loads(ws.recv(timeout=10))
            kind = frame.get("type")
            if kind in success:
                return str(kind)
            if kind == "error":
                code = frame.get("code")
                return f"refused {code}" if code in SOCKET_REFUSALS else f"error {code}"
    except ConnectionClosed as closed:
        return f"refused close {closed.rcvd.code if closed.rcvd else ''}"


# -- the server, one per database ---------------------------------------------------------------


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def matrix(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    embedder: SentenceEmbedder,
) -> Iterator[Matrix]:
    root = tmp_path_factory.mktemp("authz")
    with fresh_database(request.param, root) as url:
        settings = Settings(
            data_dir=root / "var",
            database_url=url,
            assignment="pull",
            handoff_tick_seconds=0.5,
            _env_file=None,
        )
        with serve(settings, embedder) as server:
            yield Matrix(server)


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder) -> set[str]:
    root = tmp_path_factory.mktemp("routes")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'k.db'}", _env_file=None
    )
    app = create_app(settings, embedder=embedder)
    app.state.engine.dispose()
    sockets = {k for k in route_keys(app) if k.startswith("WS ")}
    frames = {k for k in MATRIX if any(k.startswith(f"{s} ") for s in sockets)}
    return route_keys(app) | frames


def test_every_actor_gets_exactly_what_the_policy_allows(
    matrix: Matrix, app_routes: set[str], request: pytest.FixtureRequest
) -> None:
    covered = app_routes & MATRIX.keys()
    started = time.monotonic()
    attempts = Runner(matrix).run(covered)
    seconds = time.monotonic() - started
    leaks = [a for a in attempts if a.leak]
    refused = [a for a in attempts if a.wrongly_refused]
    succeeded = sum(
        1
        for a in attempts
        if a.allowed and a.outcome.startswith(("2", "ready", "subscribed", "ack", "wall"))
    )
    sockets = {k for k in covered if k.startswith("WS ") and k.count(" ") == 1}
    frames = {k for k in covered if k.startswith("WS ")} - sockets
    database = request.node.callspec.params["matrix"]
    print(
        f"\nauthorisation matrix ({database}): {len(attempts)} attempts: "
        f"{len(covered) - len(sockets) - len(frames)} REST routes, {len(sockets)} sockets and "
        f"{len(frames)} socket frames, by {len(ACTORS)} actors, in {seconds:.1f} s; "
        f"{sum(a.allowed for a in attempts)} allowed ({succeeded} answered 2xx or accepted), "
        f"{sum(not a.allowed for a in attempts)} denied; leaks found: {len(leaks)}; "
        f"allowed but refused: {len(refused)}"
    )
    assert not leaks, "\n".join(f"LEAK {a.route} as {a.actor}: {a.outcome}" for a in leaks)
    assert not refused, "\n".join(f"refused {a.route} as {a.actor}: {a.outcome}" for a in refused)


# -- holes the matrix's policy closes, each shown on its own ----------------------------------


def _code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def _profile(matrix: Matrix, username: str) -> dict[str, Any]:
    agents = matrix.call("GET", "/api/agent/agents", "admin").json()["agents"]
    found: dict[str, Any] = next(a for a in agents if a["username"] == username)
    return found


def test_a_supervisor_changes_agents_profiles_but_not_admins_or_other_supervisors(
    matrix: Matrix,
) -> None:
    peer = f"m-peer-{next(matrix.serial)}"
    matrix._create(peer, "supervisor", teams=["support"])
    change = {"teams": ["billing"], "max_chats": 1}
    for target in ("m-admin", peer):
        before = _profile(matrix, target)
        refused = matrix.call("PUT", f"/api/agent/agents/{target}", "supervisor", json=change)
        assert refused.status_code == 403, refused.text
        assert _code(refused) == "not_an_agent"
        assert _profile(matrix, target) == before
    for target in ("m-target", "m-supervisor"):  # an agent, and the supervisor's own profile
        changed = matrix.call("PUT", f"/api/agent/agents/{target}", "supervisor", json=change)
        assert changed.status_code == 200, changed.text
        assert changed.json()["teams"] == ["billing"]
        restore = {"teams": ["support"], "max_chats": 50}
        matrix.call("PUT", f"/api/agent/agents/{target}", "admin", json=restore).raise_for_status()
    by_admin = matrix.call("PUT", f"/api/agent/agents/{peer}", "admin", json=change)
    assert by_admin.status_code == 200, by_admin.text


def test_a_chat_goes_only_to_an_enabled_member_or_a_team_that_exists(matrix: Matrix) -> None:
    world = World(matrix)
    ticket_id, conversation_id = world.ticket_id, world.conversation[0]
    gone = f"m-gone-{next(matrix.serial)}"
    matrix._create(gone, "agent", teams=["support"])
    matrix._ok(matrix.setup.patch(f"/api/admin/users/{gone}", json={"disabled": True}))
    events = f"/api/agent/conversations/{conversation_id}/events"
    before = matrix.call("GET", events, "owner").json()["events"]
    transfer = f"/api/agent/tickets/{ticket_id}/transfer"
    for body, status, code in (
        ({"to_agent": gone, "note": "over to you"}, 422, "agent_disabled"),
        ({"to_agent": "m-nobody", "note": "over to you"}, 404, "unknown_agent"),
        ({"to_team": "nowhere", "note": "over to you"}, 404, "unknown_team"),
    ):
        refused = matrix.call("POST", transfer, "owner", json=body)
        assert refused.status_code == status, refused.text
        assert _code(refused) == code
    ticket = matrix.call("GET", f"/api/agent/tickets/{ticket_id}", "owner").json()["ticket"]
    assert (ticket["status"], ticket["agent"]["username"], ticket["team"]) == (
        "active",
        "m-owner",
        "support",
    )
    assert matrix.call("GET", events, "owner").json()["events"] == before
    moved = matrix.call("POST", transfer, "owner", json={"to_team": "billing"})
    assert moved.status_code == 200, moved.text


def test_lists_show_an_agent_only_their_teams_tickets(matrix: Matrix) -> None:
    world = World(matrix)
    ticket_id = world.ticket_id
    for view in ("queue", "mine", "offline", "closed"):
        listed = matrix.call("GET", "/api/agent/tickets", "outsider", params={"view": view})
        assert ticket_id not in [t["id"] for t in listed.json()["tickets"]]
    for actor in ("owner", "supervisor", "admin"):
        mine = matrix.call("GET", "/api/agent/tickets", actor, params={"view": "mine"}).json()
        assert (ticket_id in [t["id"] for t in mine["tickets"]]) == (actor == "owner")


def test_staff_see_each_others_desk_profiles_but_not_how_their_accounts_are_secured(
    matrix: Matrix,
) -> None:
    for actor in ("outsider", "supervisor", "admin"):
        agents = matrix.call("GET", "/api/agent/agents", actor).json()["agents"]
        admin = next(a for a in agents if a["username"] == "m-admin")
        assert admin["role"] == "admin"
        assert "mfa_enabled" not in admin
        assert "must_change_password" not in admin
    users = matrix.call("GET", "/api/admin/users", "admin").json()["users"]
    assert "mfa_enabled" in next(u for u in users if u["username"] == "m-admin")
