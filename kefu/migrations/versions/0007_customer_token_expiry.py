"""customer token expiry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Conversations started before tokens expired get the default lifetime (30 days,
# KEFU_CUSTOMER_TOKEN_TTL_DAYS) from the upgrade: their customers keep their chats, and the
# widget rotates the token half-way through as it does for new ones.
BACKFILL_TTL = timedelta(days=30)


def upgrade() -> None:
    # The backfill is the column's default while it is added, so the column is NOT NULL from
    # the start. SQLite cannot drop a default without rebuilding the table (which the
    # conversation_event foreign keys forbid inside this transaction), so there it stays; the
    # app always writes the column, so it is never used.
    expires = datetime.now(UTC) + BACKFILL_TTL
    sqlite = op.get_bind().dialect.name == "sqlite"
    literal = (
        expires.strftime("%Y-%m-%d %H:%M:%S.%f")
        if sqlite
        else expires.isoformat(sep=" ", timespec="microseconds")
    )
    op.add_column(
        "conversation",
        sa.Column(
            "token_expires_at",
            core.db.UTCDateTime(timezone=True),
            nullable=False,
            server_default=sa.text(f"'{literal}'"),
        ),
    )
    if not sqlite:
        op.alter_column("conversation", "token_expires_at", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("token_expires_at")
