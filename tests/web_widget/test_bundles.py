"""The widget's two scripts as the server serves them: the launcher a page embeds (/widget.js)
within issue 17's budget, the chat panel it loads (/widget-chat.js) served alike, and a server
that refuses to start without either."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import web_widget

ROOT = Path(__file__).resolve().parents[2]
# Issue 17, item 7: the script a page embeds is under 35 KB raw (BENCHMARKS.md, "Widget size").
EMBED_BUDGET = 35 * 1024

SCRIPTS = {"/widget.js": web_widget.BUNDLE, "/widget-chat.js": web_widget.CHAT_BUNDLE}


def test_the_script_a_page_embeds_is_under_35_kb() -> None:
    size = web_widget.BUNDLE.stat().st_size
    assert size < EMBED_BUDGET, f"widget.js is {size} bytes raw (benchmarks/widget_size.sh)"


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


@pytest.mark.parametrize("missing", [web_widget.BUNDLE.name, web_widget.CHAT_BUNDLE.name])
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
