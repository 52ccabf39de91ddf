"""staff account security: temporary passwords, TOTP, session lifetimes, login throttling

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_USER_FLAGS = ("must_change_password", "mfa_enabled")


def upgrade() -> None:
    # Booleans are added with a default so existing accounts get false; PostgreSQL then drops
    # the default (the app always writes them). SQLite cannot drop one without rebuilding the
    # table, which the foreign keys to staff_user forbid inside this transaction, so it stays.
    for name in _USER_FLAGS:
        op.add_column(
            "staff_user",
            sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()),
        )
    op.add_column("staff_user", sa.Column("mfa_secret", sa.String(length=64), nullable=True))
    op.add_column("staff_user", sa.Column("mfa_last_step", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        for name in _USER_FLAGS:
            op.alter_column("staff_user", name, server_default=None)

    # Sessions gain a public id, a last-seen time, the browser and the address. Sessions from
    # before have none of them: they end, and everyone signs in again once.
    op.drop_index(op.f("ix_staff_session_user_id"), table_name="staff_session")
    op.drop_table("staff_session")
    op.create_table(
        "staff_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=256), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_staff_session_user_id"), "staff_session", ["user_id"], unique=False)
    op.create_index(op.f("ix_staff_session_public_id"), "staff_session", ["public_id"], unique=True)

    op.create_table(
        "staff_login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("username", "address", "at"):
        op.create_index(op.f(f"ix_staff_login_attempt_{column}"), "staff_login_attempt", [column])

    op.create_table(
        "staff_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_staff_recovery_code_user_id"), "staff_recovery_code", ["user_id"], unique=False
    )

    op.create_table(
        "staff_mfa_challenge",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_staff_mfa_challenge_user_id"), "staff_mfa_challenge", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_mfa_challenge_user_id"), table_name="staff_mfa_challenge")
    op.drop_table("staff_mfa_challenge")
    op.drop_index(op.f("ix_staff_recovery_code_user_id"), table_name="staff_recovery_code")
    op.drop_table("staff_recovery_code")
    for column in ("at", "address", "username"):
        op.drop_index(op.f(f"ix_staff_login_attempt_{column}"), table_name="staff_login_attempt")
    op.drop_table("staff_login_attempt")
    op.drop_index(op.f("ix_staff_session_public_id"), table_name="staff_session")
    op.drop_index(op.f("ix_staff_session_user_id"), table_name="staff_session")
    op.drop_table("staff_session")
    op.create_table(
        "staff_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_staff_session_user_id"), "staff_session", ["user_id"], unique=False)
    with op.batch_alter_table("staff_user") as batch:
        for name in ("mfa_last_step", "mfa_secret", "mfa_enabled", "must_change_password"):
            batch.drop_column(name)
