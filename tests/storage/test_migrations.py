"""Migrations: applied in order, re-running applies nothing, a failing one rolls back entirely."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect

from storage import media, people, schema, tips, wishes
from storage.db import Database
from storage.migrate import MIGRATIONS_DIR, alembic_config, current_revision, head_revision, upgrade
from storage.schema import metadata
from storage.types import UTCDateTime
from tests.conftest import BACKENDS, _fresh_database


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """Here the database is migrated from nothing (elsewhere tests start from a copy of a migrated template)."""
    async for database in _fresh_database(request.param, tmp_path):
        yield database


async def _tables(db: Database) -> set[str]:
    async with db.read() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_fresh_database_reaches_head_with_every_table(db: Database) -> None:
    assert await current_revision(db) == head_revision()
    assert set(metadata.tables) <= await _tables(db)


async def test_rerunning_applies_nothing(db: Database) -> None:
    before = await _tables(db)
    await upgrade(db)
    assert await current_revision(db) == head_revision()
    assert await _tables(db) == before


async def test_migrated_columns_match_the_schema(db: Database) -> None:
    async with db.read() as conn:
        for table in metadata.sorted_tables:
            columns = await conn.run_sync(
                lambda c, name=table.name: {col["name"] for col in inspect(c).get_columns(name)}
            )
            assert columns == set(table.columns.keys()), table.name


async def test_failed_migration_rolls_back(db: Database, tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = head_revision()
    (scripts / "versions" / "9999_broken.py").write_text(
        f"""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO no_such_table VALUES (1)")


def downgrade() -> None:
    op.drop_table("half_done")
""",
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="no_such_table"):
        await upgrade(db, script_location=scripts)
    assert await current_revision(db) == head
    assert "half_done" not in await _tables(db)


@pytest.fixture(params=BACKENDS)
async def db_at_0008(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database migrated only to 0008 (before people had internal ids), on each backend."""
    async for database in _fresh_database(request.param, tmp_path, "0008"):
        yield database


async def test_0009_gives_every_existing_user_a_telegram_identity(db_at_0008: Database) -> None:
    db = db_at_0008
    now = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    old = sa.table(
        "users",
        sa.column("id", sa.BigInteger),
        sa.column("first_name", sa.String),
        sa.column("created_at", UTCDateTime),
        sa.column("last_seen_at", UTCDateTime),
    )
    old_roles = sa.table(
        "user_roles",
        sa.column("user_id", sa.BigInteger),
        sa.column("role", sa.String),
        sa.column("granted_at", UTCDateTime),
    )
    async with db.write() as conn:
        await conn.execute(
            sa.insert(old),
            [
                {"id": 1_000_001, "first_name": "王阿姨", "created_at": now, "last_seen_at": now},
                # A Telegram id beyond 32 bits, as newer accounts have.
                {"id": 7_123_456_789, "first_name": "李师傅", "created_at": now, "last_seen_at": now},
            ],
        )
        await conn.execute(sa.insert(old_roles).values(user_id=7_123_456_789, role="volunteer", granted_at=now))

    def old_table(name: str, *columns: str) -> sa.TableClause:
        times = (sa.column("created_at", UTCDateTime), sa.column("updated_at", UTCDateTime))
        return sa.table(name, *(sa.column(c) for c in columns), *times[: 2 if name in ("wishes", "tips") else 1])

    async with db.write() as conn:
        # Telegram file ids as the data held them before 0009 ("" is one /deleteme erased).
        await conn.execute(
            old_table(
                "wishes",
                "ref_no",
                "resident_id",
                "category",
                "description",
                "status",
                "photo_file_id",
                "proof_file_id",
            ).insert(),
            [
                {
                    "ref_no": 1,
                    "resident_id": 1_000_001,
                    "category": "other",
                    "description": "d",
                    "status": "open",
                    "photo_file_id": "AgAC-wish-photo",
                    "proof_file_id": None,
                    "created_at": now,
                    "updated_at": now,
                },
                {
                    "ref_no": 2,
                    "resident_id": 1_000_001,
                    "category": "other",
                    "description": "d",
                    "status": "open",
                    "photo_file_id": None,
                    "proof_file_id": "AgAC-proof",
                    "created_at": now,
                    "updated_at": now,
                },
            ],
        )
        await conn.execute(
            old_table("tips", "reporter_id", "status", "category", "description")
            .insert()
            .values(
                reporter_id=7_123_456_789,
                status="new",
                category="livelihood",
                description="t",
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            sa.table(
                "tip_media",
                *(sa.column(c) for c in ("tip_id", "kind", "file_id", "file_unique_id")),
                sa.column("added_at", UTCDateTime),
            ).insert(),
            [
                {"tip_id": 1, "kind": "photo", "file_id": "AgAC-tip-1", "file_unique_id": "u1", "added_at": now},
                {"tip_id": 1, "kind": "video", "file_id": "BAAC-tip-2", "file_unique_id": None, "added_at": now},
            ],
        )
        await conn.execute(
            old_table("story_leads", "wish_ref", "volunteer_id", "photo_file_id", "summary", "status").insert(),
            [
                {
                    "wish_ref": 2,
                    "volunteer_id": 7_123_456_789,
                    "photo_file_id": "AgAC-proof",
                    "summary": "s",
                    "status": "asked",
                    "created_at": now,
                },
                {
                    "wish_ref": 9,
                    "volunteer_id": 7_123_456_789,
                    "photo_file_id": "",
                    "summary": "[erased]",
                    "status": "refused",
                    "created_at": now,
                },
            ],
        )
        await conn.execute(
            old_table("broadcasts", "created_by", "audience", "status", "photo_file_id")
            .insert()
            .values(
                created_by=1_000_001, audience="everyone", status="done", photo_file_id="AgAC-poster", created_at=now
            )
        )
    await upgrade(db)
    assert await current_revision(db) == head_revision()

    async with db.read() as conn:
        # Every file id became a media row with its Telegram reference; the rows read back as before.
        first, second = await wishes.get_wish_by_ref(conn, 1), await wishes.get_wish_by_ref(conn, 2)
        tip = await tips.get_tip(conn, 1)
        lead, erased = await tips.find_story_lead(conn, 2), await tips.find_story_lead(conn, 9)
        poster = (await conn.execute(sa.select(schema.broadcasts.c.photo_media_id))).scalar_one()
        assert await media.file_ref(conn, poster, "telegram") == "AgAC-poster"
        kinds = dict((await conn.execute(sa.select(schema.media.c.id, schema.media.c.kind))).all())
        unique = (
            await conn.execute(
                sa.select(schema.media_refs.c.file_unique_id).where(schema.media_refs.c.file_ref == "AgAC-tip-1")
            )
        ).scalar_one()
    assert (first.photo_file_id, first.proof_file_id) == ("AgAC-wish-photo", None)
    assert (second.photo_file_id, second.proof_file_id) == (None, "AgAC-proof")
    assert [(m.kind, m.file_id) for m in tip.media] == [("photo", "AgAC-tip-1"), ("video", "BAAC-tip-2")]
    assert unique == "u1"
    assert lead is not None
    assert lead.photo_file_id == "AgAC-proof"
    assert erased is not None
    assert erased.photo_file_id == ""  # erased before: a media row with no reference left
    assert sorted(kinds.values()) == ["photo"] * 6 + ["video"]

    async with db.write() as conn:
        # Existing people keep their id (so every foreign key still holds) and are found by their Telegram id.
        wang = await people.find_person(conn, people.TELEGRAM, 1_000_001)
        li = await people.find_person(conn, people.TELEGRAM, "7123456789")
        assert wang is not None
        assert wang.id == 1_000_001
        assert wang.first_name == "王阿姨"
        assert li is not None
        assert li.id == 7_123_456_789
        assert li.roles == {"volunteer"}
        assert await people.identity_of(conn, 7_123_456_789, people.TELEGRAM) == "7123456789"
        assert await people.person_ids_for(conn, people.TELEGRAM, [1_000_001, 42]) == [1_000_001]
        # A newcomer gets a person id above every existing one, and it is not their Telegram id.
        newcomer = await people.person_for_identity(
            conn, people.TELEGRAM, 1_000_003, first_name="赵", language="zh-CN", now=now
        )
        again = await people.person_for_identity(
            conn, people.TELEGRAM, 1_000_003, first_name="赵大姐", language="zh-CN", now=now
        )
    assert newcomer.id == 7_123_456_790
    assert again.id == newcomer.id
    assert again.first_name == "赵大姐"


async def test_person_ids_are_not_telegram_ids(db: Database) -> None:
    now = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    async with db.write() as conn:
        first = await people.person_for_identity(conn, "telegram", 1_000_001, first_name="a", language="en", now=now)
        second = await people.person_for_identity(conn, "telegram", 1_000_002, first_name="b", language="en", now=now)
        other = await people.person_for_identity(conn, "wechat", "o-abc", first_name="c", language="en", now=now)
        assert (first.id, second.id, other.id) == (1, 2, 3)
        assert await people.telegram_id_of(conn, 2) == 1_000_002
        assert await people.telegram_id_of(conn, 3) is None
        assert await people.admin_person_ids(conn, [1_000_002, 9]) == {2}


async def test_0009_downgrades_back_to_file_ids(db: Database) -> None:
    now = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    async with db.write() as conn:
        person = await people.person_for_identity(conn, "telegram", 1_000_001, first_name="a", language="en", now=now)
        await wishes.insert_wish(
            conn,
            resident_id=person.id,
            category="other",
            description="d",
            area=None,
            address=None,
            location=None,
            photo_file_id="AgAC-wish-photo",
            phone=None,
            status="open",
            now=now,
        )
    config = alembic_config()

    def down(sync_conn: sa.Connection) -> None:
        config.attributes["connection"] = sync_conn
        command.downgrade(config, "0008")

    async with db.engine.connect() as conn:
        await conn.run_sync(down)
        await conn.commit()
    assert await current_revision(db) == "0008"
    async with db.read() as conn:
        photo = (await conn.execute(sa.text("SELECT photo_file_id FROM wishes"))).scalar_one()
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert photo == "AgAC-wish-photo"
    assert "identities" not in tables
    assert "media" not in tables


@pytest.mark.skipif("TEST_POSTGRES_URL" not in os.environ, reason="PostgreSQL only: SQLite has one writer anyway")
async def test_instances_starting_together_migrate_one_at_a_time(tmp_path: Path) -> None:
    """Two instances migrating the same empty PostgreSQL schema at once: without the advisory lock both read "no
    version" and the second fails creating tables that exist; with it both succeed, the schema is at head once,
    and the connections keep the bot's own timeouts afterwards."""
    url = os.environ["TEST_POSTGRES_URL"].replace("postgresql://", "postgresql+asyncpg://", 1)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    async with admin.write() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    first, second = Database(url, schema=schema), Database(url, schema=schema)
    try:
        await asyncio.gather(upgrade(first), upgrade(second))
        assert await current_revision(first) == head_revision()
        async with second.read() as conn:
            versions = (await conn.execute(sa.text("SELECT count(*) FROM alembic_version"))).scalar_one()
            timeout = (await conn.execute(sa.text("SHOW statement_timeout"))).scalar_one()
        assert versions == 1
        assert timeout == "1min"
    finally:
        await first.dispose()
        await second.dispose()
        async with admin.write() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
