"""The Bot API requests made while handling an update, recorded as Telegram answers each (issue 30): an update handled
again after a kill, a freeze or a cut (still in the inbox) returns the recorded answers instead of sending twice
(channels/telegram/send_journal.py). Deleted with the update's inbox row.

Revision ID: 0037
Revises: 0034
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0037"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "update_sends",
        sa.Column("update_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("occurrence", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("user_id", sa.BigInteger),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("update_id", "digest", "occurrence", name="pk_update_sends"),
    )


def downgrade() -> None:
    op.drop_table("update_sends")
