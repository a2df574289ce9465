"""The question a WeCom member was asked after pressing a card's button (issue 28): why 退回, the note or the photo
of 办结; one per member, with its expiry, so any instance (or the same one after a restart) takes the answer.

Revision ID: 0034
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0034"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_questions",
        sa.Column("userid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("asked_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("userid", name="pk_wecom_questions"),
    )


def downgrade() -> None:
    op.drop_table("wecom_questions")
