"""Applying the Alembic migrations programmatically: at bot start, from `python -m bot migrate`, and in tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(script_location: Path = MIGRATIONS_DIR) -> Config:
    """An Alembic config that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


# On PostgreSQL, instances starting together (two hosts, two containers) migrate one at a time: each takes this
# session-level advisory lock, keyed by the schema, before Alembic reads the version; the second then finds the
# schema at head and applies nothing. The bot's statement and lock timeouts (storage/db.py) are lifted for the
# migration's session: building an index on a large table, or waiting for the other instance's migration, may take
# longer than a request is allowed to.
MIGRATION_LOCK = "SELECT pg_advisory_lock(hashtext('tongxin.migrate.' || current_schema()))"
MIGRATION_UNLOCK = "SELECT pg_advisory_unlock(hashtext('tongxin.migrate.' || current_schema()))"


async def upgrade(db: Database, revision: str = "head", *, script_location: Path = MIGRATIONS_DIR) -> None:
    """Bring the schema to `revision`, one transaction per migration (on PostgreSQL one migrating instance at a
    time)."""
    config = alembic_config(script_location)

    def run(sync_conn: Connection) -> None:
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    async with db.engine.connect() as conn:
        if db.is_sqlite:  # one file, one writer at a time already
            await conn.run_sync(run)
            await conn.commit()
            return
        await conn.execute(text("SET statement_timeout = 0"))
        await conn.execute(text("SET lock_timeout = 0"))
        await conn.execute(text(MIGRATION_LOCK))
        await conn.commit()
        try:
            await conn.run_sync(run)
            await conn.commit()
        finally:
            await conn.rollback()
            await conn.execute(text(MIGRATION_UNLOCK))
            # The connection goes back to the pool with the bot's own timeouts (those it connected with).
            await conn.execute(text("RESET statement_timeout"))
            await conn.execute(text("RESET lock_timeout"))
            await conn.commit()


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with db.read() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def head_revision(script_location: Path = MIGRATIONS_DIR) -> str | None:
    """The newest revision shipped with the code."""
    return ScriptDirectory.from_config(alembic_config(script_location)).get_current_head()
