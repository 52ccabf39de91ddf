"""Build the widget: esbuild bundles the ES modules in ``web_widget/src/`` (entry ``main.js``)
into one minified script, ``web_widget/static/widget.js``, which the app serves at /widget.js.

    python -m web_widget.build            build when the bundle is missing or older than its inputs
    python -m web_widget.build --force    build anyway
    python -m web_widget.build --check    exit 1, saying so, when the bundle is missing or stale

scripts/setup runs it, and so does the package build (setup.py), so a wheel carries the bundle
and a server needs no Node.js. The bundle is never edited by hand nor kept in git.

esbuild comes from npm, pinned in ``web_widget/package-lock.json`` and installed with ``npm ci``
into ``web_widget/node_modules/`` when missing or older than the lock file. PyPI has no package
that ships esbuild's bundler: esbuild-py binds only its Transform API (one file, no bundling,
no options), and the other wrappers download the binary or call npx themselves.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["BUNDLE", "SRC", "BuildError", "build", "is_current", "main"]

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
ENTRY = SRC / "main.js"
BUNDLE = HERE / "static" / "widget.js"
LOCK = HERE / "package-lock.json"
ESBUILD = HERE / "node_modules" / ".bin" / "esbuild"
# What the code may use: ES2019 (optional catch binding, Object.entries) and the DOM of browsers
# with Shadow DOM v1; esbuild refuses syntax newer than this instead of shipping it.
TARGET = "es2019"


class BuildError(RuntimeError):
    """The bundle could not be built; the message says what to do."""


def inputs() -> list[Path]:
    """Everything the bundle is made from: a change to any of them calls for a new build."""
    return [*sorted(SRC.glob("*.js")), LOCK, Path(__file__).resolve()]


def is_current() -> bool:
    if not BUNDLE.is_file():
        return False
    built = BUNDLE.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in inputs())


def _run(command: Sequence[str | Path]) -> None:
    # Our own fixed commands: npm from PATH and the esbuild that npm installed.
    done = subprocess.run([str(part) for part in command], cwd=HERE, check=False)  # noqa: S603
    if done.returncode:
        raise BuildError(f"{Path(command[0]).name} failed (exit {done.returncode})")


def _install_esbuild() -> None:
    installed = HERE / "node_modules" / ".package-lock.json"
    if (
        ESBUILD.exists()
        and installed.is_file()
        and installed.stat().st_mtime >= LOCK.stat().st_mtime
    ):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(
            "building the web widget needs Node.js 18 or newer and npm (Debian: "
            "apt-get install nodejs npm), which install esbuild from web_widget/package-lock.json"
        )
    _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"])


def _banner() -> str:
    # The entry's leading /*! ... */ comment goes first in the bundle, as the file's header.
    found = re.match(r"\s*(/\*!.*?\*/)", ENTRY.read_text("utf-8"), re.DOTALL)
    if found is None:
        raise BuildError(f"{ENTRY} must start with its /*! ... */ header comment")
    return found.group(1)


def build() -> Path:
    """Bundle and minify the widget into BUNDLE (written whole, then moved into place)."""
    _install_esbuild()
    partial = BUNDLE.with_name(".widget.js.partial")
    _run(
        [
            ESBUILD,
            ENTRY,
            "--bundle",
            "--format=iife",
            "--minify",
            f"--target={TARGET}",
            # Chinese text stays UTF-8 (3 bytes a character, not a 6-byte \\u escape); the app
            # serves the file with charset=utf-8.
            "--charset=utf8",
            "--legal-comments=none",
            f"--banner:js={_banner()}",
            f"--outfile={partial}",
            "--log-level=warning",
        ]
    )
    os.replace(partial, BUNDLE)
    return BUNDLE


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web_widget.build", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="build even when the bundle is current")
    mode.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    shown = BUNDLE.relative_to(HERE.parent)
    if args.check:
        if is_current():
            print(f"{shown} is current")
            return 0
        print(f"{shown} is missing or older than web_widget/src: run python -m web_widget.build")
        return 1
    if not args.force and is_current():
        print(f"{shown} is current")
        return 0
    try:
        build()
    except BuildError as error:
        print(f"web widget: {error}", file=sys.stderr)
        return 1
    print(f"built {shown} ({BUNDLE.stat().st_size} bytes) from web_widget/src")
    return 0


if __name__ == "__main__":
    sys.exit(main())
