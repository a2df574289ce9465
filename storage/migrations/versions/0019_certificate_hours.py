"""Certificates tell verified activity hours from self-reported wish hours (issue 25): `verified_hours` (activities,
checked in and out and confirmed by an organizer) and `reported_hours` (wishes: the volunteer's own figure, the
resident confirming the work was done). Certificates issued before stay as they were: both empty, `hours` the total.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("verified_hours", sa.Float))
        batch.add_column(sa.Column("reported_hours", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("reported_hours")
        batch.drop_column("verified_hours")
