"""Indexes for the reads the query-plan story found going through whole growing tables
(tests/stories/test_query_plans.py):

- user_roles(role, user_id): the holders of a role (staff to notify, digest recipients); the primary key starts
  with user_id, so finding every coordinator read every role of every person;
- applications(role, status): the count of waiting volunteer applications on /pending and /stats;
- tip_events(to_status, at): tips accepted or published within a period (/stats);
- cases(created_at, id): the cases sent within a period (/stats, the cases export), in that order.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_user_roles_role", "user_roles", ["role", "user_id"]),
    ("ix_applications_role_status", "applications", ["role", "status"]),
    ("ix_tip_events_to_status_at", "tip_events", ["to_status", "at"]),
    ("ix_cases_created_at", "cases", ["created_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
