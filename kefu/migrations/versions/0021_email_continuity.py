"""e-mail continuity: what the customer's widget was shown, reply addresses, mail headers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(
            sa.Column("customer_seen_seq", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(sa.Column("headers", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("conversation_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_mail_outbox_conversation_id", ["conversation_id"])
    op.create_table(
        "email_reply_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("up_to_seq", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "up_to_seq", name="uq_email_reply_token_seq"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "ix_email_reply_token_conversation_id", "email_reply_token", ["conversation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_email_reply_token_conversation_id", table_name="email_reply_token")
    op.drop_table("email_reply_token")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_index("ix_mail_outbox_conversation_id")
        batch.drop_column("conversation_id")
        batch.drop_column("headers")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("customer_seen_seq")
