"""Volunteer profiles and their skills (the categories they help with).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volunteers",
        sa.Column("user_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("area", sa.String(64)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_volunteers"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_volunteers_user_id_users", ondelete="CASCADE"),
    )
    op.create_table(
        "volunteer_skills",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "category", name="pk_volunteer_skills"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["volunteers.user_id"], name="fk_volunteer_skills_user_id_volunteers", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("volunteer_skills")
    op.drop_table("volunteers")
