"""Activity hours are capped at the planned end (issue 25): a coordinator may extend an activity, with a reason
(`extended_minutes`, `extension_reason`); check-out and corrections count no further than the end plus that.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("extended_minutes", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("extension_reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("extension_reason")
        batch.drop_column("extended_minutes")
