"""WeCom cards sent and not yet updated (issue 28): each recipient's userid and the response code that updates
their card once within 72 hours, per subject (a wish under review, a case sent to a department).

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_cards",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("userid", sa.String(64), nullable=False),
        sa.Column("response_code", sa.String(512), nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wecom_cards"),
    )
    op.create_index("ix_wecom_cards_subject", "wecom_cards", ["subject"])
    op.create_index("ix_wecom_cards_sent_at", "wecom_cards", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_wecom_cards_sent_at", table_name="wecom_cards")
    op.drop_index("ix_wecom_cards_subject", table_name="wecom_cards")
    op.drop_table("wecom_cards")
