"""The channel tables: a channel, the customers it knows, and what it has sent out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from core.db import UTCDateTime

__all__ = ["Channel", "ChannelContact", "ChannelKind", "ChannelToken"]


class ChannelKind(StrEnum):
    """Also the values of ``conversation.channel``; ``web`` (the widget) has no ``channel`` row."""

    web = "web"
    api = "api"
    wechat = "wechat"
    email = "email"


class Channel(SQLModel, table=True):
    """One configured way in: an app's API inbox, a WeChat account, a mailbox."""

    __tablename__ = "channel"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    # Unique; lower-case letters, digits, '_', '.', '-'. Appears in URLs and logs.
    name: str = Field(max_length=64, unique=True, index=True)
    enabled: bool = True
    # Inbound: the SHA-256 of the channel's secret, which callers present; shown once.
    inbound_token_hash: str | None = Field(default=None, max_length=64)
    # Outbound: where events go (an app's webhook) and the key that signs them (HMAC-SHA256);
    # kept in clear because signing needs it, never returned after it is first shown.
    webhook_url: str | None = Field(default=None, max_length=2000)
    signing_secret: str | None = Field(default=None, max_length=128)
    # Kind-specific settings (a WeChat app id, a mailbox address, …).
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChannelContact(SQLModel, table=True):
    """A customer as one channel knows them (an app's user id, a WeChat OpenID, an address),
    and the conversation their next message goes to."""

    __tablename__ = "channel_contact"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id", name="uq_channel_contact_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id", index=True)
    external_id: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=254)
    # The contact's current conversation; a message after it closed (and can no longer be
    # reopened) starts a new one.
    conversation_id: str | None = Field(default=None, max_length=32, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChannelToken(SQLModel, table=True):
    """A platform's access token for one channel (WeChat's ``access_token``), shared by every
    process: fetching a new one ends the old one's life within minutes, so processes must not
    each keep their own."""

    __tablename__ = "channel_token"

    channel_id: int = Field(foreign_key="channel.id", primary_key=True)
    access_token: str = Field(max_length=512)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
