"""The embeddable customer web widget. Its source is the ES modules in ``src/``; esbuild bundles
and minifies them (``python -m web_widget.build``, run by scripts/setup and by the package build)
into ``static/widget.js``, the launcher a page embeds, and ``static/widget-chat.en.js`` and
``static/widget-chat.zh.js``, the chat panel in English and in Chinese (the same modules, each
with its language's texts only), of which the launcher fetches the page's when the chat is
wanted. The app serves them at /widget.js, /widget-chat.en.js and /widget-chat.zh.js, beside the
demo store page ``static/demo.html``. The bundles are build outputs: never edited by hand, not
kept in git."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLE", "BUNDLES", "CHAT_BUNDLES", "LANGUAGES", "STATIC_DIR", "require_bundle"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
BUNDLE = STATIC_DIR / "widget.js"
# The chat panel's languages (config.js's LANG), each with its own build of the panel.
LANGUAGES = ("en", "zh")
CHAT_BUNDLES = {lang: STATIC_DIR / f"widget-chat.{lang}.js" for lang in LANGUAGES}
BUNDLES = (BUNDLE, *CHAT_BUNDLES.values())


def require_bundle() -> tuple[Path, ...]:
    """The built widget. A server does not start without every one of its scripts: every
    embedding site and both staff consoles load the first, which loads the chat panel of the
    page's language, so the absence of any is a broken install, said at once."""
    missing = [bundle for bundle in BUNDLES if not bundle.is_file()]
    if missing:
        raise RuntimeError(
            f"the web widget is not built ({', '.join(map(str, missing))} missing): run "
            "scripts/setup, or python -m web_widget.build (needs Node.js and npm)"
        )
    return BUNDLES
