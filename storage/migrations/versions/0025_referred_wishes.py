"""A wish sent to a department is `referred` (issue 27): it leaves the review queue and the volunteers' lists and
shows its case's progress. Wishes already sent (a case not handed back) while still under review or open become
`referred`; cases are found by their source with an index.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_source_source_id", "cases", ["source", "source_id"])
    op.execute(
        "UPDATE wishes SET status = 'referred' WHERE status IN ('pending_review', 'open') AND ref_no IN "
        "(SELECT source_id FROM cases WHERE source = 'wish' AND status <> 'returned')"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE wishes SET status = 'pending_review' WHERE status = 'referred' AND ref_no IN "
        "(SELECT source_id FROM cases WHERE source = 'wish' AND status IN ('sent', 'acknowledged'))"
    )
    op.execute("UPDATE wishes SET status = 'open' WHERE status = 'referred'")
    op.drop_index("ix_cases_source_source_id", table_name="cases")
