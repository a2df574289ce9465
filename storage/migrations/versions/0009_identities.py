"""People get an internal id: `identities(channel, external_id)` maps a Telegram user id (and later other
channels' ids) to the person (`users.id`).

Existing people keep their `users.id` as their person id (so no foreign key is rewritten) and get the identity
('telegram', str(users.id)). New people take their id from the `person` row of `reference_counters`, which starts
above the largest existing id; its value widens to BigInteger because Telegram ids exceed 32 bits.

Media: Telegram file_ids stop being data. Every stored file becomes a `media` row (kind, time) with its Telegram
reference in `media_refs(media_id, channel, file_ref, file_unique_id)`; the columns that held file_ids now hold
media ids: wishes.photo_file_id/proof_file_id → photo_media_id/proof_media_id, broadcasts.photo_file_id →
photo_media_id, story_leads.photo_file_id → photo_media_id, tip_media.file_id/file_unique_id → media_id. A file id
erased by /deleteme ("") becomes a media row without reference.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from typing import Any

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

    _media_upgrade()


# (table, key column, old file-id column, its file_unique_id column or None, new media column, NOT NULL, time column)
_MEDIA_COLUMNS = (
    ("wishes", "id", "photo_file_id", None, "photo_media_id", False, "created_at"),
    ("wishes", "id", "proof_file_id", None, "proof_media_id", False, "updated_at"),
    ("broadcasts", "id", "photo_file_id", None, "photo_media_id", False, "created_at"),
    ("story_leads", "wish_ref", "photo_file_id", None, "photo_media_id", True, "created_at"),
    ("tip_media", "id", "file_id", "file_unique_id", "media_id", True, "added_at"),
)


def _media_tables() -> tuple[sa.TableClause, sa.TableClause]:
    media = sa.table(
        "media", sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("created_at", UTCDateTime)
    )
    refs = sa.table(
        "media_refs",
        sa.column("media_id", sa.Integer),
        sa.column("channel", sa.String),
        sa.column("file_ref", sa.String),
        sa.column("file_unique_id", sa.String),
    )
    return media, refs


def _media_upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_media"),
    )
    op.create_table(
        "media_refs",
        sa.Column("media_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("file_ref", sa.String(256), nullable=False),
        sa.Column("file_unique_id", sa.String(64)),
        sa.PrimaryKeyConstraint("media_id", "channel", name="pk_media_refs"),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name="fk_media_refs_media_id_media", ondelete="CASCADE"),
    )
    connection = op.get_bind()
    media, refs = _media_tables()
    for name, key, old, unique, new, not_null, at in _MEDIA_COLUMNS:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column(new, sa.Integer))
        columns: list[sa.ColumnClause[Any]] = [
            sa.column(key),
            sa.column(old, sa.String),
            sa.column(new, sa.Integer),
            sa.column(at, UTCDateTime),
        ]
        if unique:
            columns.append(sa.column(unique, sa.String))
        if name == "tip_media":
            columns.append(sa.column("kind", sa.String))
        table = sa.table(name, *columns)
        rows = connection.execute(sa.select(table).where(table.c[old].is_not(None))).mappings().all()
        for row in rows:
            kind = row["kind"] if name == "tip_media" else "photo"
            media_id = connection.execute(
                sa.insert(media).values(kind=kind, created_at=row[at]).returning(media.c.id)
            ).scalar_one()
            if row[old]:  # "" was erased by /deleteme: a media row without reference
                connection.execute(
                    sa.insert(refs).values(
                        media_id=media_id,
                        channel="telegram",
                        file_ref=row[old],
                        file_unique_id=row[unique] if unique else None,
                    )
                )
            connection.execute(sa.update(table).where(table.c[key] == row[key]).values({new: media_id}))
        with op.batch_alter_table(name) as batch:
            batch.drop_column(old)
            if unique:
                batch.drop_column(unique)
            if not_null:
                batch.alter_column(new, existing_type=sa.Integer, nullable=False)
            batch.create_foreign_key(f"fk_{name}_{new}_media", "media", [new], ["id"])


def _media_downgrade() -> None:
    connection = op.get_bind()
    _media, refs = _media_tables()
    for name, key, old, unique, new, not_null, _at in reversed(_MEDIA_COLUMNS):
        with op.batch_alter_table(name) as batch:
            batch.drop_constraint(f"fk_{name}_{new}_media", type_="foreignkey")
            batch.add_column(sa.Column(old, sa.String(256)))
            if unique:
                batch.add_column(sa.Column(unique, sa.String(64)))
        table = sa.table(name, sa.column(key), sa.column(new, sa.Integer), sa.column(old, sa.String))
        found = connection.execute(
            sa.select(table.c[key], refs.c.file_ref, refs.c.file_unique_id)
            .select_from(table.outerjoin(refs, sa.and_(refs.c.media_id == table.c[new], refs.c.channel == "telegram")))
            .where(table.c[new].is_not(None))
        ).all()
        for row_key, file_ref, file_unique_id in found:
            values = {old: file_ref or ""}
            if unique:
                values[unique] = file_unique_id
            connection.execute(
                sa.update(sa.table(name, sa.column(key), *(sa.column(c) for c in values)))
                .where(sa.column(key) == row_key)
                .values(values)
            )
        with op.batch_alter_table(name) as batch:
            batch.drop_column(new)
            if not_null:
                batch.alter_column(old, existing_type=sa.String(256), nullable=False)
    op.drop_table("media_refs")
    op.drop_table("media")


def downgrade() -> None:
    _media_downgrade()
    op.execute("DELETE FROM reference_counters WHERE name = 'person'")
    op.drop_index("ix_identities_person_id", table_name="identities")
    op.drop_table("identities")
    with op.batch_alter_table("reference_counters") as batch:
        batch.alter_column("value", type_=sa.Integer, existing_type=sa.BigInteger, existing_nullable=False)
