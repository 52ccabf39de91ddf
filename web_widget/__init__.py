"""The embeddable customer web widget. Its source is the ES modules in ``src/``; esbuild bundles
and minifies them (``python -m web_widget.build``, run by scripts/setup and by the package build)
into ``static/widget.js``, the launcher a page embeds, and ``static/widget-chat.js``, the chat
panel the launcher fetches when the chat is wanted. The app serves both at /widget.js and
/widget-chat.js, beside the demo store page ``static/demo.html``. The bundles are build outputs:
never edited by hand, not kept in git."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLE", "BUNDLES", "CHAT_BUNDLE", "STATIC_DIR", "require_bundle"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
BUNDLE = STATIC_DIR / "widget.js"
CHAT_BUNDLE = STATIC_DIR / "widget-chat.js"
BUNDLES = (BUNDLE, CHAT_BUNDLE)


def require_bundle() -> tuple[Path, ...]:
    """The built widget. A server does not start without both of its scripts: every embedding
    site and both staff consoles load the first, which loads the second, so the absence of
    either is a broken install, said at once."""
    missing = [bundle for bundle in BUNDLES if not bundle.is_file()]
    if missing:
        raise RuntimeError(
            f"the web widget is not built ({', '.join(map(str, missing))} missing): run "
            "scripts/setup, or python -m web_widget.build (needs Node.js and npm)"
        )
    return BUNDLES
