"""Tables of the staff tools: hot-topic alerts, broadcasts, whistles, and followers of similar wishes.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hot_alerts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("term", sa.String(64), nullable=False),
        sa.Column("current_count", sa.Integer, nullable=False),
        sa.Column("previous_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("wish_id", sa.Integer),
        sa.Column("tip_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_hot_alerts"),
        sa.UniqueConstraint("day", "term", name="uq_hot_alerts_day_term"),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("photo_file_id", sa.String(256)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("delivered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unreachable", sa.Integer, nullable=False, server_default="0"),
        sa.Column("progress_message_id", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
    )
    op.create_table(
        "whistles",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("wish_id", sa.Integer, nullable=False),
        sa.Column("coordinator_id", sa.BigInteger, nullable=False),
        sa.Column("sent_count", sa.Integer, nullable=False),
        sa.Column("summary_message_id", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("claimed_by", sa.BigInteger),
        sa.Column("claimed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_whistles"),
    )
    op.create_index("ix_whistles_wish_id", "whistles", ["wish_id"])
    op.create_table(
        "wish_followers",
        sa.Column("wish_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("joined_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("wish_id", "user_id", name="pk_wish_followers"),
        sa.ForeignKeyConstraint(
            ["wish_id"], ["wishes.id"], name="fk_wish_followers_wish_id_wishes", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_wish_followers_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_wish_followers_user_id", "wish_followers", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_wish_followers_user_id", table_name="wish_followers")
    op.drop_table("wish_followers")
    op.drop_index("ix_whistles_wish_id", table_name="whistles")
    op.drop_table("whistles")
    op.drop_table("broadcasts")
    op.drop_table("hot_alerts")
