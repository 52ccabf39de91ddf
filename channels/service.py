"""Channels as admins manage them, and the check an app's request passes to use one.

Secrets are made with ``secrets`` and shown once. The inbound secret (what an app sends as its
bearer token) is kept only as its SHA-256 and compared in constant time; the signing secret
(the key that signs the channel's outbound events) is kept in clear, because signing needs it,
and never returned after it is shown. Every change is an entry in the staff audit log, written
in the change's own transaction; no entry holds a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.audit import AuditAction, record_audit
from core.auth import Actor
from core.clock import utcnow
from core.db import session_scope
from core.errors import ConflictError, InvalidInputError, KefuError, NotFoundError

from .models import Channel, ChannelKind
from .schemas import ChannelCreate, ChannelUpdate

__all__ = [
    "Audited",
    "ChannelDisabledError",
    "ChannelService",
    "DuplicateChannelError",
    "InvalidChannelSecretError",
    "SecretKind",
    "UnknownChannelError",
    "channel_name",
    "check_channel_name",
    "hash_secret",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_URL = 2000
# Kinds an admin can create here; WeChat and e-mail channels come with their own settings.
CREATABLE = frozenset({ChannelKind.api})
INBOUND_PREFIX = "kefu_in_"
SIGNING_PREFIX = "kefu_whsec_"
# Compared against when the caller sent no secret, so both refusals take the same time.
_NO_SECRET = hashlib.sha256(b"no secret was sent").hexdigest()

SecretKind = Literal["inbound", "signing"]


class UnknownChannelError(NotFoundError):
    code = "unknown_channel"


class InvalidChannelSecretError(KefuError):
    code = "invalid_channel_secret"
    status = 401


class DuplicateChannelError(ConflictError):
    code = "duplicate_name"


class ChannelDisabledError(KefuError):
    code = "channel_disabled"
    status = 403


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def channel_name(session: Session, channel_id: int) -> str | None:
    """The name of channel ``channel_id``, for what shows a conversation's channel."""
    channel = session.get(Channel, channel_id)
    return channel.name if channel else None


def _invalid(code: str, field: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, details=[{"code": code, "field": field}])


def check_channel_name(name: str) -> str:
    """``name`` if it is a valid channel name, else a 422 ``invalid_name``."""
    if not _NAME.match(name):
        raise _invalid(
            "invalid_name",
            "name",
            "a channel's name is 1 to 64 lower-case letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
        )
    return name


def _check_url(url: str) -> str | None:
    """The webhook URL, or None for "" (no webhook)."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _invalid(
            "invalid_webhook_url",
            "webhook_url",
            f"the webhook URL must be an http:// or https:// URL of at most {MAX_URL} characters",
        )
    return url


@dataclass(frozen=True)
class Audited:
    """Who changes a channel, and from where: for the audit log."""

    actor: Actor
    address: str


class ChannelService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def all(self) -> list[Channel]:
        with Session(self._engine) as session:
            return list(session.exec(select(Channel).order_by(col(Channel.name))).all())

    def get(self, name: str) -> Channel:
        with Session(self._engine) as session:
            return self._named(session, name)

    @staticmethod
    def _named(session: Session, name: str) -> Channel:
        channel = session.exec(select(Channel).where(col(Channel.name) == name)).first()
        if channel is None:
            raise UnknownChannelError(f"no channel named {name!r}")
        return channel

    def create(self, body: ChannelCreate, *, by: Audited) -> tuple[Channel, str, str]:
        """The channel, its inbound secret and its signing secret (shown once)."""
        name = check_channel_name(body.name)
        if body.kind not in CREATABLE:
            raise _invalid("unsupported_kind", "kind", "only 'api' channels can be created here")
        webhook_url = _check_url(body.webhook_url or "")
        secret = INBOUND_PREFIX + secrets.token_urlsafe(32)
        signing = SIGNING_PREFIX + secrets.token_urlsafe(32)
        channel = Channel(
            kind=body.kind,
            name=name,
            enabled=body.enabled,
            inbound_token_hash=hash_secret(secret),
            webhook_url=webhook_url,
            signing_secret=signing,
        )
        return self._add(channel, by, {"enabled": body.enabled}), secret, signing

    def create_wechat(
        self, name: str, config: dict[str, Any], *, enabled: bool, by: Audited
    ) -> Channel:
        """An Official Account whose ``config`` (AppID, AppSecret, token, AES key) the caller
        checked; its secrets are kept for signatures and the API, never shown."""
        channel = Channel(
            kind=ChannelKind.wechat,
            name=check_channel_name(name),
            enabled=enabled,
            config=config,
        )
        return self._add(channel, by, {"app_id": config.get("app_id")})

    def _add(self, channel: Channel, by: Audited, detail: dict[str, Any]) -> Channel:
        """Insert a new channel with its audit entry; a taken name is a 409 either way."""
        duplicate = DuplicateChannelError(
            f"a channel named {channel.name!r} already exists",
            details=[{"code": "duplicate_name", "field": "name"}],
        )
        try:
            with session_scope(self._engine) as session:
                taken = select(Channel).where(col(Channel.name) == channel.name)
                if session.exec(taken).first():
                    raise duplicate
                session.add(channel)
                session.flush()
                detail = {"kind": channel.kind, **detail}
                self._audit(session, AuditAction.channel_created, channel, by, detail)
        except IntegrityError:  # another admin created the name meanwhile
            raise duplicate from None
        return channel

    def update(self, name: str, body: ChannelUpdate, *, by: Audited) -> Channel:
        with session_scope(self._engine) as session:
            channel = self._named(session, name)
            changes: dict[str, list[Any]] = {}
            if body.webhook_url is not None:
                url = _check_url(body.webhook_url)
                if url != channel.webhook_url:
                    changes["webhook_url"] = [channel.webhook_url, url]
                    channel.webhook_url = url
            if body.enabled is not None and body.enabled != channel.enabled:
                changes["enabled"] = [channel.enabled, body.enabled]
                channel.enabled = body.enabled
            if changes:
                channel.updated_at = utcnow()
                session.add(channel)
                self._audit(session, AuditAction.channel_changed, channel, by, changes)
            return channel

    def rotate(self, name: str, which: SecretKind, *, by: Audited) -> tuple[Channel, str]:
        """A new secret of that kind; the old one stops working when this commits."""
        with session_scope(self._engine) as session:
            channel = self._named(session, name)
            if which == "inbound":
                secret = INBOUND_PREFIX + secrets.token_urlsafe(32)
                channel.inbound_token_hash = hash_secret(secret)
            else:
                secret = SIGNING_PREFIX + secrets.token_urlsafe(32)
                channel.signing_secret = secret
            channel.updated_at = utcnow()
            session.add(channel)
            detail = {"secret": which}
            self._audit(session, AuditAction.channel_secret_rotated, channel, by, detail)
            return channel, secret

    def authenticate(self, name: str, secret: str | None) -> Channel:
        """The channel an app's request names, if its secret is right and it is enabled.

        Unknown: 404. Wrong or missing secret: 401, the same answer either way. Disabled: 403,
        said only to a caller who holds the secret.
        """
        with Session(self._engine) as session:
            channel = self._named(session, name)
        given = hash_secret(secret) if secret else _NO_SECRET
        stored = channel.inbound_token_hash or _NO_SECRET
        if not hmac.compare_digest(given, stored) or not secret or not channel.inbound_token_hash:
            raise InvalidChannelSecretError("the channel secret is missing or wrong")
        if not channel.enabled:
            raise ChannelDisabledError(f"the channel {name!r} is disabled")
        return channel

    @staticmethod
    def _audit(
        session: Session,
        action: AuditAction,
        channel: Channel,
        by: Audited,
        detail: dict[str, Any],
    ) -> None:
        record_audit(
            session,
            action=action,
            actor_id=by.actor.user_id,
            actor_name=by.actor.name,
            target_type="channel",
            target_id=channel.id,
            address=by.address,
            detail={"name": channel.name, **detail},
        )
