"""conversations and exchange log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("customer_name", sa.String(length=128), nullable=True),
        sa.Column("customer_email", sa.String(length=254), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("consecutive_misses", sa.Integer(), nullable=False),
        sa.Column("escalation_reason", sa.String(length=64), nullable=True),
        sa.Column("sentiment_scores", sa.JSON(), nullable=False),
        sa.Column("pending_suggestions", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_conversation_state"), "conversation", ["state"], unique=False)
    op.create_table(
        "bot_exchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("reply_seq", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("intent_confidence", sa.Float(), nullable=True),
        sa.Column("intent_in_scope", sa.Boolean(), nullable=True),
        sa.Column("runners_up", sa.JSON(), nullable=False),
        sa.Column("retrieved", sa.JSON(), nullable=False),
        sa.Column("sentiment_label", sa.String(length=16), nullable=False),
        sa.Column("sentiment_score", sa.Float(), nullable=False),
        sa.Column("sentiment", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.Column("model_versions", sa.JSON(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("rated_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_bot_exchange_conversation_id"), "bot_exchange", ["conversation_id"], unique=False
    )
    op.create_index(
        op.f("ix_bot_exchange_created_at"), "bot_exchange", ["created_at"], unique=False
    )
    op.create_index(op.f("ix_bot_exchange_decision"), "bot_exchange", ["decision"], unique=False)
    op.create_index(
        "ix_bot_exchange_reply", "bot_exchange", ["conversation_id", "reply_seq"], unique=False
    )
    op.create_table(
        "conversation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_conversation_event_client"),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_conversation_event_seq"),
    )
    op.create_index(
        op.f("ix_conversation_event_conversation_id"),
        "conversation_event",
        ["conversation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_event_conversation_id"), table_name="conversation_event")
    op.drop_table("conversation_event")
    op.drop_index("ix_bot_exchange_reply", table_name="bot_exchange")
    op.drop_index(op.f("ix_bot_exchange_decision"), table_name="bot_exchange")
    op.drop_index(op.f("ix_bot_exchange_created_at"), table_name="bot_exchange")
    op.drop_index(op.f("ix_bot_exchange_conversation_id"), table_name="bot_exchange")
    op.drop_table("bot_exchange")
    op.drop_index(op.f("ix_conversation_state"), table_name="conversation")
    op.drop_table("conversation")
