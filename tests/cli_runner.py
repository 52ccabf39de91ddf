"""Runs the installed ``kefu`` console script in a subprocess, configured like a test's app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.settings import Settings
from tests.conftest import GENEROUS_LIMITS

__all__ = ["KEFU", "kefu_env", "one_line", "run_kefu"]

KEFU = Path(sys.executable).parent / "kefu"


def kefu_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The test's data directory and database, and nothing from the developer's KEFU_ variables."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KEFU_")}
    env.update(
        KEFU_DATA_DIR=str(settings.data_dir),
        KEFU_DATABASE_URL=settings.database_url,
        # pytest's own process already runs a model on this two-core machine; one torch thread
        # per child avoids oversubscription, which made small encodes ten times slower.
        OMP_NUM_THREADS="1",
        # Rich wraps at 80 columns when it is not writing to a terminal.
        COLUMNS="200",
    )
    env.update(GENEROUS_LIMITS)
    env.update(extra)
    return env


def run_kefu(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    # The working directory holds no .env, so only the environment above configures the command.
    return subprocess.run(
        [str(KEFU), *args],
        env=kefu_env(settings),
        cwd=settings.data_dir.parent,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def one_line(text: str) -> str:
    """Output with every run of whitespace folded to one space, so wrapping never matters."""
    return " ".join(text.split())
