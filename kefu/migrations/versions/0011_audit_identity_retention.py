"""staff audit log; signed customer identity; legal hold

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_CONVERSATION_FLAGS = ("identity_verified", "legal_hold")


def upgrade() -> None:
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_staff_audit_at"), "staff_audit", ["at"], unique=False)
    op.create_index(op.f("ix_staff_audit_actor_id"), "staff_audit", ["actor_id"], unique=False)
    op.create_index(op.f("ix_staff_audit_action"), "staff_audit", ["action"], unique=False)

    # As in 0010: existing rows get false, and PostgreSQL then drops the default.
    for name in _CONVERSATION_FLAGS:
        op.add_column(
            "conversation",
            sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()),
        )
    if op.get_bind().dialect.name != "sqlite":
        for name in _CONVERSATION_FLAGS:
            op.alter_column("conversation", name, server_default=None)
    op.add_column(
        "conversation", sa.Column("customer_external_id", sa.String(length=128), nullable=True)
    )
    op.create_index(
        op.f("ix_conversation_customer_external_id"),
        "conversation",
        ["customer_external_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_conversation_customer_email"), "conversation", ["customer_email"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_customer_email"), table_name="conversation")
    op.drop_index(op.f("ix_conversation_customer_external_id"), table_name="conversation")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("customer_external_id")
        for name in _CONVERSATION_FLAGS:
            batch.drop_column(name)
    op.drop_index(op.f("ix_staff_audit_action"), table_name="staff_audit")
    op.drop_index(op.f("ix_staff_audit_actor_id"), table_name="staff_audit")
    op.drop_index(op.f("ix_staff_audit_at"), table_name="staff_audit")
    op.drop_table("staff_audit")
