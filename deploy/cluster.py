"""The example deployment on loopback: N ``kefu serve`` processes behind nginx.

Each process has its own data directory (its FAQ index and intent models); all share one
PostgreSQL schema (fresh, dropped at the end) and one Redis broker. nginx runs from
``deploy/nginx/kefu.conf.template`` in a temporary prefix, as an ordinary user would run it.

    .venv/bin/python -m deploy.cluster \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --broker-url redis://127.0.0.1:6379/0 [--processes 2] [--load-demo]

runs it until Ctrl-C. Tests and ``benchmarks/cluster.py`` use :func:`cluster`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from core.db import make_engine, session_scope
from core.staff import Role, create_user
from kefu import db as migrations

__all__ = [
    "KEFU",
    "TEMPLATE",
    "Cluster",
    "Nginx",
    "ServerProcess",
    "cluster",
    "find_nginx",
    "free_port",
    "postgres_schema",
    "prepare_database",
    "render_nginx_conf",
]

KEFU = Path(sys.executable).parent / "kefu"
TEMPLATE = Path(__file__).resolve().parent / "nginx" / "kefu.conf.template"
START_TIMEOUT = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def find_nginx() -> Path | None:
    """Debian's nginx (``/usr/sbin`` is not on every user's PATH), or whichever is on PATH."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def render_nginx_conf(
    *,
    prefix: Path,
    listen: str,
    upstreams: list[str],
    max_fails: int = 1,
    fail_timeout_s: int = 5,
    worker_processes: int = 1,
    template: Path = TEMPLATE,
) -> str:
    """The template with its placeholders filled: one ``server`` line per ``host:port``."""
    servers = "\n".join(
        f"        server {address} max_fails={max_fails} fail_timeout={fail_timeout_s}s;"
        for address in upstreams
    )
    rendered = (
        template.read_text("utf-8")
        .replace("{{prefix}}", str(prefix))
        .replace("{{listen}}", listen)
        .replace("{{upstreams}}", servers)
        .replace("{{worker_processes}}", str(worker_processes))
    )
    if "{{" in rendered:
        raise ValueError(f"{template} has a placeholder this renderer does not fill")
    return rendered


@contextmanager
def postgres_schema(base_url: str, prefix: str = "cluster") -> Iterator[str]:
    """A fresh schema, dropped at the end; yields a URL whose search path points at it."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def prepare_database(url: str, *, admin_password: str, admin: str = "admin") -> None:
    """Migrate to the newest schema and create the admin account."""
    engine = make_engine(url)
    migrations.upgrade(engine)
    with session_scope(engine) as session:
        create_user(session, username=admin, password=admin_password, role=Role.admin)
    engine.dispose()


def _wait_ok(url: str, alive: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive.poll() is not None:
            raise RuntimeError(f"{url}: exited with {alive.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s; see {log}")


class ServerProcess:
    """``kefu serve`` on 127.0.0.1:<port> with its own data directory; a restart keeps both."""

    def __init__(self, root: Path, name: str, env: Mapping[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = root / f"var-{name}"
        self.log = root / f"{name}.log"
        self.env = {**env, "KEFU_DATA_DIR": str(self.data_dir)}
        self._root = root
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        with self.log.open("ab") as log:
            # Our own console script, with arguments built here.
            self.process = subprocess.Popen(  # noqa: S603
                [str(KEFU), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self._root,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until ``/readyz`` says yes: started, database reachable, index current."""
        assert self.process is not None, "launch() first"
        _wait_ok(f"{self.url}/readyz", self.process, self.log, timeout)

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self.launch()
        self.wait_ready(timeout)

    def kill(self) -> None:
        """SIGKILL: nothing gets finished, as in a crash or an OOM kill."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None


class Nginx:
    """nginx in the foreground with everything it writes under ``prefix``."""

    def __init__(self, binary: Path, prefix: Path, upstreams: list[str]) -> None:
        self.binary = binary
        self.prefix = prefix
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = prefix / "nginx.conf"
        self.error_log = prefix / "logs" / "error.log"
        self.access_log = prefix / "logs" / "access.log"
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        (prefix / "temp").mkdir(exist_ok=True)
        self.conf.write_text(
            render_nginx_conf(prefix=prefix, listen=f"127.0.0.1:{self.port}", upstreams=upstreams),
            "utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        # Run by root (a container), the workers would become nobody, who cannot enter a
        # private temporary prefix; an unprivileged user needs nothing of the kind.
        globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        return [
            *(str(self.binary), "-p", str(self.prefix), "-c", str(self.conf)),
            *("-e", str(self.error_log), "-g", globals_),
        ]

    def start(self, timeout: float = 30) -> None:
        check = subprocess.run(  # noqa: S603
            [*self.command(), "-t"], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        with (self.prefix / "nginx.out").open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603
                self.command(), stdout=out, stderr=subprocess.STDOUT
            )
        _wait_ok(f"{self.url}/readyz", self.process, self.error_log, timeout)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None


class Cluster:
    """What :func:`cluster` started: ``url`` is nginx, ``servers`` the kefu processes."""

    def __init__(
        self, root: Path, database_url: str, servers: list[ServerProcess], nginx: Nginx
    ) -> None:
        self.root = root
        self.database_url = database_url
        self.servers = servers
        self.nginx = nginx
        self.url = nginx.url

    def restart(self, server: ServerProcess, timeout: float = START_TIMEOUT) -> None:
        """Start a killed or stopped process again on its port, with its data directory."""
        server.stop()
        server.start(timeout)


def base_env(database_url: str, broker_url: str, extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without any KEFU_ setting of the caller's, plus the cluster's."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KEFU_")}
    env.update(
        KEFU_DATABASE_URL=database_url,
        KEFU_BROKER_URL=broker_url,
        # N processes on few cores: one math thread each, or they fight over the cores.
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
        PYTHONFAULTHANDLER="1",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def load_demo(root: Path, env: Mapping[str, str]) -> None:
    """``kefu kb load-demo`` once, against the shared database, before any server starts."""
    done = subprocess.run(  # noqa: S603
        [str(KEFU), "kb", "load-demo"],
        env={**env, "KEFU_DATA_DIR": str(root / "var-cli")},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"kefu kb load-demo failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def cluster(
    *,
    database_url: str,
    broker_url: str,
    processes: int = 2,
    admin_password: str,
    env: Mapping[str, str] | None = None,
    demo: bool = False,
    root: Path | None = None,
    nginx: Path | None = None,
) -> Iterator[Cluster]:
    """The deployment on a fresh schema of ``database_url`` (a PostgreSQL URL), stopped and
    dropped when the block ends. ``env`` adds ``KEFU_*`` settings to every process."""
    binary = nginx or find_nginx()
    if binary is None:
        raise RuntimeError("nginx is not installed")
    with ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kefu-cluster-")))
        url = stack.enter_context(postgres_schema(database_url))
        prepare_database(url, admin_password=admin_password)
        shared = base_env(url, broker_url, env or {})
        if demo:
            load_demo(root, shared)
        servers = [ServerProcess(root, f"kefu-{n + 1}", shared) for n in range(processes)]
        for server in servers:
            stack.callback(server.stop)
            server.launch()  # together: their model loading overlaps
        for server in servers:
            server.wait_ready()
        proxy = Nginx(binary, root / "nginx", [f"127.0.0.1:{s.port}" for s in servers])
        stack.callback(proxy.stop)
        proxy.start()
        yield Cluster(root, url, servers, proxy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://...")
    parser.add_argument("--broker-url", required=True, help="redis://host:port/db")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--load-demo", action="store_true", help="load the demo store first")
    args = parser.parse_args()
    password = secrets.token_urlsafe(12)
    with cluster(
        database_url=args.database_url,
        broker_url=args.broker_url,
        processes=args.processes,
        admin_password=password,
        demo=args.load_demo,
    ) as running:
        print(f"nginx: {running.url}  (admin / {password})")
        for server in running.servers:
            print(f"  {server.name}: {server.url}  log {server.log}")
        print(f"  nginx logs: {running.nginx.prefix / 'logs'}; Ctrl-C stops everything")
        with suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
