"""A wish may be spoken: its voice note (a stored media row) and its length in seconds.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wishes") as batch:
        batch.add_column(sa.Column("voice_media_id", sa.Integer))
        batch.add_column(sa.Column("voice_seconds", sa.Integer))
        batch.create_foreign_key("fk_wishes_voice_media_id_media", "media", ["voice_media_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("wishes") as batch:
        batch.drop_constraint("fk_wishes_voice_media_id_media", type_="foreignkey")
        batch.drop_column("voice_seconds")
        batch.drop_column("voice_media_id")
