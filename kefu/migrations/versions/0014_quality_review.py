"""quality review: the rubric, sampled conversations and their scores

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_INDEXED = ("conversation_id", "agent_id", "reviewer_id", "status", "submitted_at")


def upgrade() -> None:
    op.create_table(
        "quality_rubric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "quality_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rubric_id", sa.Integer(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("sample_seed", sa.Integer(), nullable=True),
        sa.Column("sampled_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.ForeignKeyConstraint(["rubric_id"], ["quality_rubric.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in _INDEXED:
        op.create_index(
            op.f(f"ix_quality_review_{column}"),
            "quality_review",
            [column],
            unique=column == "conversation_id",
        )


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_quality_review_{column}"), table_name="quality_review")
    op.drop_table("quality_review")
    op.drop_table("quality_rubric")
