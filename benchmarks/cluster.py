"""The example deployment under load: `kefu bench` at one process, and through nginx at two,
also while a process is SIGKILLed and while Redis restarts.

    .venv/bin/python benchmarks/cluster.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        [--clients 20] [--messages 10] [--rate 10] [--duration 40]

Starts deploy/cluster.py's deployment (a fresh PostgreSQL schema, the demo knowledge base
loaded once by the CLI, two ``kefu serve`` processes, nginx from deploy/nginx/) with a private
``redis-server`` on a free port as the broker, then runs ``kefu bench --json``:

* (a) closed loop straight at process 1; (b) the same through nginx;
* (c) open loop through nginx; at ``--event-at`` of the run process 1 is SIGKILLed, then
  started again on its port;
* (d) open loop through nginx; at ``--event-at`` the private redis-server is stopped, and
  started again a second later.

After each of (c) and (d), once a turn lease has passed, the database is asked how many of the
customer messages stored during the run have no bot reply (``unanswered_in_db``): ``lost`` is
what the load generator saw; this is what a customer who reconnects would find.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for deploy.cluster

from core.db import make_engine
from core.rate_limits import no_limits_env
from deploy.cluster import KEFU, Cluster, cluster, free_port

LEASE_S = 5.0
FIELDS = (
    "clients",
    "messages",
    "errors",
    "lost",
    "reconnects",
    "throughput_per_s",
    "p50_ms",
    "p95_ms",
)


class Redis:
    """A redis-server of the benchmark's own, so restarting it disturbs no one else."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = root / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            # Fixed arguments; no persistence: pub/sub keeps nothing.
            self.process = subprocess.Popen(  # noqa: S603
                [
                    *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                    *("--save", "", "--appendonly", "no"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while b"Ready to accept" not in self.log.read_bytes().split(b"\n", 1)[-1][-4000:]:
            if time.monotonic() > deadline:
                raise SystemExit(f"redis-server did not start; see {self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
        # The next start looks for its own "Ready" line.
        self.log.write_bytes(b"")


@contextmanager
def private_redis(root: Path) -> Iterator[Redis]:
    redis = Redis(root)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def bench(url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    return subprocess.Popen(  # noqa: S603
        [str(KEFU), "bench", "--url", url, "--json", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=900)
    if process.returncode != 0:
        raise SystemExit(f"kefu bench failed ({process.returncode}):\n{out}\n{err[-3000:]}")
    summary: dict[str, Any] = json.loads(out)
    return {name: summary.get(name) for name in FIELDS}


def audit(database_url: str, since: datetime) -> dict[str, int]:
    """What the database holds for messages stored since ``since``, once recovery has run."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE author = 'customer' AND type = 'message'),"
                " count(*) FILTER (WHERE author = 'bot' AND type = 'message')"
                " FROM conversation_event WHERE created_at >= :since"
            ),
            {"since": since},
        ).one()
        pending = connection.execute(text("SELECT count(*) FROM pending_bot_turn")).scalar_one()
    engine.dispose()
    return {
        "stored_customer_messages": int(row[0]),
        "bot_replies": int(row[1]),
        "unanswered_in_db": int(row[0]) - int(row[1]),
        "pending_turns": int(pending),
    }


def disrupted(
    deployment: Cluster, args: argparse.Namespace, disrupt: Any, what: str
) -> dict[str, Any]:
    """An open-loop run through nginx with ``disrupt()`` at ``--event-at`` of it."""
    since = datetime.now(UTC)
    load = ["--clients", str(args.clients), "--rate", str(args.rate)]
    running = bench(deployment.url, *load, "--duration", str(args.duration))
    time.sleep(args.duration * args.event_at)
    started = time.monotonic()
    disrupt()
    back = round(time.monotonic() - started, 1)
    result = finish(running)
    time.sleep(LEASE_S * 2 + 2)  # a dead process's turns are taken over after their lease
    return {
        **result,
        "event": what,
        "recovered_after_s": back,
        **audit(deployment.database_url, since),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://...")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10, help="closed loop, per customer")
    parser.add_argument("--rate", type=float, default=10.0, help="open loop, messages/s")
    parser.add_argument("--duration", type=float, default=40.0, help="open loop, seconds")
    parser.add_argument("--event-at", type=float, default=0.3, help="fraction of the run")
    parser.add_argument("--han-model", action="store_true", help="keep the Han encoder on")
    args = parser.parse_args()
    env = {
        "KEFU_INFERENCE_WORKERS": "1",
        "KEFU_BOT_TURN_LEASE_SECONDS": str(LEASE_S),
        "KEFU_BOT_TURN_SWEEP_SECONDS": "1",
        "KEFU_LOG_LEVEL": "warning",
        # Every simulated customer comes from this machine's one address.
        **no_limits_env(),
    }
    if not args.han_model:
        env["KEFU_HAN_EMBEDDING_MODEL"] = ""
    root = Path(f"/tmp/kefu-cluster-bench-{secrets.token_hex(4)}")  # noqa: S108
    root.mkdir()
    print("$", shlex.join([".venv/bin/python", *sys.argv]), flush=True)
    with (
        private_redis(root) as redis,
        cluster(
            database_url=args.database_url,
            broker_url=redis.url,
            processes=args.processes,
            admin_password=secrets.token_urlsafe(12),
            env=env,
            demo=True,
            root=root,
        ) as deployment,
    ):
        closed = ["--clients", str(args.clients), "--messages", str(args.messages)]
        one = finish(bench(deployment.servers[0].url, *closed))
        two = finish(bench(deployment.url, *closed))
        first = deployment.servers[0]

        def kill_and_restart() -> None:
            first.kill()
            deployment.restart(first)

        def restart_redis() -> None:
            redis.stop()
            time.sleep(1)
            redis.start()

        killed = disrupted(deployment, args, kill_and_restart, "SIGKILL process 1, restart")
        broker = disrupted(deployment, args, restart_redis, "redis-server stopped 1 s, restarted")
    report = {
        "machine": {
            "arch": platform.machine(),
            "cpus": os.cpu_count(),
            "load_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "setup": {
            "processes": args.processes,
            "settings": env,
            "closed_loop": {"clients": args.clients, "messages_per_client": args.messages},
            "open_loop": {"clients": args.clients, "rate": args.rate, "duration_s": args.duration},
            "logs": str(root),
        },
        "a_one_process_direct": one,
        "b_nginx_two_processes": two,
        "throughput_b_over_a": round(two["throughput_per_s"] / one["throughput_per_s"], 2)
        if one["throughput_per_s"]
        else None,
        "c_nginx_process_killed": killed,
        "d_nginx_redis_restarted": broker,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
