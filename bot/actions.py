"""Actions: the bot asks the business's systems (an order API, say) with the slots it extracted.

An action serves one intent. When the policy answers that intent and every required slot is
known (in the message, or in the question a slot-only message continues), the turn calls the
action's URL with httpx and renders its reply template, in the customer's language, from the
JSON answer. A missing slot gets the action's prompt; the customer's next slot-only message
continues the question (bot/continuation.py). A 404 is an answer ("I couldn't find order X")
when the action has a not-found template. Everything else that goes wrong (a timeout, no
connection, another non-2xx status, an answer that is not JSON, a template that fails on the
answer) hands the conversation to a person.

Each action has a circuit breaker (pybreaker), per process: after ``failure_threshold`` failed
calls in a row it opens for ``cooldown_seconds``, and the bot hands over at once without
calling; then one trial call decides whether it closes again.
"""

from __future__ import annotations

import json
import re
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx
import pybreaker
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.db import session_scope
from core.errors import ConflictError, InvalidInputError, NotFoundError

from .models import BotAction
from .slots import Slot

__all__ = [
    "DEMO_ORDERS",
    "ActionResult",
    "ActionService",
    "ActionSpec",
    "demo_actions",
    "demo_order",
]

Outcome = Literal["ok", "not_found", "timeout", "error", "bad_answer", "open_circuit"]
# Outcomes that hand the conversation to a person.
FAILURES = frozenset({"timeout", "error", "bad_answer", "open_circuit"})
SLOT_KINDS = ("order_number", "email", "phone", "amount")
LANGUAGES = ("en", "zh")
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 30.0
# The most of an answer read, and of it shown by the admin's test call.
MAX_ANSWER_BYTES = 1_000_000
SHOWN_ANSWER_CHARS = 4000
MAX_REPLY_CHARS = 2000
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

# What the customer reads when the system failed, before the usual hand-over message.
FAILED = {
    "en": "I couldn't check that in our system just now.",
    "zh": "抱歉，我暂时无法在系统中查询到相关信息。",
}

# Templates render plain text: the widget shows replies as text nodes (markdown-lite), never
# as HTML, so autoescaping would only garble "&" and quotes.
_TEMPLATES = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)

DEMO_DIR = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo"
DEMO_ORDERS = DEMO_DIR / "orders.json"
DEMO_ACTIONS = DEMO_DIR / "actions.json"


class Languages(BaseModel):
    en: str = Field(default="", max_length=MAX_REPLY_CHARS)
    zh: str = Field(default="", max_length=MAX_REPLY_CHARS)


class ActionSpec(BaseModel):
    """An action as the admin API takes it. Header values come back masked; sending a masked
    value back unchanged keeps the stored one."""

    name: str = Field(max_length=64)
    intent: str = Field(max_length=64)
    method: str = "GET"
    url: str = Field(max_length=2000)
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    required_slots: list[str] = Field(default_factory=lambda: ["order_number"], max_length=4)
    timeout_seconds: float = 5.0
    reply: Languages
    missing_slot: Languages = Field(default_factory=Languages)
    not_found: Languages = Field(default_factory=Languages)
    failure_threshold: int = 3
    cooldown_seconds: float = 30.0
    enabled: bool = True


@dataclass
class ActionResult:
    """One call (or a call not made) and what the customer is told."""

    action: str
    outcome: Outcome
    slots: dict[str, str]
    status: int | None = None
    latency_ms: float | None = None
    answer: Any = None
    reply: str | None = None
    error: str = ""
    replies: dict[str, str] = field(default_factory=dict)  # the test call: every language

    @property
    def failed(self) -> bool:
        return self.outcome in FAILURES

    def log(self, mask: Callable[[str], str]) -> dict[str, Any]:
        """The exchange log's record: slot values masked as the log masks personal data."""
        return {
            "name": self.action,
            "slots": {kind: mask(value) for kind, value in self.slots.items()},
            "status": self.status,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "outcome": self.outcome,
            "error": self.error[:200],
        }


class _CallFailedError(Exception):
    def __init__(self, outcome: Outcome, error: str) -> None:
        super().__init__(error)
        self.outcome = outcome


class ActionService:
    def __init__(self, engine: Engine, *, transport: httpx.BaseTransport | None = None) -> None:
        self._engine = engine
        self._client = httpx.Client(transport=transport, follow_redirects=False)
        self._breakers: dict[str, tuple[tuple[Any, ...], pybreaker.CircuitBreaker]] = {}
        self._lock = threading.Lock()

    # -- storage ----------------------------------------------------------------------------

    def all(self) -> list[BotAction]:
        with Session(self._engine) as session:
            return list(session.exec(select(BotAction).order_by(col(BotAction.name))).all())

    def get(self, name: str) -> BotAction:
        with Session(self._engine) as session:
            action = session.exec(select(BotAction).where(col(BotAction.name) == name)).first()
        if action is None:
            raise NotFoundError(f"no action named {name!r}")
        return action

    def for_intent(self, intent: str | None) -> BotAction | None:
        """The enabled action that serves ``intent``, if any."""
        if not intent:
            return None
        with Session(self._engine) as session:
            return session.exec(
                select(BotAction).where(
                    col(BotAction.intent) == intent, col(BotAction.enabled).is_(True)
                )
            ).first()

    def create(self, spec: ActionSpec, *, intents: list[str]) -> BotAction:
        values = _validated(spec, intents=intents, stored_headers={})
        with session_scope(self._engine) as session:
            self._unique(session, values, current=None)
            action = BotAction(**values)
            session.add(action)
            session.flush()
            session.refresh(action)
            session.expunge(action)
        return action

    def update(self, name: str, spec: ActionSpec, *, intents: list[str]) -> BotAction:
        with session_scope(self._engine) as session:
            action = session.exec(select(BotAction).where(col(BotAction.name) == name)).first()
            if action is None:
                raise NotFoundError(f"no action named {name!r}")
            values = _validated(spec, intents=intents, stored_headers=action.headers)
            self._unique(session, values, current=action.id)
            for key, value in values.items():
                setattr(action, key, value)
            action.updated_at = utcnow()
            session.add(action)
            session.flush()
            session.refresh(action)
            session.expunge(action)
        return action

    def ensure(self, specs: list[ActionSpec], *, intents: list[str]) -> int:
        """Create the actions whose names are not taken yet; an admin's edits stay."""
        taken = {action.name for action in self.all()}
        fresh = [spec for spec in specs if spec.name not in taken]
        for spec in fresh:
            self.create(spec, intents=intents)
        return len(fresh)

    def delete(self, name: str) -> None:
        with session_scope(self._engine) as session:
            action = session.exec(select(BotAction).where(col(BotAction.name) == name)).first()
            if action is None:
                raise NotFoundError(f"no action named {name!r}")
            session.delete(action)

    @staticmethod
    def _unique(session: Session, values: dict[str, Any], *, current: int | None) -> None:
        for column in ("name", "intent"):
            other = session.exec(
                select(BotAction).where(getattr(BotAction, column) == values[column])
            ).first()
            if other is not None and other.id != current:
                raise ConflictError(
                    f"another action already has {column} {values[column]!r}",
                    details=[{"code": f"duplicate_{column}", "field": column}],
                )

    # -- calling ----------------------------------------------------------------------------

    @staticmethod
    def slot_values(action: BotAction, slots: list[Slot]) -> dict[str, str]:
        """The first value of each required kind, in the order the customer gave them."""
        values: dict[str, str] = {}
        for slot in slots:
            if slot.kind in action.required_slots and slot.kind not in values:
                values[slot.kind] = slot.value
        return values

    @staticmethod
    def missing(action: BotAction, values: dict[str, str]) -> list[str]:
        return [kind for kind in action.required_slots if kind not in values]

    def prompt(self, action: BotAction, language: str) -> str:
        """The question for a missing slot; empty: the intent's own response asks."""
        return _in(action.missing_slot, language)

    def call(
        self,
        action: BotAction,
        values: dict[str, str],
        language: str,
        *,
        every_language: bool = False,
        through_breaker: bool = True,
    ) -> ActionResult:
        """Call the action's endpoint through its circuit breaker and render the reply (the
        admin's test call bypasses the breaker: it neither trips nor waits for it)."""
        result = ActionResult(action.name, "ok", dict(values))
        try:
            if through_breaker:
                response = self._breaker(action).call(self._request, action, values, result)
            else:
                response = self._request(action, values, result)
        except pybreaker.CircuitBreakerError:
            result.outcome, result.error = "open_circuit", "the circuit breaker is open"
            return result
        except _CallFailedError as exc:
            result.outcome, result.error = exc.outcome, str(exc)
            return result
        found = response.status_code != 404
        result.outcome = "ok" if found else "not_found"
        templates = action.reply if found else action.not_found
        context = _context(result.answer, values, response.status_code)
        try:
            for code in LANGUAGES if every_language else (language,):
                result.replies[code] = _render(_in(templates, code), context)
        except (TemplateError, ValueError) as exc:
            result.outcome, result.error = "bad_answer", f"the reply template failed: {exc}"
            return result
        result.reply = result.replies.get(language) or next(iter(result.replies.values()))
        return result

    def _request(
        self, action: BotAction, values: dict[str, str], result: ActionResult
    ) -> httpx.Response:
        url = _url(action.url, values)
        started = time.perf_counter()
        try:
            response = self._client.request(
                action.method,
                url,
                headers=action.headers,
                json=values if action.method == "POST" else None,
                timeout=action.timeout_seconds,
            )
        except httpx.TimeoutException as exc:
            result.latency_ms = (time.perf_counter() - started) * 1000
            raise _CallFailedError(
                "timeout", f"no answer within {action.timeout_seconds:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            result.latency_ms = (time.perf_counter() - started) * 1000
            raise _CallFailedError("error", f"{type(exc).__name__}: {exc}"[:200]) from exc
        result.latency_ms = (time.perf_counter() - started) * 1000
        result.status = response.status_code
        if response.status_code == 404 and any(action.not_found.values()):
            result.answer = _json_or_none(response)
            return response  # an answer: no such order
        if not 200 <= response.status_code < 300:
            raise _CallFailedError("error", f"HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise _CallFailedError("bad_answer", "the answer is larger than 1 MB")
        try:
            result.answer = response.json()
        except ValueError as exc:
            raise _CallFailedError("bad_answer", "the answer is not JSON") from exc
        return response

    def _breaker(self, action: BotAction) -> pybreaker.CircuitBreaker:
        """The action's breaker; editing the action starts it afresh."""
        version = (action.updated_at, action.failure_threshold, action.cooldown_seconds)
        with self._lock:
            known = self._breakers.get(action.name)
            if known is None or known[0] != version:
                breaker = pybreaker.CircuitBreaker(
                    fail_max=action.failure_threshold,
                    reset_timeout=action.cooldown_seconds,
                    name=action.name,
                    # The call that trips it raises its own failure, for the log's outcome.
                    throw_new_error_on_trip=False,
                )
                known = self._breakers[action.name] = (version, breaker)
            return known[1]

    def breaker_state(self, name: str) -> str:
        known = self._breakers.get(name)
        return str(known[1].current_state) if known else "closed"

    def close(self) -> None:
        self._client.close()


# -- the API's view ---------------------------------------------------------------------------


def action_record(action: BotAction, service: ActionService | None = None) -> dict[str, Any]:
    """An action as the admin API shows it: header values masked."""
    record = action.model_dump(exclude={"id"})
    record["headers"] = {name: mask_secret(value) for name, value in action.headers.items()}
    record["updated_at"] = action.updated_at.isoformat()
    if service is not None:
        record["circuit"] = service.breaker_state(action.name)
    return record


def mask_secret(value: str) -> str:
    """Enough of a header value to recognise it, never all of it."""
    return f"{value[:3]}•••" if len(value) >= 12 else "•••"


def shown_answer(answer: Any) -> str:
    text = json.dumps(answer, ensure_ascii=False)
    return text if len(text) <= SHOWN_ANSWER_CHARS else text[:SHOWN_ANSWER_CHARS] + "…"


# -- the demo store's order API ---------------------------------------------------------------


def demo_order(order_number: str) -> dict[str, Any] | None:
    orders: dict[str, dict[str, Any]] = json.loads(DEMO_ORDERS.read_text("utf-8"))
    order = orders.get(order_number.strip().upper())
    return None if order is None else {"order_number": order_number.strip().upper(), **order}


def demo_actions(base_url: str) -> list[ActionSpec]:
    """The demo store's actions, pointed at this server's own demo API."""
    records: list[dict[str, Any]] = json.loads(DEMO_ACTIONS.read_text("utf-8"))
    return [
        ActionSpec(**{k: v for k, v in r.items() if k != "path"}, url=base_url + r["path"])
        for r in records
    ]


# -- validation and rendering -----------------------------------------------------------------


def _validated(
    spec: ActionSpec, *, intents: list[str], stored_headers: dict[str, str]
) -> dict[str, Any]:
    def invalid(code: str, field_name: str, message: str) -> InvalidInputError:
        return InvalidInputError(message, details=[{"code": code, "field": field_name}])

    if not _NAME.match(spec.name):
        raise invalid(
            "invalid_name", "name", "the name takes lower-case letters, digits, '_', '.', '-'"
        )
    if spec.intent not in intents:
        raise invalid("unknown_intent", "intent", f"there is no intent {spec.intent!r}")
    method = spec.method.upper()
    if method not in {"GET", "POST"}:
        raise invalid("invalid_method", "method", "the method is GET or POST")
    parts = urlsplit(spec.url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise invalid("invalid_url", "url", "the URL must be http:// or https:// with a host")
    required = list(spec.required_slots)
    unknown = [k for k in required if k not in SLOT_KINDS]
    if unknown or len(set(required)) != len(required):
        raise invalid(
            "invalid_slot",
            "required_slots",
            f"required slots are distinct kinds among {', '.join(SLOT_KINDS)}",
        )
    try:
        fields = [(f, fmt, conv) for _, f, fmt, conv in string.Formatter().parse(spec.url)]
    except ValueError:
        raise invalid("invalid_url", "url", "the URL's braces do not pair up") from None
    bad = [
        f"{{{f}}}"
        for f, fmt, conv in fields
        if f is not None and (f not in required or fmt or conv)
    ]
    if bad:
        raise invalid(
            "unknown_placeholder", "url", f"{', '.join(bad)} in the URL is not a required slot"
        )
    if not MIN_TIMEOUT <= spec.timeout_seconds <= MAX_TIMEOUT:
        raise invalid(
            "invalid_timeout",
            "timeout_seconds",
            f"the timeout is between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds",
        )
    if not 1 <= spec.failure_threshold <= 100:
        raise invalid("invalid_breaker", "failure_threshold", "between 1 and 100 failures")
    if not 1 <= spec.cooldown_seconds <= 3600:
        raise invalid("invalid_breaker", "cooldown_seconds", "between 1 and 3600 seconds")
    if not spec.reply.en.strip():
        raise invalid("missing_template", "reply.en", "the English reply template is required")
    for group in ("reply", "missing_slot", "not_found"):
        for language, text in getattr(spec, group).model_dump().items():
            try:
                _TEMPLATES.parse(text)
            except TemplateError as exc:
                raise invalid(
                    "invalid_template", f"{group}.{language}", f"{group}.{language}: {exc}"
                ) from None
    headers: dict[str, str] = {}
    for name, value in spec.headers.items():
        if not _HEADER_NAME.match(name) or any(c in value for c in "\r\n\0") or len(value) > 2000:
            raise invalid("invalid_header", "headers", f"header {name!r} is not a valid header")
        kept = stored_headers.get(name)
        headers[name] = kept if kept is not None and value == mask_secret(kept) else value
    return {
        "name": spec.name,
        "intent": spec.intent,
        "method": method,
        "url": spec.url,
        "headers": headers,
        "required_slots": required,
        "timeout_seconds": spec.timeout_seconds,
        "reply": spec.reply.model_dump(),
        "missing_slot": spec.missing_slot.model_dump(),
        "not_found": spec.not_found.model_dump(),
        "failure_threshold": spec.failure_threshold,
        "cooldown_seconds": spec.cooldown_seconds,
        "enabled": spec.enabled,
    }


def _url(template: str, values: dict[str, str]) -> str:
    return template.format_map({k: quote(v, safe="") for k, v in values.items()})


def _in(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("en") or ""


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _context(answer: Any, values: dict[str, str], status: int) -> dict[str, Any]:
    """What a template sees: the answer's own keys, and ``answer``, ``slots``, ``status``."""
    context: dict[str, Any] = dict(answer) if isinstance(answer, dict) else {}
    context.update(answer=answer, slots=dict(values), status=status)
    return context


def _render(template: str, context: dict[str, Any]) -> str:
    text = _TEMPLATES.from_string(template).render(context).strip()
    if not text:
        raise ValueError("the reply is empty")
    return text[:MAX_REPLY_CHARS]
