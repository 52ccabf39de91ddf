"""agent assist's used suggestions; the service-language list and its uses

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_phrase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "service_phrase_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase_id", sa.Integer(), nullable=True),
        sa.Column("phrase", sa.String(length=128), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("phrase_id", "agent_id", "at"):
        op.create_index(
            op.f(f"ix_service_phrase_use_{column}"), "service_phrase_use", [column], unique=False
        )
    op.create_table(
        "assist_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("agent_id", "at"):
        op.create_index(op.f(f"ix_assist_use_{column}"), "assist_use", [column], unique=False)


def downgrade() -> None:
    for column in ("agent_id", "at"):
        op.drop_index(op.f(f"ix_assist_use_{column}"), table_name="assist_use")
    op.drop_table("assist_use")
    for column in ("phrase_id", "agent_id", "at"):
        op.drop_index(op.f(f"ix_service_phrase_use_{column}"), table_name="service_phrase_use")
    op.drop_table("service_phrase_use")
    op.drop_table("service_phrase")
