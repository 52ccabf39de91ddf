"""How long a knowledge-base change made on one server process takes to reach another's bot.

    .venv/bin/python benchmarks/cross_process.py --database-url postgresql+psycopg://... \\
        --redis-url redis://127.0.0.1:6379/0 [--changes 30]

Starts two ``kefu serve`` processes (A and B) on loopback, each with its own data directory,
on one PostgreSQL database (a fresh schema, dropped at the end) and one Redis. Then makes
``--changes`` changes on A through the admin API, in turn a creation, an answer edit and an
archival, and after each asks B's chat API the entry's question until B's bot answers with the
change (the new answer; for an archival, anything but the entry). The time from A's response
to B's first right answer is one sample; p50, p95 and max are printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for deploy.cluster

from core.db import make_engine, session_scope
from core.rate_limits import no_limits_env
from core.staff import Role, create_user
from deploy.cluster import postgres_schema
from kefu import db as migrations

KEFU = Path(sys.executable).parent / "kefu"
PASSWORD = secrets.token_urlsafe(16)


def _port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _server(root: Path, name: str, env: dict[str, str]) -> Iterator[str]:
    port = _port()
    data = root / f"var-{name}"
    with (root / f"{name}.log").open("ab") as log:
        # Our own console script, with arguments this script builds.
        process = subprocess.Popen(  # noqa: S603
            [str(KEFU), "serve", "--port", str(port)],
            env={**env, "KEFU_DATA_DIR": str(data)},
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server {name} did not start; see {root / name}.log")
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ask(client: httpx.Client, question: str) -> dict[str, Any]:
    started = client.post("/api/chat/conversations", json={"language": "en"}).json()
    response = client.post(
        f"/api/chat/conversations/{started['conversation_id']}/messages",
        json={"text": question},
        headers={"Authorization": f"Bearer {started['token']}"},
    )
    response.raise_for_status()
    replies = [e for e in response.json()["replies"] if e["type"] == "message"]
    payload: dict[str, Any] = replies[0]["payload"]
    return payload


def _until(b: httpx.Client, question: str, check: Callable[[dict[str, Any]], bool]) -> float:
    started = time.monotonic()
    while not check(_ask(b, question)):
        if time.monotonic() - started > 30:
            raise SystemExit(f"B never answered {question!r} with the change")
    return time.monotonic() - started


def _without(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda reply: text not in reply["text"]


def _changes(admin: httpx.Client, b: httpx.Client, count: int) -> list[tuple[str, float]]:
    samples: list[tuple[str, float]] = []
    topics = ["kayaks", "lanterns", "tents", "compasses", "hammocks", "canteens", "ropes"]
    n = 0
    while len(samples) < count:
        topic = f"{topics[n % len(topics)]} model {n}"
        entry_id, question = f"bench-{n}", f"Do you sell {topic}?"
        body = {"id": entry_id, "question": question, "answer": f"Yes: {topic}, v1."}
        admin.post("/api/admin/kb/faqs", json={**body, "language": "en", "status": "published"})
        samples.append(("create", _until(b, question, lambda r: "v1." in r["text"])))
        if len(samples) < count:
            admin.patch(f"/api/admin/kb/faqs/{entry_id}", json={"answer": f"Yes: {topic}, v2."})
            samples.append(("edit", _until(b, question, lambda r: "v2." in r["text"])))
        if len(samples) < count:
            admin.post(f"/api/admin/kb/faqs/{entry_id}/archive")
            samples.append(("archive", _until(b, question, _without(topic))))
        n += 1
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://...")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--changes", type=int, default=30)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(no_limits_env())  # every simulated customer comes from one address
    env.update(
        KEFU_BROKER_URL=args.redis_url,
        KEFU_HAN_EMBEDDING_MODEL="",
        KEFU_INFERENCE_WORKERS="1",
        OMP_NUM_THREADS="1",
        COLUMNS="200",
    )
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(postgres_schema(args.database_url, prefix="bench"))
        engine = make_engine(url)
        migrations.upgrade(engine)
        with session_scope(engine) as session:
            create_user(session, username="bench-admin", password=PASSWORD, role=Role.admin)
        engine.dispose()
        env["KEFU_DATABASE_URL"] = url
        a = stack.enter_context(_server(root, "a", env))
        b = stack.enter_context(_server(root, "b", env))
        admin = stack.enter_context(httpx.Client(base_url=a, timeout=30))
        login = admin.post(
            "/api/auth/login", json={"username": "bench-admin", "password": PASSWORD}
        ).json()
        admin.headers["X-CSRF-Token"] = login["csrf_token"]
        samples = _changes(
            admin, stack.enter_context(httpx.Client(base_url=b, timeout=30)), args.changes
        )
    _report(args, samples)


def _report(args: argparse.Namespace, samples: list[tuple[str, float]]) -> None:
    times = sorted(t for _kind, t in samples)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print("$ .venv/bin/python " + " ".join(sys.argv))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print("two kefu serve processes on loopback; PostgreSQL and Redis on 127.0.0.1")
    for kind in ("create", "edit", "archive"):
        own = [t for k, t in samples if k == kind]
        if own:
            print(f"  {kind:8s} n={len(own):3d}  max {max(own) * 1000:7.0f} ms")
    print(
        f"change on A -> B's bot answers with it: n={len(times)}  "
        f"p50 {statistics.median(times) * 1000:.0f} ms  p95 {p95 * 1000:.0f} ms  "
        f"max {times[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
