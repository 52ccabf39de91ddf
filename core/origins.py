"""Which web origins may use the customer API and socket: the server's own, and the sites that
embed the widget (``KEFU_ALLOWED_ORIGINS``).

CORS covers the REST calls; a WebSocket handshake is not subject to CORS, so the customer socket
checks its ``Origin`` header with ``origin_allowed`` itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["normalise_origin", "origin_allowed", "same_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, without a default port; ``ValueError`` when the
    text is not an origin (a path, a query, user info or another scheme)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if (
        scheme not in _DEFAULT_PORTS
        or not host
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def same_origin(origin: str, host: str | None) -> bool:
    """Whether ``origin`` names the server the request reached (its ``Host`` header)."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if not host or parts.hostname is None:
        return False
    name = parts.hostname.lower()
    if ":" in name:
        name = f"[{name}]"
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    netloc = name if port is None or port == default else f"{name}:{port}"
    wanted = host.lower()
    if default is not None and wanted.endswith(f":{default}"):
        wanted = wanted.removesuffix(f":{default}")
    return netloc == wanted


def origin_allowed(origin: str | None, *, host: str | None, allowed: list[str]) -> bool:
    """A browser's ``Origin`` against the allow-list (already normalised by ``Settings``).

    No ``Origin`` at all is a client that is not a browser page (an app, a script): it could
    send any Origin it liked, so the header proves nothing there, and it is let through.
    """
    if origin is None:
        return True
    if "*" in allowed or same_origin(origin, host):
        return True
    try:
        return normalise_origin(origin) in allowed
    except ValueError:
        return False
