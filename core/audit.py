"""The audit log of staff actions: who did what, to what, from where, and when.

Entries are only ever appended, in the same transaction as the action they record, so an
action and its entry commit or roll back together. No route edits or deletes them; they leave
the database only through the retention purge, after the audit retention period.

``action`` is a dotted name from ``AuditAction``; ``detail`` holds the action's own facts
(what changed, from what to what), never a password, token, secret or a customer's words.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel

from .clock import utcnow
from .db import UTCDateTime

__all__ = ["AuditAction", "StaffAuditEntry", "record_audit"]


class AuditAction(StrEnum):
    login_succeeded = "login.succeeded"
    login_failed = "login.failed"
    login_throttled = "login.throttled"
    logout = "logout"
    password_changed = "password.changed"  # noqa: S105 (an action name)
    password_reset = "password.reset"  # noqa: S105 (an action name)
    password_change_failed = "password.change_failed"  # noqa: S105 (an action name)
    session_ended = "session.ended"
    mfa_enabled = "mfa.enabled"
    mfa_disabled = "mfa.disabled"
    mfa_reset = "mfa.reset"
    mfa_failed = "mfa.failed"
    recovery_code_used = "mfa.recovery_code_used"
    user_created = "user.created"
    user_changed = "user.changed"
    user_disabled = "user.disabled"
    user_enabled = "user.enabled"
    kb_changed = "kb.changed"
    kb_imported = "kb.imported"
    model_activated = "model.activated"
    data_exported = "data.exported"
    pii_revealed = "pii.revealed"
    legal_hold_set = "legal_hold.set"
    legal_hold_released = "legal_hold.released"
    purge_run = "purge.run"
    customer_exported = "customer.exported"
    customer_erased = "customer.erased"
    channel_created = "channel.created"
    channel_changed = "channel.changed"
    channel_secret_rotated = "channel.secret_rotated"  # noqa: S105 (an action name)
    delivery_replayed = "channel.delivery_replayed"


class StaffAuditEntry(SQLModel, table=True):
    __tablename__ = "staff_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # The staff account that acted; None for the system (a scheduled purge) or an unknown name.
    actor_id: int | None = Field(default=None, index=True)
    # The name as given or as it was then, kept because accounts are renamed and failed
    # sign-ins name accounts that may not exist.
    actor_name: str = Field(default="", max_length=64)
    action: str = Field(max_length=48, index=True)
    target_type: str | None = Field(default=None, max_length=32)
    target_id: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def record_audit(
    session: Session,
    *,
    action: AuditAction,
    actor_id: int | None = None,
    actor_name: str = "",
    target_type: str | None = None,
    target_id: str | int | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> StaffAuditEntry:
    """Add an entry to ``session``; it commits with the caller's transaction."""
    entry = StaffAuditEntry(
        actor_id=actor_id,
        actor_name=actor_name[:64],
        action=action.value,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:64],
        address=None if address is None else address[:64],
        detail=detail or {},
    )
    session.add(entry)
    return entry
