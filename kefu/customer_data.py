"""One customer's data: find it, export it, erase it; and the legal hold that exempts a
conversation from erasure and from the retention purge (docs/security.md).

A customer is named by one selector: the e-mail address they gave (the conversation's, or an
offline message's), the embedding site's external id from a signed identity, or one
conversation's id. The audit log never holds the e-mail or external id in clear: it records a
masked form and the SHA-256 of the normalised value, so an investigator who knows an address
can confirm it was erased, while the log itself names no one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from core.audit import AuditAction, record_audit
from core.clock import utcnow
from core.conversations import Conversation
from core.db import session_scope
from core.errors import InvalidInputError, KefuError, NotFoundError
from handoff.models import Ticket

from .conversation_data import CONVERSATION_TABLES, delete_rows, export_rows

__all__ = [
    "AuditedActor",
    "ConfirmationRequiredError",
    "CustomerSelector",
    "InvalidSelectorError",
    "LegalHoldChange",
    "erase_customer",
    "export_customer",
    "legal_hold_status",
    "set_legal_hold",
]

_WITH_PEOPLE = ("waiting_for_agent", "agent")


class InvalidSelectorError(InvalidInputError):
    code = "invalid_selector"


class ConfirmationRequiredError(KefuError):
    code = "confirmation_required"
    status = 422


class CustomerSelector(BaseModel):
    """Exactly one of the three."""

    email: str | None = Field(default=None, min_length=3, max_length=254)
    external_id: str | None = Field(default=None, min_length=1, max_length=128)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=32)

    @field_validator("email", "external_id", "conversation_id", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @model_validator(mode="after")
    def _one(self) -> CustomerSelector:
        fields = ("email", "external_id", "conversation_id")
        if sum(getattr(self, name) is not None for name in fields) != 1:
            raise ValueError("give exactly one of email, external_id, conversation_id")
        if self.email is not None and "@" not in self.email[1:-1]:
            raise ValueError("email: not an e-mail address")
        return self

    @property
    def kind(self) -> Literal["email", "external_id", "conversation_id"]:
        if self.email:
            return "email"
        return "external_id" if self.external_id else "conversation_id"

    @property
    def value(self) -> str:
        return (self.email or self.external_id or self.conversation_id or "").strip()

    def audited(self) -> dict[str, str]:
        """What the audit log keeps of the selector: never the e-mail or external id."""
        if self.kind == "conversation_id":
            # A random id, not the customer's: kept as it is, so the entry links to the target.
            return {"by": self.kind, "value": self.value}
        normalised = self.value.lower() if self.kind == "email" else self.value
        return {
            "by": self.kind,
            "masked": _mask(normalised, self.kind),
            "sha256": hashlib.sha256(normalised.encode()).hexdigest(),
        }

    @classmethod
    def parse(
        cls,
        *,
        email: str | None = None,
        external_id: str | None = None,
        conversation_id: str | None = None,
    ) -> CustomerSelector:
        """The selector, or ``InvalidSelectorError`` (422) saying what is wrong with it."""
        try:
            return cls(email=email, external_id=external_id, conversation_id=conversation_id)
        except ValidationError as exc:
            details: list[dict[str, object]] = [
                {
                    "field": ".".join(str(p) for p in err["loc"]) or "selector",
                    "message": err["msg"].removeprefix("Value error, "),
                }
                for err in exc.errors()
            ]
            raise InvalidSelectorError(
                "; ".join(f"{d['field']}: {d['message']}" for d in details), details=details
            ) from None

    def conversation_ids(self, session: Session) -> list[str]:
        if self.kind == "conversation_id":
            statement = select(Conversation.id).where(col(Conversation.id) == self.value)
        elif self.kind == "external_id":
            statement = select(Conversation.id).where(
                col(Conversation.customer_external_id) == self.value
            )
        else:
            email = self.value.lower()
            offline = select(Ticket.conversation_id).where(
                func.lower(col(Ticket.offline_email)) == email
            )
            statement = select(Conversation.id).where(
                or_(
                    func.lower(col(Conversation.customer_email)) == email,
                    col(Conversation.id).in_(offline),
                )
            )
        return list(session.exec(statement.order_by(col(Conversation.id))).all())


def _mask(value: str, kind: str) -> str:
    if kind == "email":
        local, _, domain = value.rpartition("@")
        name, dot, tld = domain.rpartition(".")
        return f"{local[:1]}***@{(name or tld)[:1]}***{dot}{tld if name else ''}"
    return f"{value[:2]}***"


@dataclass(frozen=True)
class AuditedActor:
    """Who acts, as the audit log records it: a staff member, or "cli"."""

    name: str
    user_id: int | None = None
    address: str | None = None


def export_customer(
    engine: Engine, selector: CustomerSelector, *, actor: AuditedActor
) -> dict[str, Any]:
    """Everything stored about the customer, as JSON; the export itself is audited."""
    with session_scope(engine) as session:
        conversations = [
            export_rows(session, conversation)
            for conversation in session.exec(
                select(Conversation)
                .where(col(Conversation.id).in_(selector.conversation_ids(session)))
                .order_by(col(Conversation.created_at), col(Conversation.id))
            ).all()
        ]
        counts = {
            "conversations": len(conversations),
            "events": sum(len(c["events"]) for c in conversations),
            "exchanges": sum(len(c["exchanges"]) for c in conversations),
            "tickets": sum(len(c["tickets"]) for c in conversations),
        }
        record_audit(
            session,
            action=AuditAction.customer_exported,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type="customer",
            address=actor.address,
            detail={"selector": selector.audited(), "counts": counts},
        )
    return {
        "selector": {"by": selector.kind, "value": selector.value},
        "exported_at": utcnow().isoformat(),
        "counts": counts,
        "conversations": conversations,
    }


def erase_customer(
    engine: Engine, selector: CustomerSelector, *, confirm: bool, actor: AuditedActor
) -> dict[str, Any]:
    """Delete everything stored about the customer, in one transaction, except conversations
    under a legal hold or still waiting for or with a person (both reported, by id)."""
    if not confirm:
        raise ConfirmationRequiredError(
            "erasure deletes the customer's data for good; send confirm: true",
            details=[{"field": "confirm", "message": "must be true"}],
        )
    with session_scope(engine) as session:
        ids = selector.conversation_ids(session)
        rows = session.exec(
            select(Conversation).where(col(Conversation.id).in_(ids)).with_for_update()
        ).all()
        held = sorted(c.id for c in rows if c.legal_hold)
        open_ = sorted(c.id for c in rows if not c.legal_hold and c.state in _WITH_PEOPLE)
        doomed = sorted(c.id for c in rows if c.id not in held and c.id not in open_)
        counts = delete_rows(session, doomed) if doomed else dict.fromkeys(CONVERSATION_TABLES, 0)
        result = {"erased": counts, "held": held, "with_people": open_}
        record_audit(
            session,
            action=AuditAction.customer_erased,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type="customer",
            address=actor.address,
            detail={"selector": selector.audited(), **result},
        )
    return result


class LegalHoldChange(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


def set_legal_hold(
    engine: Engine, conversation_id: str, *, hold: bool, reason: str, actor: AuditedActor
) -> dict[str, Any]:
    """Set or release the hold; audited with the reason when it changes anything."""
    if not reason.strip():
        raise InvalidInputError(
            "give the reason for the hold",
            details=[{"field": "reason", "message": "must not be blank"}],
        )
    with session_scope(engine) as session:
        conversation = session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            raise NotFoundError("no such conversation")
        changed = conversation.legal_hold != hold
        if changed:
            conversation.legal_hold = hold
            session.add(conversation)
            record_audit(
                session,
                action=AuditAction.legal_hold_set if hold else AuditAction.legal_hold_released,
                actor_id=actor.user_id,
                actor_name=actor.name,
                target_type="conversation",
                target_id=conversation_id,
                address=actor.address,
                detail={"reason": reason.strip()[:500]},
            )
        return {"conversation_id": conversation_id, "legal_hold": hold, "changed": changed}


def legal_hold_status(engine: Engine, conversation_id: str) -> dict[str, Any]:
    with Session(engine) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFoundError("no such conversation")
        return {
            "conversation_id": conversation.id,
            "legal_hold": conversation.legal_hold,
            "state": conversation.state,
            "created_at": conversation.created_at.isoformat(),
            "updated_at": conversation.updated_at.isoformat(),
        }
