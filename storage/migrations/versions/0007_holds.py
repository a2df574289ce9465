"""Time-limited holds: after an auto-release a wish is reserved for the volunteers it was offered to.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wishes") as batch:
        batch.add_column(sa.Column("held_until", UTCDateTime))
    op.create_table(
        "wish_holds",
        sa.Column("wish_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("wish_id", "user_id", name="pk_wish_holds"),
        sa.ForeignKeyConstraint(["wish_id"], ["wishes.id"], name="fk_wish_holds_wish_id_wishes", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_wish_holds_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_wish_holds_user_id", "wish_holds", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_wish_holds_user_id", table_name="wish_holds")
    op.drop_table("wish_holds")
    with op.batch_alter_table("wishes") as batch:
        batch.drop_column("held_until")
