"""channels: the ways in beside the widget, their contacts, and each conversation's channel

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("inbound_token_hash", sa.String(length=64), nullable=True),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("signing_secret", sa.String(length=128), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_channel_kind"), "channel", ["kind"], unique=False)
    op.create_index(op.f("ix_channel_name"), "channel", ["name"], unique=True)
    op.create_table(
        "channel_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "external_id", name="uq_channel_contact_external"),
    )
    op.create_index(
        op.f("ix_channel_contact_channel_id"), "channel_contact", ["channel_id"], unique=False
    )
    op.create_index(
        op.f("ix_channel_contact_conversation_id"),
        "channel_contact",
        ["conversation_id"],
        unique=False,
    )
    # An API channel's Idempotency-Key: one stored message per key (channels/idempotency.py).
    op.create_table(
        "channel_message_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "key", name="uq_channel_message_key"),
    )
    op.create_index(
        op.f("ix_channel_message_key_conversation_id"),
        "channel_message_key",
        ["conversation_id"],
        unique=False,
    )
    op.add_column(
        "conversation",
        sa.Column("channel", sa.String(length=16), nullable=False, server_default="web"),
    )
    op.add_column("conversation", sa.Column("channel_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_conversation_channel"), "conversation", ["channel"], unique=False)
    op.create_index(
        op.f("ix_conversation_channel_id"), "conversation", ["channel_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_channel_id"), table_name="conversation")
    op.drop_index(op.f("ix_conversation_channel"), table_name="conversation")
    op.drop_column("conversation", "channel_id")
    op.drop_column("conversation", "channel")
    op.drop_index(op.f("ix_channel_message_key_conversation_id"), table_name="channel_message_key")
    op.drop_table("channel_message_key")
    op.drop_index(op.f("ix_channel_contact_conversation_id"), table_name="channel_contact")
    op.drop_index(op.f("ix_channel_contact_channel_id"), table_name="channel_contact")
    op.drop_table("channel_contact")
    op.drop_index(op.f("ix_channel_name"), table_name="channel")
    op.drop_index(op.f("ix_channel_kind"), table_name="channel")
    op.drop_table("channel")
