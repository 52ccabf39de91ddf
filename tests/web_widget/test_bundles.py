"""The widget's scripts as the server serves them: the launcher a page embeds (/widget.js) and
the chat panel it loads in the page's language (/widget-chat.en.js, /widget-chat.zh.js), each
within issue 17's budget and served alike, and a server that refuses to start without any."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import web_widget

ROOT = Path(__file__).resolve().parents[2]
# Issue 17, item 7: every script of the widget is under 35 KB raw (BENCHMARKS.md, "Widget
# size"): the one a page embeds, and each chat panel it may load.
BUDGET = 35 * 1024

SCRIPTS = {f"/{bundle.name}": bundle for bundle in web_widget.BUNDLES}


def test_the_scripts_are_the_launcher_and_a_chat_panel_per_language() -> None:
    assert sorted(SCRIPTS) == ["/widget-chat.en.js", "/widget-chat.zh.js", "/widget.js"]


@pytest.mark.parametrize("path", sorted(SCRIPTS))
def test_every_script_the_widget_loads_is_under_35_kb(path: str) -> None:
    size = SCRIPTS[path].stat().st_size
    assert size < BUDGET, f"{path} is {size} bytes raw (benchmarks/widget_size.sh)"


@pytest.mark.parametrize(
    ("lang", "own", "other"),
    [("en", "Customer service", "在线客服"), ("zh", "在线客服", "Customer service")],
)
def test_each_chat_panel_carries_only_its_language(lang: str, own: str, other: str) -> None:
    # texts.js has both; the build of each panel keeps one (KEFU_LANG, build.mjs).
    source = web_widget.CHAT_BUNDLES[lang].read_text("utf-8")
    assert own in source
    assert other not in source
    assert "KEFU_LANG" not in source


@pytest.mark.parametrize("path", sorted(SCRIPTS))
def test_both_scripts_are_served_alike(client: TestClient, path: str) -> None:
    # The loader asks for widget-chat.js?v=<build>; the query only keeps caches apart.
    response = client.get(path + "?v=0123456789ab", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-encoding"] == "gzip"
    assert "content-security-policy" not in response.headers
    assert response.content == SCRIPTS[path].read_bytes()


@pytest.mark.parametrize("missing", [bundle.name for bundle in web_widget.BUNDLES])
def test_a_server_without_either_script_refuses_to_start(tmp_path: Path, missing: str) -> None:
    # A copy of the package whose build left one script out, checked as create_app checks it.
    package = tmp_path / "web_widget"
    (package / "static").mkdir(parents=True)
    shutil.copy2(ROOT / "web_widget" / "__init__.py", package)
    for bundle in web_widget.BUNDLES:
        if bundle.name != missing:
            shutil.copy2(bundle, package / "static")
    check = "import web_widget; web_widget.require_bundle()"
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert f"{missing} missing" in done.stderr
    assert "python -m web_widget.build" in done.stderr
