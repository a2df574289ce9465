"""People get an internal id: `identities(channel, external_id)` maps a Telegram user id (and later other
channels' ids) to the person (`users.id`).

Existing people keep their `users.id` as their person id (so no foreign key is rewritten) and get the identity
('telegram', str(users.id)). New people take their id from the `person` row of `reference_counters`, which starts
above the largest existing id; its value widens to BigInteger because Telegram ids exceed 32 bits.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reference_counters") as batch:
        batch.alter_column("value", type_=sa.BigInteger, existing_type=sa.Integer, existing_nullable=False)
    op.create_table(
        "identities",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("channel", "external_id", name="pk_identities"),
        sa.ForeignKeyConstraint(["person_id"], ["users.id"], name="fk_identities_person_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_identities_person_id", "identities", ["person_id"])

    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.BigInteger), sa.column("created_at", UTCDateTime))
    identities = sa.table(
        "identities",
        sa.column("channel", sa.String),
        sa.column("external_id", sa.String),
        sa.column("person_id", sa.BigInteger),
        sa.column("created_at", UTCDateTime),
    )
    counters = sa.table("reference_counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    # One INSERT … SELECT: every existing person keeps their id and is reachable through Telegram as before.
    connection.execute(
        sa.insert(identities).from_select(
            ["channel", "external_id", "person_id", "created_at"],
            sa.select(
                sa.literal("telegram", sa.String),
                sa.cast(users.c.id, sa.String(64)),
                users.c.id,
                users.c.created_at,
            ),
        )
    )
    largest = connection.execute(sa.select(sa.func.max(users.c.id))).scalar()
    connection.execute(sa.insert(counters).values(name="person", value=int(largest or 0)))


def downgrade() -> None:
    op.execute("DELETE FROM reference_counters WHERE name = 'person'")
    op.drop_index("ix_identities_person_id", table_name="identities")
    op.drop_table("identities")
    with op.batch_alter_table("reference_counters") as batch:
        batch.alter_column("value", type_=sa.Integer, existing_type=sa.BigInteger, existing_nullable=False)
