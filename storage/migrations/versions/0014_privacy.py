"""Privacy and abuse: invites choose "approve at once" or "needs review" and can be revoked; the daily bound on a
volunteer's claims and releases counts their wish events of today through an index; `claim_cards` remembers the
messages that showed a claimer the contact details, so a release can withdraw them.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("needs_review", sa.Boolean, nullable=False, server_default="0"))
        batch.add_column(sa.Column("revoked_at", UTCDateTime))
    op.create_index("ix_wish_events_actor_at", "wish_events", ["actor_id", "at"])
    op.create_table(
        "claim_cards",
        sa.Column("wish_id", sa.Integer, nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("message_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False, server_default="card"),
        sa.PrimaryKeyConstraint("wish_id", "person_id", "message_id", name="pk_claim_cards"),
        sa.ForeignKeyConstraint(["wish_id"], ["wishes.id"], name="fk_claim_cards_wish_id_wishes", ondelete="CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("claim_cards")
    op.drop_index("ix_wish_events_actor_at", table_name="wish_events")
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("needs_review")
