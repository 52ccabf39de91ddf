"""bot actions: HTTP endpoints of the business's systems that an intent asks with its slots

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("required_slots", sa.JSON(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=False),
        sa.Column("missing_slot", sa.JSON(), nullable=False),
        sa.Column("not_found", sa.JSON(), nullable=False),
        sa.Column("failure_threshold", sa.Integer(), nullable=False),
        sa.Column("cooldown_seconds", sa.Float(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_bot_action_name"), "bot_action", ["name"], unique=True)
    op.create_index(op.f("ix_bot_action_intent"), "bot_action", ["intent"], unique=True)
    op.add_column("bot_exchange", sa.Column("action", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("bot_exchange", "action")
    op.drop_index(op.f("ix_bot_action_intent"), table_name="bot_action")
    op.drop_index(op.f("ix_bot_action_name"), table_name="bot_action")
    op.drop_table("bot_action")
