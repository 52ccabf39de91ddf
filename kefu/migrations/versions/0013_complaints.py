"""complaints: a level, its deadline, a category and the root cause

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_INDEXED = ("conversation_id", "status", "created_at", "deadline_at")


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("warned_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("root_cause", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in _INDEXED:
        op.create_index(
            op.f(f"ix_complaint_{column}"),
            "complaint",
            [column],
            unique=column == "conversation_id",
        )


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_complaint_{column}"), table_name="complaint")
    op.drop_table("complaint")
