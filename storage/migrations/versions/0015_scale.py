"""Scale: indexes for every query on a growing table, and the terms of each wish and tip text.

Indexes: wishes(created_at, id) and tips(created_at, id) for periods (hot topics, /stats, /export chunks);
wishes(confirmed_at) for confirmed service (leaderboard, /hours, /export); wishes(area, created_at),
(claimed_at, created_at) and (done_at, created_at) for /stats; wishes(status, updated_at) and (status, due_at) for
the sweep's due conditions; outbox(created_at) for pruning; wishes(status, category, latitude, longitude,
held_until, created_at, id) covering /tasks (matching, counting, bounding boxes and distance order from the index).

`text_terms(source, source_id, term, at)`: the distinct terms of each wish ("w") and tip ("t") text, written
once by a worker thread (`actions.hot.segment_backlog`) and summed per period by a query. Existing texts are not
segmented here (jieba on a million texts would hold the migration for minutes): the sweep segments the backlog
in batches above a watermark per source (rows in `reference_counters`), and /hot counts whatever is above it on
the fly, in a worker thread.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_wishes_created_at", "wishes", ["created_at", "id"]),
    ("ix_wishes_confirmed_at", "wishes", ["confirmed_at"]),
    ("ix_wishes_area_created_at", "wishes", ["area", "created_at"]),
    ("ix_wishes_claimed_at_created_at", "wishes", ["claimed_at", "created_at"]),
    ("ix_wishes_done_at_created_at", "wishes", ["done_at", "created_at"]),
    ("ix_wishes_status_updated_at", "wishes", ["status", "updated_at"]),
    ("ix_wishes_status_due_at", "wishes", ["status", "due_at"]),
    ("ix_wishes_match", "wishes", ["status", "category", "latitude", "longitude", "held_until", "created_at", "id"]),
    ("ix_tips_created_at", "tips", ["created_at", "id"]),
    ("ix_outbox_created_at", "outbox", ["created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_table(
        "text_terms",
        sa.Column("source", sa.String(1), nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("term", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", "source_id", "term", name="pk_text_terms"),
    )
    op.create_index("ix_text_terms_at_term", "text_terms", ["at", "term"])


def downgrade() -> None:
    op.drop_index("ix_text_terms_at_term", table_name="text_terms")
    op.drop_table("text_terms")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
