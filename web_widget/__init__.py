"""The embeddable customer web widget. Its source is the ES modules in ``src/`` (entry
``main.js``); esbuild bundles and minifies them into ``static/widget.js`` (``python -m
web_widget.build``, run by scripts/setup and by the package build), which the app serves at
/widget.js beside the demo store page ``static/demo.html``. The bundle is a build output: never
edited by hand, not kept in git."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLE", "STATIC_DIR", "require_bundle"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
BUNDLE = STATIC_DIR / "widget.js"


def require_bundle() -> Path:
    """The built widget. A server does not start without it: every embedding site and both
    staff consoles load it, so its absence is a broken install, said at once."""
    if not BUNDLE.is_file():
        raise RuntimeError(
            f"the web widget is not built ({BUNDLE} is missing): run scripts/setup, or "
            "python -m web_widget.build (needs Node.js and npm)"
        )
    return BUNDLE
