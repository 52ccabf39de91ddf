"""handoff desk

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shortcut"),
    )
    op.create_table(
        "agent_profile",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("presence", sa.String(length=16), nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("active_chats", sa.Integer(), nullable=False),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("last_assigned_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("presence_changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_user.id"],
        ),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "handoff_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("breached_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("customer_tier", sa.String(length=16), nullable=False),
        sa.Column("offline_email", sa.String(length=254), nullable=True),
        sa.Column("offline_message", sa.Text(), nullable=True),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("resolution", sa.String(length=24), nullable=True),
        sa.Column("reopened_from", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["staff_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_handoff_ticket_agent_id"), "handoff_ticket", ["agent_id"], unique=False
    )
    op.create_index(
        op.f("ix_handoff_ticket_conversation_id"),
        "handoff_ticket",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_handoff_ticket_created_at"), "handoff_ticket", ["created_at"], unique=False
    )
    op.create_index(
        "ix_handoff_ticket_status_team", "handoff_ticket", ["status", "team"], unique=False
    )
    op.create_table(
        "conversation_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("person_handled", sa.Boolean(), nullable=False),
        sa.Column("csat", sa.Integer(), nullable=False),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["staff_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["handoff_ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id"),
    )
    op.add_column(
        "conversation",
        sa.Column("customer_tier", sa.String(length=16), nullable=False, server_default="standard"),
    )
    op.add_column(
        "conversation", sa.Column("closed_at", core.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "conversation", sa.Column("reopen_until", core.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.create_index(
        op.f("ix_conversation_created_at"), "conversation", ["created_at"], unique=False
    )
    op.add_column(
        "conversation_event",
        sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("conversation_event", "internal")
    op.drop_index(op.f("ix_conversation_created_at"), table_name="conversation")
    op.drop_column("conversation", "reopen_until")
    op.drop_column("conversation", "closed_at")
    op.drop_column("conversation", "customer_tier")
    op.drop_table("conversation_feedback")
    op.drop_index("ix_handoff_ticket_status_team", table_name="handoff_ticket")
    op.drop_index(op.f("ix_handoff_ticket_created_at"), table_name="handoff_ticket")
    op.drop_index(op.f("ix_handoff_ticket_conversation_id"), table_name="handoff_ticket")
    op.drop_index(op.f("ix_handoff_ticket_agent_id"), table_name="handoff_ticket")
    op.drop_table("handoff_ticket")
    op.drop_table("agent_profile")
    op.drop_table("canned_response")
