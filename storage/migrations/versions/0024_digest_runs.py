"""A digest occurrence that has been decided for all its readers is written down with the time (issue 31): the
minute sweeps of its catch-up window (six hours; the weekly volunteer digest reaches 10,000 people) then read only
who became a reader since (a role granted: `user_roles(role, granted_at)`; a digest turned on:
`users.digest_changed_at`) instead of every reader and their keys.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, on SQLite too: a batch copy of `users` would drop a table other rows point at.
    op.add_column("users", sa.Column("digest_changed_at", UTCDateTime))
    op.create_index("ix_users_digest_changed_at", "users", ["digest_changed_at"])
    op.create_index("ix_user_roles_role_granted", "user_roles", ["role", "granted_at"])
    op.create_table(
        "digest_runs",
        sa.Column("label", sa.String(64), primary_key=True),
        sa.Column("done_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digest_runs")
    op.drop_index("ix_user_roles_role_granted", table_name="user_roles")
    op.drop_index("ix_users_digest_changed_at", table_name="users")
    op.drop_column("users", "digest_changed_at")
