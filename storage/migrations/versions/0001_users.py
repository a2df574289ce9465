"""Users, roles, conversation state, audit log, invites and role applications.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("first_name", sa.String(128), nullable=False, server_default=""),
        sa.Column("last_name", sa.String(128)),
        sa.Column("username", sa.String(64)),
        sa.Column("language", sa.String(8), nullable=False, server_default="zh-CN"),
        sa.Column("phone", sa.String(32)),
        sa.Column("blocked", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("unreachable", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("digest_enabled", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("erased_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.BigInteger),
        sa.Column("granted_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_user_roles"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_roles_user_id_users", ondelete="CASCADE"),
    )
    op.create_table(
        "conversation_states",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name="pk_conversation_states"),
    )
    op.create_table(
        "user_data",
        sa.Column("user_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_data"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64)),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "invites",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("max_uses", sa.Integer, nullable=False),
        sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("code", name="pk_invites"),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("decided_by", sa.BigInteger),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("reason", sa.Text),
        sa.Column("invite_code", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_applications_user_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("user_id", "role", name="uq_applications_user_role"),
    )
    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("application_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_application_events"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_application_events_application_id_applications",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("application_events")
    op.drop_table("applications")
    op.drop_table("invites")
    op.drop_table("audit_log")
    op.drop_table("user_data")
    op.drop_table("conversation_states")
    op.drop_table("user_roles")
    op.drop_table("users")
