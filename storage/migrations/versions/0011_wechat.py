"""WeChat service account: the callbacks received (de-duplicated by MsgId, handled after a restart), each
account's customer-service window (48 h, 5 messages), and one-time codes that link a second channel (/link).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_inbound",
        sa.Column("msg_key", sa.String(128), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("handled_at", UTCDateTime),
        sa.PrimaryKeyConstraint("msg_key", name="pk_wechat_inbound"),
    )
    op.create_index("ix_wechat_inbound_handled_at", "wechat_inbound", ["handled_at"])
    op.create_table(
        "wechat_windows",
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("last_inbound_at", UTCDateTime, nullable=False),
        sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("openid", name="pk_wechat_windows"),
    )
    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
        sa.PrimaryKeyConstraint("code", name="pk_link_codes"),
        sa.ForeignKeyConstraint(["person_id"], ["users.id"], name="fk_link_codes_person_id_users", ondelete="CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("link_codes")
    op.drop_table("wechat_windows")
    op.drop_index("ix_wechat_inbound_handled_at", table_name="wechat_inbound")
    op.drop_table("wechat_inbound")
