"""Build the widget: esbuild bundles the ES modules in ``web_widget/src/`` into three minified
scripts in ``web_widget/static/``, which the app serves at /widget.js, /widget-chat.en.js and
/widget-chat.zh.js:

* ``widget.js`` (entry ``main.js``), the launcher, the script a page embeds: the button, its
  badge, ``window.KefuWidget``, and the loader of the rest;
* ``widget-chat.en.js`` and ``widget-chat.zh.js`` (both entry ``chat.js``), the chat panel with
  its English or its Chinese texts only, of which widget.js fetches the page's language's when
  the chat is wanted. They are made of the same modules and carry none of widget.js's: they use
  widget.js's own (``build.mjs``).

    python -m web_widget.build            build when a bundle is missing or older than its inputs
    python -m web_widget.build --force    build anyway
    python -m web_widget.build --check    exit 1, saying so, when a bundle is missing or stale
    python -m web_widget.build --analyze  build, and print what each module adds to each bundle

scripts/setup runs it, and so does the package build (setup.py), so a wheel carries the bundles
and a server needs no Node.js. The bundles are never edited by hand nor kept in git.

esbuild comes from npm, pinned in ``web_widget/package-lock.json`` and installed with ``npm ci``
into ``web_widget/node_modules/`` when missing or older than the lock file; ``build.mjs`` drives
it through its JavaScript API (the chat's imports of widget.js's modules need a plugin, which
the command line cannot take). PyPI has no package that ships esbuild's bundler: esbuild-py binds
only its Transform API (one file, no bundling, no options), and the other wrappers download the
binary or call npx themselves.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from web_widget import BUNDLE, BUNDLES, CHAT_BUNDLES, LANGUAGES, STATIC_DIR

__all__ = [
    "BUNDLE",
    "BUNDLES",
    "CHAT_BUNDLES",
    "SRC",
    "BuildError",
    "Built",
    "build",
    "build_id",
    "is_current",
    "main",
]

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
LOCK = HERE / "package-lock.json"
SCRIPT = HERE / "build.mjs"
ESBUILD = HERE / "node_modules" / ".bin" / "esbuild"


class BuildError(RuntimeError):
    """The bundles could not be built; the message says what to do."""


@dataclass(frozen=True)
class Built:
    """The bundles written (the chat panel's by language), and the source files (relative to
    web_widget/) each is made of: the same for every language's chat panel."""

    launcher: Path
    chats: dict[str, Path]
    launcher_sources: tuple[str, ...]
    chat_sources: tuple[str, ...]


def inputs() -> list[Path]:
    """Everything the bundles are made from: a change to any of them calls for a new build."""
    sources = [*SRC.glob("*.js"), *SRC.glob("*.css")]
    return [*sorted(sources), LOCK, SCRIPT, Path(__file__).resolve()]


def build_id() -> str:
    """A digest of the inputs: every bundle carries it, and a chat panel runs only for a
    widget.js of the same build (a page that loaded widget.js before a release)."""
    digest = hashlib.sha256()
    for path in inputs():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def is_current() -> bool:
    if not all(bundle.is_file() for bundle in BUNDLES):
        return False
    built = min(bundle.stat().st_mtime for bundle in BUNDLES)
    return all(path.stat().st_mtime <= built for path in inputs())


def _run(command: Sequence[str | Path], *, capture: bool = False) -> str:
    # Our own fixed commands: npm and node from PATH, and the build script beside this file.
    done = subprocess.run(  # noqa: S603
        [str(part) for part in command],
        cwd=HERE,
        check=False,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    if done.returncode:
        raise BuildError(f"{Path(command[0]).name} failed (exit {done.returncode})")
    return done.stdout or ""


def _node_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BuildError(
            "building the web widget needs Node.js 18 or newer and npm (Debian: "
            "apt-get install nodejs npm), which install esbuild from web_widget/package-lock.json"
        )
    return found


def _install_esbuild() -> None:
    installed = HERE / "node_modules" / ".package-lock.json"
    if (
        ESBUILD.exists()
        and installed.is_file()
        and installed.stat().st_mtime >= LOCK.stat().st_mtime
    ):
        return
    _run([_node_tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"])


def build(out_dir: Path = STATIC_DIR, *, analyze: bool = False) -> Built:
    """Bundle and minify the widget into ``out_dir`` (every file written whole, then moved into
    place). Refuses a build in which a module went into the launcher and the chat panel, or
    whose chat panels are not made of the same modules."""
    _install_esbuild()
    launcher = out_dir / BUNDLE.name
    chats = {lang: out_dir / bundle.name for lang, bundle in CHAT_BUNDLES.items()}
    outputs = [launcher, *(chats[lang] for lang in LANGUAGES)]
    partials = [path.with_name(f".{path.name}.partial") for path in outputs]
    command: list[str | Path] = [_node_tool("node"), SCRIPT]
    if analyze:
        command.append("--analyze")
    printed = _run([*command, *partials, build_id()], capture=True)
    sources = json.loads(printed)
    chat_sources = sources["chat"][LANGUAGES[0]]
    if any(sources["chat"][lang] != chat_sources for lang in LANGUAGES):
        raise BuildError("the chat panels of the languages are not made of the same modules")
    twice = sorted(set(sources["launcher"]) & set(chat_sources))
    if twice:
        raise BuildError(f"in both widget.js and the chat panel: {', '.join(twice)}")
    # The chat panels first, then the launcher that loads them. A page that loads widget.js in
    # between gets a chat panel of another build, which refuses to run; its next open tries again.
    for partial, path in zip(partials[1:], outputs[1:], strict=True):
        os.replace(partial, path)
    os.replace(partials[0], launcher)
    return Built(launcher, chats, tuple(sources["launcher"]), tuple(chat_sources))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web_widget.build", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--force", action="store_true", help="build even when the bundles are current"
    )
    mode.add_argument("--check", action="store_true", help="only say whether they are current")
    mode.add_argument(
        "--analyze", action="store_true", help="build, printing what each module adds"
    )
    args = parser.parse_args(argv)
    shown = ", ".join(str(bundle.relative_to(HERE.parent)) for bundle in BUNDLES)
    if args.check:
        if is_current():
            print(f"{shown}: current")
            return 0
        print(f"{shown}: missing or older than web_widget/src: run python -m web_widget.build")
        return 1
    if not (args.force or args.analyze) and is_current():
        print(f"{shown}: current")
        return 0
    try:
        built = build(analyze=args.analyze)
    except BuildError as error:
        print(f"web widget: {error}", file=sys.stderr)
        return 1
    sizes = ", ".join(
        f"{path.relative_to(HERE.parent)} ({path.stat().st_size} bytes)"
        for path in (built.launcher, *built.chats.values())
    )
    print(f"built {sizes} from web_widget/src")
    return 0


if __name__ == "__main__":
    sys.exit(main())
