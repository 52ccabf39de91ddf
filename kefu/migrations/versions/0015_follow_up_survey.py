"""follow-up survey: the question sent days after a chat closes, and its answer

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# (column, unique)
_INDEXED = (
    ("conversation_id", True),
    ("status", False),
    ("email_state", False),
    ("token_hash", True),
)


def upgrade() -> None:
    when = core.db.UTCDateTime(timezone=True)
    op.create_table(
        "follow_up_survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("closed_at", when, nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("email_state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", when, nullable=True),
        sa.Column("lease_until", when, nullable=True),
        sa.Column("sent_at", when, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("shown_at", when, nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_at", when, nullable=True),
        sa.Column("answered_via", sa.String(length=16), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column, unique in _INDEXED:
        op.create_index(
            op.f(f"ix_follow_up_survey_{column}"), "follow_up_survey", [column], unique=unique
        )


def downgrade() -> None:
    for column, _unique in _INDEXED:
        op.drop_index(op.f(f"ix_follow_up_survey_{column}"), table_name="follow_up_survey")
    op.drop_table("follow_up_survey")
