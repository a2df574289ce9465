"""Handled Telegram update ids, kept 25 hours (issue 30, item 3): Telegram keeps an update a day and may deliver it
again (a webhook retry after a lost answer, a takeover by another instance); an id found here is not handled twice
(storage/inbox.py). Pruned hourly by the sweep.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_updates",
        sa.Column("update_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("handled_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_handled_updates"),
    )
    op.create_index("ix_handled_updates_handled_at", "handled_updates", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_handled_updates_handled_at", table_name="handled_updates")
    op.drop_table("handled_updates")
