"""Browser hardening headers on every HTTP response (issue 15, item 5).

* ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy`` on everything.
* On HTML pages (the demo store, the consoles): a Content-Security-Policy that allows scripts
  only from this origin (no inline script, no ``eval``), styles from this origin and inline
  ones (the pages' own ``style`` attributes, the widget's Shadow DOM, the charts), images from
  this origin and ``data:``/``blob:``, connections to this origin's HTTP and WebSocket, and no
  framing (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for older browsers).
* ``Strict-Transport-Security`` when the request came over HTTPS (directly, or through a
  trusted proxy's ``X-Forwarded-Proto``, which uvicorn applies).

The widget's script is embedded by other sites; their pages keep their own policies.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders"]

HSTS = "max-age=31536000; includeSubDomains"
# A Host header is echoed into the policy only if it is a plain host[:port].
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def content_security_policy(host: str | None) -> str:
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src 'self'{sockets}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers as the response starts, streams untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                if headers.get("content-type", "").startswith("text/html"):
                    request_headers = dict(scope.get("headers") or [])
                    host = request_headers.get(b"host", b"").decode("latin-1") or None
                    headers["Content-Security-Policy"] = content_security_policy(host)
                    headers["X-Frame-Options"] = "DENY"
                if scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)
