"""The durable inbox of Telegram updates: an update is written as it arrives and deleted in the transaction that
writes the conversation state after it was handled, so updates a crash interrupted are handled again at start-up
(channels/telegram/inbox.py).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "update_inbox",
        sa.Column("update_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("chat_key", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.BigInteger),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("update_id", name="pk_update_inbox"),
    )


def downgrade() -> None:
    op.drop_table("update_inbox")
