"""E-mail continuity (docs/channels.md, "E-mail"): replies by mail, answers by mail, kill -9.

Runs ``kefu serve`` in a subprocess on loopback (kill_restart.Server) with a real aiosmtpd relay
in this process (tests/handoff/mail_relay.py, each mail's arrival timed) and the server's own
SMTP listener taking the customers' answers. Setup: ``--conversations`` customers with distinct
addresses ask for a person and their widgets read the hand-over; agents made through the admin
API claim the tickets. The setup runs on a first start whose mail delay is an hour (so no
hand-over message can be mailed in the moment before a widget reads it); the server then
restarts with ``--delay``. Three phases:

1. Outbound: an agent replies once in each conversation, no widget open: time from the reply's
   commit (its ``created_at``) to the mail reaching the relay; mails against replies.
2. Inbound: each customer answers their mail's Reply-To by SMTP (from their address, above a
   quoted block): the DATA round trip (until the 250), the time from DATA until the agent's
   transcript (agent REST API) shows the message, and messages stored against mails sent.
3. Crash: a thread (``--senders`` threads) keeps answering by mail (a new Message-ID each)
   while the server is killed (-9) and restarted ``--cycles`` times; after each restart the
   mails that got no 250 are sent again with their Message-ID, as a relay would. Lost:
   acknowledged and not stored; doubled: stored twice.

The dispatcher's leader runs the mail sweep only when it wakes: on its tick
(``KEFU_HANDOFF_TICK_SECONDS``, ``--tick``; the server's default unless given) or on queue
activity (an agent's message is none), so a sweep interval below the tick is not reached while
the desk is quiet; each pass sends batches of 20 until one is not full.

    PYTHONPATH=. .venv/bin/python benchmarks/email_continuity.py
    PYTHONPATH=. .venv/bin/python benchmarks/email_continuity.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test \
        --broker-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import secrets
import shlex
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

# The same ``kefu serve`` child as the kill-and-restart benchmark (benchmarks/ is on the path).
from kill_restart import KEFU, Server, admin_session
from sqlalchemy import create_engine, text

from core.rate_limits import no_limits_env
from core.settings import Settings
from tests.handoff.mail_relay import Relay

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "reply.bench.example"
SENDER = "care@shop.example"
REPLY_TO = re.compile(rf"reply\+[0-9a-f]{{32}}@{re.escape(DOMAIN)}")
MAX_CHATS = 50  # the most concurrent chats an agent may have (handoff/agents.py)
SETUP_DELAY = 3600.0


class TimedRelay(Relay):
    """The test suite's relay, with each accepted mail's arrival time (``time.time()``)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        self.arrived.append(time.time())
        return answer


@dataclass
class Agent:
    username: str
    password: str
    http: httpx.Client | None = None

    def log_in(self, url: str) -> httpx.Client:
        client = httpx.Client(base_url=url, timeout=30)
        login = client.post(
            "/api/auth/login", json={"username": self.username, "password": self.password}
        )
        login.raise_for_status()
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        self.http = client
        return client

    @property
    def client(self) -> httpx.Client:
        assert self.http is not None
        return self.http


@dataclass
class Chat:
    """One customer who left an address, and what the benchmark learned of their chat."""

    n: int
    conversation_id: str
    token: str
    email: str
    agent: Agent
    ticket: int = 0
    reply_seq: int = 0
    reply_text: str = ""
    reply_at: float = 0.0  # the reply event's created_at, epoch seconds
    reply_to: str = ""  # the Reply-To of the mail that carried it
    mail_body: str = ""

    def transcript(self, after: int = 0) -> list[dict[str, Any]]:
        """The agent's view of the conversation (does not move what the customer saw)."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.agent.client.get(
                f"/api/agent/conversations/{self.conversation_id}/events", params={"after": after}
            )
            page.raise_for_status()
            body = page.json()
            found.extend(body["events"])
            if not body["has_more"] or not body["events"]:
                return found
            after = body["events"][-1]["seq"]

    def customer_texts(self, after: int = 0) -> list[str]:
        return [
            str(e["payload"].get("text", ""))
            for e in self.transcript(after)
            if e["author"] == "customer" and e["type"] == "message"
        ]


@dataclass
class Answer:
    """One mail a customer sent in the crash phase."""

    chat: Chat
    text: str
    raw: bytes
    acked: bool = False
    acked_on_resend: bool = False
    stored_before_resend: bool = False
    codes: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 1000:.0f} ms"


def body_of(message: EmailMessage) -> str:
    plain = message.get_body(("plain",))
    if not isinstance(plain, EmailMessage):
        return ""
    content = plain.get_content()
    return content if isinstance(content, str) else ""


def answer_mail(chat: Chat, words: str, *, quote: bool) -> bytes:
    """The customer's mail program answering the mail: their address, the Reply-To, a new
    Message-ID, the text above the quoted mail."""
    message = EmailMessage()
    message["From"] = f"Customer {chat.n} <{chat.email}>"
    message["To"] = chat.reply_to
    message["Subject"] = "Re: Re: your conversation with us"
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="mail.bench.example")
    body = words + "\n"
    if quote:
        body += f"\nOn {formatdate()}, Customer service <{SENDER}> wrote:\n" + "".join(
            f"> {line}\n" for line in chat.mail_body.splitlines()
        )
    message.set_content(body)
    return message.as_bytes()


def deliver(listen: tuple[str, int], chat: Chat, raw: bytes) -> tuple[str, float]:
    """One SMTP transaction to the server's listener: the code that ended it ("250", "451",
    or the exception's name when the connection failed) and the DATA round trip in seconds."""
    try:
        with smtplib.SMTP(*listen, timeout=30) as smtp:
            smtp.ehlo()
            code, _ = smtp.mail(chat.email)
            if code != 250:
                return str(code), float("nan")
            code, _ = smtp.rcpt(chat.reply_to)
            if code != 250:
                return str(code), float("nan")
            started = time.perf_counter()
            try:
                code, _ = smtp.data(raw)
            except smtplib.SMTPResponseException as refused:
                return str(refused.smtp_code), float("nan")
            took = time.perf_counter() - started
            return str(code), took
    except (OSError, smtplib.SMTPException) as exc:
        return type(exc).__name__, float("nan")


# -- setup -------------------------------------------------------------------------------------


def set_up(server: Server, url: str, n: int) -> list[Chat]:
    admin = admin_session(server, url)
    agents: list[Agent] = []
    for a in range(math.ceil(n / MAX_CHATS)):
        agent = Agent(f"bench-agent-{a}", secrets.token_urlsafe(16))
        made = admin.post(
            "/api/admin/users",
            json={
                "username": agent.username,
                "password": agent.password,
                "role": "agent",
                "display_name": f"Agent {a}",
                "max_chats": MAX_CHATS,
            },
        )
        assert made.status_code == 201, made.text
        agent.log_in(server.url)
        online = agent.client.put("/api/agent/me/presence", json={"presence": "online"})
        assert online.status_code == 200, online.text
        agents.append(agent)
    chats: list[Chat] = []
    for i in range(n):
        email = f"customer{i}@mail.bench.example"
        started = httpx.post(
            f"{server.url}/api/chat/conversations",
            json={"language": "en", "name": f"Customer {i}", "email": email},
            timeout=30,
        )
        assert started.status_code in (200, 201), started.text
        body = started.json()
        chat = Chat(i, body["conversation_id"], body["token"], email, agents[i // MAX_CHATS])
        auth = {"Authorization": f"Bearer {chat.token}"}
        base = f"{server.url}/api/chat/conversations/{chat.conversation_id}"
        asked = httpx.post(f"{base}/handoff", headers=auth, timeout=30)
        assert asked.status_code == 200, asked.text
        # The widget shows the hand-over; then the customer closes the page.
        read = httpx.get(f"{base}/events", headers=auth, timeout=30)
        assert read.status_code == 200, read.text
        chats.append(chat)
    queue = agents[0].client.get("/api/agent/tickets", params={"view": "queue"})
    assert queue.status_code == 200, queue.text
    ticket_of = {t["conversation_id"]: t["id"] for t in queue.json()["tickets"]}
    for chat in chats:
        chat.ticket = ticket_of[chat.conversation_id]
        claimed = chat.agent.client.post(f"/api/agent/tickets/{chat.ticket}/claim")
        assert claimed.status_code == 200, claimed.text
    return chats


def log_in_again(server: Server, chats: list[Chat]) -> None:
    for agent in {id(c.agent): c.agent for c in chats}.values():
        agent.log_in(server.url)


# -- 1. outbound -------------------------------------------------------------------------------


@dataclass
class Outbound:
    replies: int = 0
    mails: int = 0
    once: int = 0
    missing: int = 0
    doubled: int = 0
    wrong: int = 0  # a mail that is not the reply's (Message-ID, text or Reply-To)
    latencies: list[float] = field(default_factory=list)


def outbound(relay: TimedRelay, chats: list[Chat], delay: float, settle: float) -> Outbound:
    start = len(relay.messages)
    result = Outbound()
    for chat in chats:
        chat.reply_text = f"Hello customer {chat.n}, your parcel left our warehouse this morning."
        said = chat.agent.client.post(
            f"/api/agent/tickets/{chat.ticket}/messages", json={"text": chat.reply_text}
        )
        assert said.status_code == 201, said.text
        event = said.json()["event"]
        chat.reply_seq = int(event["seq"])
        chat.reply_at = datetime.fromisoformat(event["created_at"]).timestamp()
        result.replies += 1
    addresses = {c.email for c in chats}

    def ours() -> list[tuple[EmailMessage, float]]:
        got = list(zip(relay.messages[start:], relay.arrived[start:], strict=False))
        return [(m, at) for m, at in got if parseaddr(str(m["To"]))[1] in addresses]

    deadline = time.monotonic() + delay + 180
    while len(ours()) < len(chats) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(settle)  # a second mail for any conversation would be sent by now
    by_address: dict[str, list[tuple[EmailMessage, float]]] = {}
    for message, at in ours():
        by_address.setdefault(parseaddr(str(message["To"]))[1], []).append((message, at))
        result.mails += 1
    for chat in chats:
        got = by_address.get(chat.email, [])
        if not got:
            result.missing += 1
            continue
        result.doubled += len(got) - 1
        message, at = got[0]
        chat.mail_body = body_of(message)
        chat.reply_to = parseaddr(str(message["Reply-To"]))[1]
        expected_id = f"<kefu.{chat.conversation_id}.{chat.reply_seq}@{DOMAIN}>"
        if (
            message["Message-ID"] != expected_id
            or chat.reply_text not in chat.mail_body
            or not REPLY_TO.fullmatch(chat.reply_to)
        ):
            result.wrong += 1
            continue
        result.once += len(got) == 1
        result.latencies.append(at - chat.reply_at)
    return result


# -- 2. inbound --------------------------------------------------------------------------------


@dataclass
class Inbound:
    sent: int = 0
    acked: int = 0
    stored_once: int = 0
    missing: int = 0
    doubled: int = 0
    quote_kept: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    data: list[float] = field(default_factory=list)
    visible: list[float] = field(default_factory=list)


def inbound(listen: tuple[str, int], chats: list[Chat]) -> Inbound:
    result = Inbound()
    for chat in chats:
        if not chat.reply_to:
            continue
        words = f"Thanks, the parcel of customer {chat.n} arrived today."
        raw = answer_mail(chat, words, quote=True)
        started = time.perf_counter()
        code, took = deliver(listen, chat, raw)
        result.sent += 1
        if code != "250":
            result.refused[code] += 1
            continue
        result.acked += 1
        result.data.append(took)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if words in chat.customer_texts(after=chat.reply_seq):
                result.visible.append(time.perf_counter() - started)
                break
            time.sleep(0.005)
    for chat in chats:
        if not chat.reply_to:
            continue
        words = f"Thanks, the parcel of customer {chat.n} arrived today."
        texts = chat.customer_texts(after=chat.reply_seq)
        mine = [t for t in texts if f"customer {chat.n} arrived" in t]
        result.quote_kept += sum(t != words for t in mine)
        count = sum(t == words for t in mine)
        if count == 0:
            result.missing += 1
        elif count == 1:
            result.stored_once += 1
        else:
            result.doubled += count - 1
    return result


# -- 3. kill -9 while answers arrive -----------------------------------------------------------


@dataclass
class Crash:
    kills: int = 0
    sent: int = 0
    acked_first: int = 0
    unacked: int = 0
    stored_before_resend: int = 0
    acked_on_resend: int = 0
    never_acked: int = 0
    lost: int = 0
    doubled: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    restarts: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


def _keep_answering(
    listen: tuple[str, int],
    chats: list[Chat],
    tag: str,
    sent: list[Answer],
    flowing: threading.Event,
) -> None:
    k = 0
    while flowing.is_set():
        chat = chats[k % len(chats)]
        words = f"Answer {k} of sender {tag} from customer {chat.n}, sent during the crash test."
        answer = Answer(chat, words, answer_mail(chat, words, quote=False))
        code, _ = deliver(listen, chat, answer.raw)
        answer.codes.append(code)
        answer.acked = code == "250"
        sent.append(answer)
        if not answer.acked:
            time.sleep(0.05)  # the server is down: do not spin
        k += 1


def resend(listen: tuple[str, int], pending: list[Answer], crash: Crash) -> None:
    """As a relay would: every mail that got no 250, again with its Message-ID, until a 250."""
    for answer in pending:
        for _ in range(20):
            code, _ = deliver(listen, answer.chat, answer.raw)
            answer.codes.append(code)
            if code == "250":
                answer.acked = answer.acked_on_resend = True
                break
            time.sleep(0.5)
    crash.acked_on_resend += sum(a.acked_on_resend for a in pending)


def crash_phase(
    env: dict[str, str],
    workdir: Path,
    server: Server,
    listen: tuple[str, int],
    chats: list[Chat],
    cycles: int,
    senders: int,
    rng: random.Random,
) -> tuple[Server, Crash]:
    crash = Crash()
    sent: list[Answer] = []
    live = [c for c in chats if c.reply_to]
    for cycle in range(cycles):
        before = len(sent)
        flowing = threading.Event()
        flowing.set()
        threads = [
            threading.Thread(
                target=_keep_answering,
                args=(listen, live[t::senders], f"{cycle}.{t}", sent, flowing),
                daemon=True,
            )
            for t in range(senders)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(1.0, 3.0))
        server.kill()
        flowing_for = time.monotonic() - started
        crash.kills += 1
        flowing.clear()
        for thread in threads:
            thread.join()
        this_cycle = sent[before:]
        crash.rates.append(sum(a.acked for a in this_cycle) / flowing_for)
        restarting = time.monotonic()
        server = Server(env, workdir, int(server.url.rsplit(":", 1)[1]))
        crash.restarts.append(time.monotonic() - restarting)
        log_in_again(server, chats)
        pending = [a for a in this_cycle if not a.acked]
        touched = {id(a.chat): a.chat for a in pending}
        texts = {key: c.customer_texts(after=c.reply_seq) for key, c in touched.items()}
        for answer in pending:
            answer.stored_before_resend = answer.text in texts[id(answer.chat)]
        resend(listen, pending, crash)
    time.sleep(1.0)
    stored: dict[int, Counter[str]] = {id(c): Counter(c.customer_texts(c.reply_seq)) for c in live}
    for answer in sent:
        crash.sent += 1
        crash.outcomes[answer.codes[0]] += 1
        count = stored[id(answer.chat)][answer.text]
        if answer.codes[0] == "250":
            crash.acked_first += 1
        else:
            crash.unacked += 1
            crash.stored_before_resend += answer.stored_before_resend
        if not answer.acked:
            crash.never_acked += 1
        elif count == 0:
            crash.lost += 1
        if count > 1:
            crash.doubled += 1
    return server, crash


# -- the run -----------------------------------------------------------------------------------


def fresh_schema(url: str) -> tuple[str, str]:
    schema = f"bench_mail_{uuid.uuid4().hex[:8]}"
    with create_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema, f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def main() -> None:
    args = ARGS
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="kefu-email-"))
    schema, url = "", args.database_url or f"sqlite:///{workdir / 'kefu.db'}"
    if url.startswith("postgresql"):
        schema, url = fresh_schema(args.database_url)
    relay = TimedRelay()
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    listen = ("127.0.0.1", free_port())
    tick = args.tick or float(Settings.model_fields["handoff_tick_seconds"].default)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(no_limits_env())  # every simulated customer comes from one address
    env.update(
        PYTHONPATH=str(ROOT),
        KEFU_DATA_DIR=str(workdir / "var"),
        KEFU_DATABASE_URL=url,
        KEFU_BROKER_URL=args.broker_url,
        KEFU_HAN_EMBEDDING_MODEL="",
        KEFU_LOG_LEVEL="warning",
        KEFU_ASSIGNMENT="pull",
        KEFU_SMTP_URL=f"smtp://127.0.0.1:{controller.port}",
        KEFU_SMTP_FROM=SENDER,
        KEFU_INBOUND_MAIL_DOMAIN=DOMAIN,
        KEFU_INBOUND_SMTP_LISTEN=f"{listen[0]}:{listen[1]}",
        KEFU_MAIL_SWEEP_SECONDS=str(args.sweep),
        KEFU_CUSTOMER_REPLY_DELAY_SECONDS=str(args.delay),
    )
    if args.tick:
        env["KEFU_HANDOFF_TICK_SECONDS"] = str(args.tick)
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(
        f"backend {'postgresql' if schema else 'sqlite'}, broker {args.broker_url}; "
        f"{args.conversations} conversations; reply delay {args.delay:g} s, mail sweep "
        f"{args.sweep:g} s, dispatcher tick {tick:g} s{'' if args.tick else ' (default)'}; "
        f"{args.cycles} kills, {args.senders} sending thread(s); seed {args.seed}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    subprocess.run(  # noqa: S603
        [str(KEFU), "db", "upgrade"], env=env, cwd=workdir, check=True, capture_output=True
    )
    server: Server | None = None
    try:
        setup_env = {**env, "KEFU_CUSTOMER_REPLY_DELAY_SECONDS": str(SETUP_DELAY)}
        server = Server(setup_env, workdir, args.port)
        chats = set_up(server, url, args.conversations)
        server.stop()
        server = Server(env, workdir, args.port)
        log_in_again(server, chats)
        assert relay.messages == [], "a mail went out during the setup"

        settle = 2 * max(tick, args.sweep) + 1
        out = outbound(relay, chats, args.delay, settle)
        print(
            f"1. outbound: {out.replies} replies, {out.mails} mails to the customers "
            f"(exactly one: {out.once}, missing {out.missing}, doubled {out.doubled}, "
            f"not the reply's {out.wrong}); reply commit to relay p50 "
            f"{ms(percentile(out.latencies, 0.5))}, p95 {ms(percentile(out.latencies, 0.95))}, "
            f"max {ms(max(out.latencies, default=float('nan')))}"
        )

        if not any(c.reply_to for c in chats):
            print("2. and 3. skipped: no customer has a reply address (no mail came)")
            return

        into = inbound(listen, chats)
        print(
            f"2. inbound: {into.sent} answers sent, {into.acked} got 250 "
            f"(refused: {dict(into.refused) or 'none'}); stored exactly once {into.stored_once}, "
            f"missing {into.missing}, doubled {into.doubled}, stored with the quote "
            f"{into.quote_kept}; DATA to 250 p50 {ms(percentile(into.data, 0.5))}, p95 "
            f"{ms(percentile(into.data, 0.95))}; DATA to the agent's transcript p50 "
            f"{ms(percentile(into.visible, 0.5))}, p95 {ms(percentile(into.visible, 0.95))}"
        )

        server, crash = crash_phase(
            env, workdir, server, listen, chats, args.cycles, args.senders, rng
        )
        outcomes = ", ".join(f"{k} {v}" for k, v in crash.outcomes.most_common())
        print(
            f"3. crash: {crash.kills} x kill -9 while answering; {crash.sent} mails sent "
            f"({outcomes}); acknowledged at once {crash.acked_first}, not acknowledged "
            f"{crash.unacked} (already stored before the resend: {crash.stored_before_resend}; "
            f"250 on the resend: {crash.acked_on_resend}; never acknowledged: "
            f"{crash.never_acked}); lost {crash.lost}, doubled {crash.doubled}; "
            f"{statistics.mean(crash.rates):.1f} mails acknowledged/s while flowing; "
            f"restart to /healthz median {statistics.median(crash.restarts):.1f} s"
        )
        rows = [
            ("outbound mails / replies", f"{out.mails} / {out.replies}"),
            ("outbound missing / doubled / wrong", f"{out.missing} / {out.doubled} / {out.wrong}"),
            (
                "reply commit to relay p50 / p95 / max",
                f"{ms(percentile(out.latencies, 0.5))} / {ms(percentile(out.latencies, 0.95))}"
                f" / {ms(max(out.latencies, default=float('nan')))}",
            ),
            ("inbound stored once / sent", f"{into.stored_once} / {into.sent}"),
            (
                "inbound missing / doubled / quote kept",
                f"{into.missing} / {into.doubled} / {into.quote_kept}",
            ),
            (
                "SMTP DATA to 250 p50 / p95",
                f"{ms(percentile(into.data, 0.5))} / {ms(percentile(into.data, 0.95))}",
            ),
            (
                "DATA to agent transcript p50 / p95",
                f"{ms(percentile(into.visible, 0.5))} / {ms(percentile(into.visible, 0.95))}",
            ),
            (
                "crash: kills / mails sent / acked at once",
                f"{crash.kills} / {crash.sent} / {crash.acked_first}",
            ),
            (
                "crash: unacked / stored before resend",
                f"{crash.unacked} / {crash.stored_before_resend}",
            ),
            ("crash: acked lost / stored twice", f"{crash.lost} / {crash.doubled}"),
        ]
        width = max(len(name) for name, _ in rows)
        print(f"| {'figure':<{width}} | value |")
        print(f"|{'-' * (width + 2)}|-------|")
        for name, value in rows:
            print(f"| {name:<{width}} | {value} |")
    finally:
        if server is not None and server.process.poll() is None:
            server.stop()
        controller.stop()
        if schema:
            with create_engine(args.database_url).begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
parser.add_argument("--database-url", default="", help="empty: SQLite in a temporary dir")
parser.add_argument("--broker-url", default="memory://")
parser.add_argument("--conversations", type=int, default=50)
parser.add_argument("--delay", type=float, default=0.0, help="KEFU_CUSTOMER_REPLY_DELAY_SECONDS")
parser.add_argument("--sweep", type=float, default=0.5, help="KEFU_MAIL_SWEEP_SECONDS")
parser.add_argument(
    "--tick", type=float, default=0.0, help="KEFU_HANDOFF_TICK_SECONDS (0: the server's default)"
)
parser.add_argument("--cycles", type=int, default=3)
parser.add_argument(
    "--senders", type=int, default=1, help="threads answering by mail in the crash phase"
)
parser.add_argument("--seed", type=int, default=13)
parser.add_argument("--port", type=int, default=18951)
ARGS = parser.parse_args() if __name__ == "__main__" else parser.parse_args([])

if __name__ == "__main__":
    main()
