"""Department access that can be given and taken back (issue 25):

- `department_requests`: a department's invite link no longer admits anyone at once; it makes a request a
  coordinator approves or rejects (pending → approved | rejected), as volunteer applications are;
- `outbox.message_ids`: the channel's ids of the messages a sent notice became, so a notice can be taken back
  later (a removed member's case cards);
- `case_cards`: case cards shown as direct replies (not through the outbox), for the same.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "department_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("departments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("invite_code", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("decided_by", sa.BigInteger),
        sa.Column("decided_at", UTCDateTime),
    )
    op.create_index("ix_department_requests_user", "department_requests", ["user_id", "status"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("message_ids", sa.JSON))
    op.create_table(
        "case_cards",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("person_id", sa.BigInteger, primary_key=True),
        sa.Column("message_id", sa.BigInteger, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("case_cards")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("message_ids")
    op.drop_index("ix_department_requests_user", table_name="department_requests")
    op.drop_table("department_requests")
