"""How ``kefu serve`` writes its log: uvicorn's plain text, or one JSON object per line.

JSON lines (python-json-logger) suit log shippers: every record of every logger, uvicorn's
access and error logs included, becomes ``{"time", "level", "logger", "message", ...}`` on
stderr. Redaction of tokens (core/log_redaction.py) happens before any formatter sees a record,
so it holds in both formats.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["LogFormat", "uvicorn_log_config"]

LogFormat = Literal["text", "json"]


def uvicorn_log_config(log_format: LogFormat, level: str) -> dict[str, Any] | None:
    """The ``log_config`` for ``uvicorn.run``: None keeps uvicorn's own text format."""
    if log_format == "text":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["json"], "level": level.upper()},
        # uvicorn's loggers hand their records to the root's one handler.
        "loggers": {
            name: {"handlers": [], "level": level.upper(), "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
