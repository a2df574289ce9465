"""Wishes, their status history and the per-deployment reference counter.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        "reference_counters",
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_reference_counters"),
    )
    op.bulk_insert(counters, [{"name": "wish", "value": 0}])
    op.create_table(
        "wishes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("ref_no", sa.Integer, nullable=False),
        sa.Column("resident_id", sa.BigInteger, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("area", sa.String(64)),
        sa.Column("address", sa.String(200)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("photo_file_id", sa.String(256)),
        sa.Column("phone", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("reject_reason", sa.Text),
        sa.Column("claimed_by", sa.BigInteger),
        sa.Column("claimed_at", UTCDateTime),
        sa.Column("due_at", UTCDateTime),
        sa.Column("done_at", UTCDateTime),
        sa.Column("hours", sa.Float),
        sa.Column("proof_file_id", sa.String(256)),
        sa.Column("done_note", sa.Text),
        sa.Column("resident_note", sa.Text),
        sa.Column("confirmed_at", UTCDateTime),
        sa.Column("rating", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_wishes"),
        sa.UniqueConstraint("ref_no", name="uq_wishes_ref_no"),
        sa.ForeignKeyConstraint(["resident_id"], ["users.id"], name="fk_wishes_resident_id_users"),
        sa.ForeignKeyConstraint(["claimed_by"], ["users.id"], name="fk_wishes_claimed_by_users"),
    )
    op.create_index("ix_wishes_status_created_at", "wishes", ["status", "created_at"])
    op.create_index("ix_wishes_resident_id", "wishes", ["resident_id"])
    op.create_index("ix_wishes_claimed_by", "wishes", ["claimed_by"])
    op.create_table(
        "wish_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("wish_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_wish_events"),
        sa.ForeignKeyConstraint(["wish_id"], ["wishes.id"], name="fk_wish_events_wish_id_wishes", ondelete="CASCADE"),
    )
    op.create_index("ix_wish_events_wish_id", "wish_events", ["wish_id"])


def downgrade() -> None:
    op.drop_index("ix_wish_events_wish_id", table_name="wish_events")
    op.drop_table("wish_events")
    op.drop_index("ix_wishes_claimed_by", table_name="wishes")
    op.drop_index("ix_wishes_resident_id", table_name="wishes")
    op.drop_index("ix_wishes_status_created_at", table_name="wishes")
    op.drop_table("wishes")
    op.drop_table("reference_counters")
