"""Domain errors that every surface (HTTP, WebSocket, CLI) maps to a clear message and code."""

from __future__ import annotations

__all__ = ["ConflictError", "InvalidInputError", "KefuError", "NotFoundError"]


class KefuError(Exception):
    """Base class; ``code`` is a stable machine-readable identifier."""

    code = "error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, object]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        # Sent with the HTTP answer (``Retry-After`` on a 429, say).
        self.headers = headers or {}


class InvalidInputError(KefuError):
    code = "invalid"
    status = 422


class NotFoundError(KefuError):
    code = "not_found"
    status = 404


class ConflictError(KefuError):
    code = "conflict"
    status = 409
