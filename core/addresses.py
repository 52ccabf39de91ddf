"""Where a request or socket came from, for login throttling, abuse limits and the audit log."""

from __future__ import annotations

from starlette.requests import HTTPConnection

__all__ = ["client_address"]


def client_address(connection: HTTPConnection) -> str:
    """The client's address as the server saw it: uvicorn takes it from X-Forwarded-For only
    when the request came from a proxy it is told to trust (``--forwarded-allow-ips``)."""
    return connection.client.host if connection.client else ""
