"""Indexes for the reads the query-plan story found going through whole growing tables
(tests/stories/test_query_plans.py):

- user_roles(role, user_id): the holders of a role (staff to notify, digest recipients); the primary key starts
  with user_id, so finding every coordinator read every role of every person;
- applications(role, status): the count of waiting volunteer applications on /pending and /stats;
- tip_events(to_status, at): tips accepted or published within a period (/stats);
- cases(created_at, id): the cases sent within a period (/stats, the cases export), in that order;
- the waiting-time indexes of migration 0016 (`ix_wishes_claim_minutes`, `ix_wishes_done_minutes`) made covering:
  the all-time median reads up to a minute's wishes through them (thousands at a million wishes), and without
  the two timestamps in the index each was a heap fetch (5-15 ms warm, 70 ms cold at 1M on PostgreSQL; 0.5 ms
  from the index alone). PostgreSQL INCLUDEs them; SQLite, which has no INCLUDE, keys on them after the minutes.

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


# The waiting-time indexes (name, end column) and their expression, as migration 0016 wrote them.
WAIT_INDEXES = (("ix_wishes_claim_minutes", "claimed_at"), ("ix_wishes_done_minutes", "done_at"))


def _minutes_waited(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"((julianday({column}) - julianday(created_at)) * 1440)"
    return f"(extract(epoch from ({column} - created_at)) / 60)"


def _wait_indexes(*, covering: bool) -> None:
    dialect = op.get_bind().dialect.name
    for name, column in WAIT_INDEXES:
        op.drop_index(name, table_name="wishes")
        keys, include = _minutes_waited(dialect, column), ""
        if covering and dialect == "sqlite":
            keys += f", {column}, created_at"
        elif covering:
            include = f" INCLUDE ({column}, created_at)"
        op.execute(f"CREATE INDEX {name} ON wishes ({keys}){include} WHERE {column} >= created_at")


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    _wait_indexes(covering=True)


def downgrade() -> None:
    _wait_indexes(covering=False)
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
