"""Migrations: applied in order, re-running applies nothing, a failing one rolls back entirely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect

from storage.db import Database
from storage.migrate import MIGRATIONS_DIR, current_revision, head_revision, upgrade
from storage.schema import metadata


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
