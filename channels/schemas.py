"""What the channel APIs take and return: the admin's channel families and an app's messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from core.api_types import NotNull
from core.conversations import EventPublic
from core.text import STORABLE, StoredText

from .models import Channel

__all__ = [
    "ChannelCreate",
    "ChannelPublic",
    "ChannelUpdate",
    "ChannelWithSecrets",
    "ContactEvents",
    "ContactIn",
    "InboundMessage",
    "InboundResponse",
]

# Bounds that keep a request small; the service checks the real rules and names them.
_NAME_CAP = 256
_URL_CAP = 4000
WebhookUrl = Annotated[str, StringConstraints(max_length=_URL_CAP), STORABLE]


class ChannelCreate(BaseModel):
    name: StoredText = Field(max_length=_NAME_CAP)
    kind: StoredText = Field(default="api", max_length=16)
    # Where the channel's outbound events go (http or https); optional.
    webhook_url: WebhookUrl | None = None
    enabled: bool = True


class ChannelUpdate(BaseModel):
    """Left out: kept. ``webhook_url`` ``""`` removes the URL. The name and kind never change:
    an app's integration names the channel in its URLs."""

    webhook_url: NotNull[WebhookUrl] = None
    enabled: NotNull[bool] = None


class ChannelPublic(BaseModel):
    id: int
    kind: str
    name: str
    enabled: bool
    webhook_url: str | None
    # Where an app posts its messages.
    inbound_path: str
    # Whether a secret is set; the secrets themselves are shown once, never again.
    has_secret: bool
    has_signing_secret: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, channel: Channel) -> ChannelPublic:
        return cls(
            id=channel.id or 0,
            kind=channel.kind,
            name=channel.name,
            enabled=channel.enabled,
            webhook_url=channel.webhook_url,
            inbound_path=f"/api/channels/{channel.name}/messages",
            has_secret=channel.inbound_token_hash is not None,
            has_signing_secret=channel.signing_secret is not None,
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )


class ChannelWithSecrets(ChannelPublic):
    """The answer to a create (both secrets) or a rotation (the rotated one): the only time a
    secret is shown."""

    secret: str | None = None
    signing_secret: str | None = None


class ContactIn(BaseModel):
    # The app's own id for its user: stable, and the same for every message of theirs.
    id: StoredText = Field(min_length=1, max_length=128)
    name: StoredText | None = Field(default=None, max_length=128)
    email: StoredText | None = Field(default=None, max_length=254)


class InboundMessage(BaseModel):
    contact: ContactIn
    # Checked as the widget's messages are (empty_message, message_too_long, invalid_text).
    text: str
    # The language of a conversation this message starts; detected from the text otherwise.
    language: Literal["en", "zh"] | None = None


class InboundResponse(BaseModel):
    conversation_id: str
    contact_id: str
    message: EventPublic
    # The bot's replies of this turn, as the widget's REST send returns them (empty when a
    # person has the conversation: their replies come later, as events).
    replies: list[EventPublic]


class ContactEvents(BaseModel):
    conversation_id: str | None
    events: list[EventPublic]
    # True when more follow: ask again with ``after`` = the last ``seq`` returned.
    has_more: bool = False
