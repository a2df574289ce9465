"""Tips: reporters' leads, their media, their status history, and story leads offered from wishes.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tips",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("reporter_id", sa.BigInteger),
        sa.Column("by_reporter", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("source_wish_ref", sa.Integer),
        sa.Column("published_url", sa.String(512)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("decided_by", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_tips"),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name="fk_tips_reporter_id_users", ondelete="SET NULL"),
    )
    op.create_index("ix_tips_status_created_at", "tips", ["status", "created_at"])
    op.create_index("ix_tips_reporter_id", "tips", ["reporter_id"])
    op.create_table(
        "tip_media",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("tip_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_id", sa.String(256), nullable=False),
        sa.Column("file_unique_id", sa.String(64)),
        sa.Column("file_size", sa.Integer),
        sa.Column("local_path", sa.String(512)),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tip_media"),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name="fk_tip_media_tip_id_tips", ondelete="CASCADE"),
    )
    op.create_index("ix_tip_media_tip_id", "tip_media", ["tip_id"])
    op.create_table(
        "tip_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("tip_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("from_status", sa.String(24)),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_tip_events"),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name="fk_tip_events_tip_id_tips", ondelete="CASCADE"),
    )
    op.create_index("ix_tip_events_tip_id", "tip_events", ["tip_id"])
    op.create_table(
        "story_leads",
        sa.Column("wish_ref", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("volunteer_id", sa.BigInteger, nullable=False),
        sa.Column("photo_file_id", sa.String(256), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("tip_id", sa.Integer),
        sa.PrimaryKeyConstraint("wish_ref", name="pk_story_leads"),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name="fk_story_leads_tip_id_tips", ondelete="SET NULL"),
    )


def downgrade() -> None:
    op.drop_table("story_leads")
    op.drop_index("ix_tip_events_tip_id", "tip_events")
    op.drop_table("tip_events")
    op.drop_index("ix_tip_media_tip_id", "tip_media")
    op.drop_table("tip_media")
    op.drop_index("ix_tips_reporter_id", "tips")
    op.drop_index("ix_tips_status_created_at", "tips")
    op.drop_table("tips")
