"""channel deliveries: the webhook outbox of API channels and its per-conversation cursor

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=48), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=96), nullable=True),
        sa.Column("lease_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replay", sa.Boolean(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("event_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "channel_id", "conversation_id", "seq", name="uq_channel_delivery_event"
        ),
    )
    op.create_index(
        op.f("ix_channel_delivery_channel_id"), "channel_delivery", ["channel_id"], unique=False
    )
    op.create_index(
        "ix_channel_delivery_due", "channel_delivery", ["state", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_channel_delivery_order",
        "channel_delivery",
        ["conversation_id", "state", "seq"],
        unique=False,
    )
    op.create_table(
        "channel_outbox_cursor",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id"),
    )


def downgrade() -> None:
    op.drop_table("channel_outbox_cursor")
    op.drop_index("ix_channel_delivery_order", table_name="channel_delivery")
    op.drop_index("ix_channel_delivery_due", table_name="channel_delivery")
    op.drop_index(op.f("ix_channel_delivery_channel_id"), table_name="channel_delivery")
    op.drop_table("channel_delivery")
