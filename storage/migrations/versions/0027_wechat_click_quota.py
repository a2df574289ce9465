"""WeChat's customer-service quotas are two (issue 26): a message the person sends opens 5 messages within 48 hours;
a menu click, a follow, a QR scan or a tap on a menu-message item opens 3 within 1 minute and no 48-hour quota.
`wechat_windows` keeps the second beside the first (`click_at`, `click_sent`); a row may now have only a click.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A batch (copy) on SQLite to drop NOT NULL; nothing points at this table.
    with op.batch_alter_table("wechat_windows") as batch:
        batch.alter_column("last_inbound_at", existing_type=UTCDateTime, nullable=True)
        batch.add_column(sa.Column("click_at", UTCDateTime))
        batch.add_column(sa.Column("click_sent", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    op.execute("DELETE FROM wechat_windows WHERE last_inbound_at IS NULL")
    with op.batch_alter_table("wechat_windows") as batch:
        batch.drop_column("click_sent")
        batch.drop_column("click_at")
        batch.alter_column("last_inbound_at", existing_type=UTCDateTime, nullable=False)
