"""Departments and their cases: government departments that take cases with a response tier, their members
(who join by invite and hold the `department` role), each case's lifecycle and its events.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("areas", sa.JSON, nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
        sa.UniqueConstraint("name", name="uq_departments_name"),
    )
    op.create_table(
        "department_members",
        sa.Column("department_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("joined_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("department_id", "user_id", name="pk_department_members"),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name="fk_department_members_department_id_departments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_department_members_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_department_members_user_id", "department_members", ["user_id"])
    op.create_table(
        "department_invites",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("department_id", sa.Integer, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("max_uses", sa.Integer, nullable=False),
        sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("code", name="pk_department_invites"),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name="fk_department_invites_department_id_departments",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("ref_no", sa.Integer, nullable=False),
        sa.Column("department_id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("resident_id", sa.BigInteger),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("area", sa.String(64)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("tier", sa.String(12), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("ack_due_at", UTCDateTime, nullable=False),
        sa.Column("resolve_due_at", UTCDateTime, nullable=False),
        sa.Column("acknowledged_by", sa.BigInteger),
        sa.Column("acknowledged_at", UTCDateTime),
        sa.Column("resolved_at", UTCDateTime),
        sa.Column("resolution_note", sa.Text),
        sa.Column("resolution_media_id", sa.Integer),
        sa.Column("returned_at", UTCDateTime),
        sa.Column("return_reason", sa.Text),
        sa.Column("rating", sa.Integer),
        sa.Column("rated_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("ref_no", name="uq_cases_ref_no"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name="fk_cases_department_id_departments"),
        sa.ForeignKeyConstraint(["resolution_media_id"], ["media.id"], name="fk_cases_resolution_media_id_media"),
    )
    op.create_index("ix_cases_status_created_at", "cases", ["status", "created_at"])
    op.create_index("ix_cases_department_id_created_at", "cases", ["department_id", "created_at"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_events_case_id_cases", ondelete="CASCADE"),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_events_case_id", table_name="case_events")
    op.drop_table("case_events")
    op.drop_index("ix_cases_department_id_created_at", table_name="cases")
    op.drop_index("ix_cases_status_created_at", table_name="cases")
    op.drop_table("cases")
    op.drop_table("department_invites")
    op.drop_index("ix_department_members_user_id", table_name="department_members")
    op.drop_table("department_members")
    op.drop_table("departments")
