"""Secrets never reach a log line: customer tokens, staff session tokens, bearer headers; nor
does a customer's personal data, masked as everywhere else (core/pii.py).

A customer's token opens their whole transcript, so a log reader must not see one. Tokens can
reach a log through a URL (uvicorn's access log prints the query string), a header (the
websockets library prints every handshake header at debug level) or an exception message.

Redaction happens in the log record factory rather than in a filter: a filter on the root
logger never sees records that a child logger hands straight to the root's handlers, and
uvicorn's loggers do not propagate at all but get their handlers from uvicorn's own
``dictConfig`` after the app is built. The record factory runs for every record of every
logger, whoever configures the handlers and whenever. Arguments keep their positions (uvicorn's
access formatter unpacks them), and only their text is rewritten.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .pii import mask_personal_data

__all__ = ["REDACTED", "install_log_redaction", "redact"]

REDACTED = "[redacted]"

# (pattern, replacement): the name stays so a reader can still tell what was sent.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Query strings, forms and cookies: token=..., access_token=..., kefu_session=..., password=...
    (
        re.compile(r"(?i)\b([\w.-]*(?:token|session|secret|password)[\w.-]*=)[^&\s\"'#;,]+"),
        rf"\1{REDACTED}",
    ),
    # JSON: "token": "...", "csrf_token":"..."
    (
        re.compile(r"(?i)(\"[\w.-]*(?:token|session|secret|password)[\w.-]*\"\s*:\s*\")[^\"]*"),
        rf"\1{REDACTED}",
    ),
    # Authorization: Bearer ... / Basic ... (a header line, or a repr of a header list)
    (
        re.compile(r"(?i)(authorization[\"']?\s*[:=,]\s*[\"']?)(?:bearer\s+|basic\s+)?[^\s\"',]+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), rf"\1{REDACTED}"),
    # The WebSocket subprotocol that carries the customer token (docs/protocol.md).
    (re.compile(r"(kefu\.token\.)[\w.~+/=-]+"), rf"\1{REDACTED}"),
    # The follow-up survey's link carries its token in the path (docs/handoff.md).
    (re.compile(r"(/survey/follow-up/)[\w.~+=-]+"), rf"\1{REDACTED}"),
)

_lock = threading.Lock()
_installed = False
# Personal data in a log line (a customer's words in a debug print of a frame, an exception, a
# query string) is masked as core/pii.py masks it, unless KEFU_PII_MASK leaves "logs" out.
_personal_data = True


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return mask_personal_data(text) if _personal_data else text


def _redact_arg(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float | bool):
        return value  # numbers keep their type for %d and %f
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def _redact_record(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, Mapping):
        record.args = {key: _redact_arg(value) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(value) for value in record.args)
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Formatters reuse exc_text when it is set, so the traceback is printed redacted.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_log_redaction(*, personal_data: bool = True) -> None:
    """Redact every log record of this process from now on; calling it again only sets whether
    personal data is masked too (the last app built in the process says)."""
    global _installed, _personal_data
    with _lock:
        _personal_data = personal_data
        if _installed:
            return
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
