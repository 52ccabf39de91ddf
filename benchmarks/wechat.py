"""WeChat passive replies (issue 16): how long a push waits for the bot's answer.

Runs ``kefu serve`` (default settings: the demo knowledge base, the Han model for Chinese) in a
subprocess on loopback, adds a WeChat account through the admin API, and plays WeChat with the
test suite's loopback peer (tests/channels/wechat_peer.py): ``--messages`` signed pushes of the
demo's own questions, English and Chinese interleaved, from ``--customers`` OpenIDs in turn,
every other one in the encrypted mode. For each push: the time from sending it to having its
XML reply, and whether the reply was passive (an answer) or ``success`` (the answer then goes
by the customer-service API). WeChat gives up on a push after 5 s.

    PYTHONPATH=. .venv/bin/python benchmarks/wechat.py [--messages 200]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

# The same ``kefu serve`` child as the kill-and-restart benchmark (benchmarks/ is on the path).
from kill_restart import KEFU, Server, admin_session

from core.rate_limits import no_limits_env
from kefu.bench import demo_questions
from tests.channels.wechat_peer import WeChatPeer

APP_ID, SECRET, TOKEN = "wx0123456789abcdef", "bench-app-secret", "benchtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="kefu-wechat-"))
    peer = WeChatPeer(app_id=APP_ID, app_secret=SECRET, token=TOKEN, aes_key=AES_KEY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(no_limits_env())
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
        KEFU_DATA_DIR=str(workdir / "var"),
        KEFU_DATABASE_URL=f"sqlite:///{workdir / 'kefu.db'}",
        KEFU_WECHAT_API_BASE=peer.url,
        KEFU_LOG_LEVEL="warning",
    )
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for step in (["db", "upgrade"], ["kb", "load-demo"]):
        subprocess.run(  # noqa: S603 (our own console script)
            [str(KEFU), *step], env=env, cwd=workdir, check=True, capture_output=True
        )
    server = Server(env, workdir, ARGS.port)
    try:
        admin = admin_session(server, env["KEFU_DATABASE_URL"])
        made = admin.post(
            "/api/admin/channels/wechat",
            json={
                "name": "bench",
                "app_id": APP_ID,
                "app_secret": SECRET,
                "token": TOKEN,
                "encoding_aes_key": AES_KEY,
            },
        )
        made.raise_for_status()
        path = made.json()["server_path"]
        questions = demo_questions()
        seconds: list[float] = []
        passive = 0
        http = httpx.Client(base_url=server.url, timeout=30)
        for n in range(ARGS.messages):
            open_id = f"o-bench-{n % ARGS.customers}"
            xml = peer.text_xml(open_id, questions[n % len(questions)], 10_000 + n)
            query = peer.signed_query()
            body = xml
            if n % 2:
                body, query = peer.encrypted_body(xml, query)
            started = time.perf_counter()
            response = http.post(path, params=query, content=body.encode("utf-8"))
            answer = peer.read_reply(response.status_code, response.text, 0.0)
            seconds.append(time.perf_counter() - started)
            passive += answer.reply is not None
        ms = [s * 1000 for s in seconds]
        print(
            f"pushes {len(ms)}, answered passively {passive} ({passive / len(ms):.1%}); "
            f"reply time p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
            f"max {max(ms):.1f} ms (WeChat's limit: 5000 ms)"
        )
    finally:
        server.stop()
        peer.close()


parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
parser.add_argument("--messages", type=int, default=200)
parser.add_argument("--customers", type=int, default=20)
parser.add_argument("--port", type=int, default=18941)
ARGS = parser.parse_args() if __name__ == "__main__" else parser.parse_args([])

if __name__ == "__main__":
    main()
