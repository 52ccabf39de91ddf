"""A large schemathesis run over the whole OpenAPI document (issue 13: no server errors).

    .venv/bin/python benchmarks/openapi_fuzz.py [--examples 150] [--database-url URL]

The same harness as tests/kefu/test_openapi_fuzz.py (tests/fuzzing.py: an admin session, fresh
data behind every id, random, aimed and negative cases, derandomised), with more examples per
operation, on a scratch SQLite database unless ``--database-url`` names another (empty) one.
Prints the cases run, the server errors and every failed check.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fuzzing

from core.db import make_engine
from core.rate_limits import NO_LIMITS
from core.settings import DEFAULT_EMBEDDING_MODEL, Settings
from kefu import db as migrations
from kefu.app import create_app
from knowledge_base.embeddings import SentenceEmbedder
from tests.fuzzing import EXCLUDED, admin_session, fuzz_operations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=150, help="examples per operation")
    parser.add_argument("--database-url", default="", help="an empty database; default SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        url = args.database_url or f"sqlite:///{root / 'kefu.db'}"
        settings = Settings(data_dir=root / "var", database_url=url, _env_file=None)
        # Thousands of requests from one address: a limit would answer most of them with 429.
        settings = settings.model_copy(update=NO_LIMITS)
        engine = make_engine(settings.resolved_database_url)
        migrations.upgrade(engine)
        engine.dispose()
        app = create_app(settings, embedder=SentenceEmbedder(DEFAULT_EMBEDDING_MODEL))
        with admin_session(app) as session:
            report = fuzz_operations(app, session, examples_per_operation=args.examples)
    print(f"command: {' '.join(sys.argv)}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"database: {url.split(':', 1)[0]}; examples per operation: {args.examples}")
    print(f"excluded: {', '.join(EXCLUDED)}")
    print(report.summary())
    for failure in report.failures:
        print(f"---\n{failure}")
    return 1 if report.failures or report.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
