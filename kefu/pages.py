"""The web pages the app serves: the demo store page with the widget, the widget itself, the
agent console, the supervisors' live wall and the admin console. Static files: only the widget
is built (``web_widget/build.py``, at setup or package time); the admin dashboard's charting
library, plotly.js, is served from the installed ``plotly`` package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

import web_widget

__all__ = [
    "ADMIN_DIR",
    "CONSOLE_DIR",
    "REVIEWS_DIR",
    "SHARED_DIR",
    "SURVEY_PAGE",
    "WALL_DIR",
    "WIDGET_DIR",
    "admin_assets",
    "console_assets",
    "reviews_assets",
    "router",
    "shared_assets",
    "wall_assets",
    "widget_assets",
]

WIDGET_DIR = Path(web_widget.__file__).resolve().parent / "static"
CONSOLE_DIR = Path(__file__).resolve().parent / "web" / "console"
ADMIN_DIR = Path(__file__).resolve().parent / "web" / "admin"
WALL_DIR = Path(__file__).resolve().parent / "web" / "wall"
# Each agent's own quality reviews.
REVIEWS_DIR = Path(__file__).resolve().parent / "web" / "reviews"
# What both staff consoles use: base styles, the API client and login.
SHARED_DIR = Path(__file__).resolve().parent / "web" / "shared"
# The follow-up survey's answer page (handoff/follow_up_routes.py fills it in).
SURVEY_PAGE = Path(__file__).resolve().parent / "web" / "survey" / "follow-up.html"
PLOTLY_JS = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))

router = APIRouter(include_in_schema=False)


def _page(path: Path, media_type: str) -> Response:
    # no-cache: revalidate each load, so a new release is picked up at once.
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.get("/")
def demo_store() -> Response:
    return _page(WIDGET_DIR / "demo.html", "text/html; charset=utf-8")


@router.get("/widget.js")
def widget_script() -> Response:
    return _page(web_widget.BUNDLE, "text/javascript; charset=utf-8")


# The chat panel, in the page's language, which /widget.js fetches from beside itself when the
# chat is wanted: the same modules, each file with one language's texts.
@router.get("/widget-chat.en.js")
def widget_chat_en_script() -> Response:
    return _page(web_widget.CHAT_BUNDLES["en"], "text/javascript; charset=utf-8")


@router.get("/widget-chat.zh.js")
def widget_chat_zh_script() -> Response:
    return _page(web_widget.CHAT_BUNDLES["zh"], "text/javascript; charset=utf-8")


@router.get("/console")
def agent_console() -> Response:
    return _page(CONSOLE_DIR / "index.html", "text/html; charset=utf-8")


@router.get("/wall")
def live_wall() -> Response:
    return _page(WALL_DIR / "index.html", "text/html; charset=utf-8")


@router.get("/console/reviews")
def my_reviews() -> Response:
    return _page(REVIEWS_DIR / "index.html", "text/html; charset=utf-8")


@router.get("/admin")
def admin_console() -> Response:
    return _page(ADMIN_DIR / "index.html", "text/html; charset=utf-8")


@router.get("/admin/vendor/plotly.min.js")
def plotly_js() -> Response:
    # Versioned by the installed package; a day's caching spares reloading 4.8 MB.
    return FileResponse(
        PLOTLY_JS,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def widget_assets() -> StaticFiles:
    # create_app mounts this once: a server whose widget was never built (any script) stops
    # at start and says how to build it, instead of answering /widget.js with an error.
    web_widget.require_bundle()
    return StaticFiles(directory=WIDGET_DIR, check_dir=False)


def console_assets() -> StaticFiles:
    return StaticFiles(directory=CONSOLE_DIR, check_dir=False)


def wall_assets() -> StaticFiles:
    return StaticFiles(directory=WALL_DIR, check_dir=False)


def reviews_assets() -> StaticFiles:
    return StaticFiles(directory=REVIEWS_DIR, check_dir=False)


def admin_assets() -> StaticFiles:
    return StaticFiles(directory=ADMIN_DIR, check_dir=False)


def shared_assets() -> StaticFiles:
    return StaticFiles(directory=SHARED_DIR, check_dir=False)
