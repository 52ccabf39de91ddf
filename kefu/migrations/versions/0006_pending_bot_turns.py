"""pending bot turns

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_bot_turn",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=96), nullable=False),
        sa.Column("claimed_until", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id", "message_seq"),
    )
    op.create_index(
        op.f("ix_pending_bot_turn_claimed_until"),
        "pending_bot_turn",
        ["claimed_until"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_bot_turn_claimed_until"), table_name="pending_bot_turn")
    op.drop_table("pending_bot_turn")
