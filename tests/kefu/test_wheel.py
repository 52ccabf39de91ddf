"""The built wheel carries everything a server needs: every module, page, demo file, model and
the widget's bundle. A file missing from package-data works in a checkout and fails only once
installed (the live wall's page once did), so this builds a wheel and reads its file list."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.test_architecture import FIRST_PARTY

ROOT = Path(__file__).resolve().parents[2]
# The first-party packages, as the architecture test knows them.
PACKAGES = tuple(sorted(FIRST_PARTY))
# Tracked files that a running server never reads.
NOT_SHIPPED = {"kefu/migrations/script.py.mako"}


def _tracked(*paths: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listed.stdout.splitlines() if name not in NOT_SHIPPED]


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    # Built from a copy of the working tree's tracked files and the widget's bundle (with its
    # times, so the build finds it current and needs no npm): a checkout's build/ directory
    # would hand setuptools modules that package-data or the package list no longer name.
    source = tmp_path_factory.mktemp("source")
    bundles = [p.relative_to(ROOT) for p in (ROOT / "web_widget" / "static").glob("*.js")]
    for name in [*_tracked(), *map(str, bundles)]:
        if name.startswith("tests/") or not (ROOT / name).is_file():
            continue
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("kefu-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_every_tracked_file_of_the_packages_is_in_the_wheel(wheel_files: set[str]) -> None:
    tracked = _tracked(*PACKAGES)
    assert len(tracked) > 200  # guards the guard: git listed the packages
    missing = sorted(name for name in tracked if name not in wheel_files)
    assert missing == []


def test_the_widget_bundle_built_at_package_time_is_in_the_wheel(wheel_files: set[str]) -> None:
    # The bundle is a build output, not tracked: every script the widget's build writes.
    built = sorted((ROOT / "web_widget" / "static").glob("*.js"))
    assert built, "the widget is not built: python -m web_widget.build"
    for bundle in built:
        assert f"web_widget/static/{bundle.name}" in wheel_files
