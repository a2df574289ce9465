"""Linking accounts that cannot be guessed (issue 25): a live /link code is void after 5 wrong guesses by anyone
(`link_codes.wrong_guesses`); an account that guessed wrong 5 times within an hour is locked out of redeeming
(`link_failures`); a right code only asks, and the account joins the person once the person says yes on the
account being joined (`link_requests`).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link_codes") as batch:
        batch.add_column(sa.Column("wrong_guesses", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "link_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_at", UTCDateTime),
    )
    op.create_table(
        "link_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_link_failures_account", "link_failures", ["channel", "external_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_link_failures_account", table_name="link_failures")
    op.drop_table("link_failures")
    op.drop_table("link_requests")
    with op.batch_alter_table("link_codes") as batch:
        batch.drop_column("wrong_guesses")
