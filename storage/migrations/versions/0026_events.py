"""Public-opinion events with levels and clocks (issue 29): `events`, their `event_clocks` and `event_records`.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref_no", sa.Integer, nullable=False, unique=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("source_id", sa.Integer),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("raised_by", sa.BigInteger),
        sa.Column("raised_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("closed_by", sa.BigInteger),
        sa.Column("closed_at", UTCDateTime),
    )
    op.create_index("ix_events_status_level", "events", ["status", "level"])
    op.create_index("ix_events_source_source_id", "events", ["source", "source_id"])
    op.create_table(
        "event_clocks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("met_at", UTCDateTime),
        sa.Column("met_by", sa.BigInteger),
        sa.Column("met_what", sa.Text),
        sa.Column("warned_at", UTCDateTime),
        sa.Column("escalated_at", UTCDateTime),
        sa.UniqueConstraint("event_id", "kind", name="uq_event_clocks_event_kind"),
    )
    op.create_index("ix_event_clocks_open_due", "event_clocks", ["met_at", "due_at"])
    op.create_table(
        "event_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("clock", sa.String(16)),
        sa.Column("what", sa.Text, nullable=False),
    )
    op.create_index("ix_event_records_event_id", "event_records", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_event_records_event_id", table_name="event_records")
    op.drop_table("event_records")
    op.drop_index("ix_event_clocks_open_due", table_name="event_clocks")
    op.drop_table("event_clocks")
    op.drop_index("ix_events_source_source_id", table_name="events")
    op.drop_index("ix_events_status_level", table_name="events")
    op.drop_table("events")
