"""One box under load, judged against the encoders' own ceiling measured in the same run.

    .venv/bin/python benchmarks/load.py [--database-url URL]
        [--open-clients 1000] [--open-seconds 60]

1. The raw encoder ceiling (benchmarks/encoder_ceiling.py), with nothing else running.
2. A fresh data directory (and database, SQLite unless --database-url) with the demo loaded.
3. For each server configuration (the default: ONNX Runtime and micro-batching; batching off,
   KEFU_ENCODER_BATCH_MAX=1; PyTorch, KEFU_ENCODER_BACKEND=torch), a fresh `kefu serve`, then
   `kefu bench`'s load in-process: one customer (closed loop, latency), 200 customers (closed
   loop, saturation), and for the default, ``--open-clients`` customers offered half the
   ceiling for ``--open-seconds``.

Prints one JSON line per run, then the ratios the issue asks for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from core.rate_limits import no_limits_env
from kefu.bench import run_bench

ROOT = Path(__file__).resolve().parent.parent
KEFU = ROOT / ".venv" / "bin" / "kefu"
CONFIGURATIONS = {
    "default": {},
    "no batching": {"KEFU_ENCODER_BATCH_MAX": "1"},
    "torch": {"KEFU_ENCODER_BACKEND": "torch"},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ceiling() -> float:
    out = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "benchmarks" / "encoder_ceiling.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    print(out, end="", flush=True)
    line = next(x for x in out.splitlines() if x.startswith("ceiling"))
    return float(line.split(":")[1].split()[0])


def kefu(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(KEFU), *args], env=env, check=True, capture_output=True)  # noqa: S603


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        server = subprocess.Popen(  # noqa: S603
            [str(KEFU), "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
            if health["intents"]["model"] and health["answers"]["current"]:
                return server
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"kefu serve did not become ready; see {log}")


def run(url: str, label: str, clients: int, **load: Any) -> dict[str, Any]:
    result = asyncio.run(run_bench(url, clients, **load)).summary()
    print(json.dumps({"run": label, **load, **result}), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--open-clients", type=int, default=1000)
    parser.add_argument("--open-seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(f"command: {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores, load before {os.getloadavg()}")
    top = ceiling()
    work = Path(tempfile.mkdtemp(prefix="kefu-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(KEFU_DATA_DIR=str(work / "var"), KEFU_DATABASE_URL=args.database_url)
    # Every simulated customer comes from this machine's one address.
    env.update(no_limits_env())
    kefu(env, "db", "upgrade")
    kefu(env, "kb", "load-demo")
    figures: dict[str, dict[str, Any]] = {}
    try:
        for name, extra in CONFIGURATIONS.items():
            port = free_port()
            server = serve({**env, **extra}, port, work / "serve.log")
            url = f"http://127.0.0.1:{port}"
            try:
                figures[f"{name}, 1 client"] = run(url, name, 1, messages=200)
                figures[f"{name}, 200 clients"] = run(url, name, 200, messages=5)
                if name == "default" and args.open_seconds > 0:
                    figures["open"] = run(
                        url,
                        name,
                        args.open_clients,
                        rate=round(top / 2, 1),
                        duration=args.open_seconds,
                    )
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"ceiling: {top:.1f} messages/s")
    for name in CONFIGURATIONS:
        one = figures[f"{name}, 1 client"]
        many = figures[f"{name}, 200 clients"]["throughput_per_s"]
        print(
            f"{name}: 1 client p50 {one['p50_ms']} ms; 200 clients {many:.1f}/s"
            f" = {many / top:.2f} x ceiling"
        )
    opened = figures.get("open")
    if opened is None:
        return
    print(
        f"open loop, {args.open_clients} customers at {top / 2:.1f}/s: p95 {opened['p95_ms']} ms,"
        f" errors {opened['errors']}, lost {opened['lost']},"
        f" memory per customer {opened['memory_per_customer_kb']} KiB"
    )


if __name__ == "__main__":
    main()
