"""Shared fixtures: a fresh migrated database per test, the Bot API simulator, and the real bot polling it.

Story tests take `bot` (the running Application) and `sim` and talk through simulated people:

    async def test_welcome(bot, sim):
        alice = sim.person("王阿姨")
        await alice.send_command("/start")
        assert "同心" in (await alice.next_message()).text

Storage tests take `db`, which runs on SQLite and, when TEST_POSTGRES_URL is set, on PostgreSQL too
(each test in a schema of its own that is dropped afterwards).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from bot.app import TongxinApp, running
from bot.clock import ManualClock
from bot.settings import Settings, load_settings
from storage.db import Database
from storage.migrate import upgrade

if TYPE_CHECKING:
    from simulator import BotApiSimulator, FloodLimits

ADMIN_ID = 9_000_001
TEST_TOKEN = "123456:TEST-TOKEN"
# 10:00 in Shanghai on a Thursday: inside working hours, outside quiet hours.
START_TIME = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated database: SQLite file, or a fresh PostgreSQL schema."""
    async for database in _fresh_database(request.param, tmp_path):
        yield database


async def _fresh_database(backend: str, tmp_path: Path, revision: str = "head") -> AsyncIterator[Database]:
    """A database on `backend` migrated to `revision`: a SQLite file, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await upgrade(database, revision)
        yield database
        await database.dispose()
        return
    url = _asyncpg_url(os.environ["TEST_POSTGRES_URL"])
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    async with admin.write() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(url, schema=schema)
    try:
        await upgrade(database, revision)
        yield database
    finally:
        await database.dispose()
        async with admin.write() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated SQLite file, for tests that hand the database to a bot in another process by URL
    (a PostgreSQL test schema cannot travel in a URL; those tests kill and restart the process itself)."""
    async for database in _fresh_database("sqlite", tmp_path):
        yield database


@pytest.fixture(params=BACKENDS)
async def story_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The database a story's bot runs on: a SQLite file, and (with TEST_POSTGRES_URL) a fresh PostgreSQL schema
    — every story runs on both."""
    async for database in _fresh_database(request.param, tmp_path):
        yield database


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when the test says so."""
    return ManualClock(START_TIME)


@pytest.fixture
def flood_limits() -> FloodLimits:
    """Telegram's flood limits, on by default; a test may override this fixture."""
    from simulator import FloodLimits

    return FloodLimits()


@pytest.fixture
async def sim(flood_limits: FloodLimits) -> AsyncIterator[BotApiSimulator]:
    """The local Bot API simulator on a free port."""
    from simulator import BotApiSimulator

    simulator = BotApiSimulator(token=TEST_TOKEN, bot_username="tongxin_bot", flood_limits=flood_limits)
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Extra settings for one test module (override the fixture)."""
    return {}


@pytest.fixture
def settings(
    sim: BotApiSimulator, story_db: Database, tmp_path: Path, settings_overrides: dict[str, object]
) -> Settings:
    """Settings pointing the bot at the simulator; nothing read from the real environment's .env."""
    values: dict[str, object] = {
        "bot_token": TEST_TOKEN,
        "database_url": str(story_db.url),
        "admin_ids": [ADMIN_ID],
        "telegram_api_url": sim.api_url,
        "telegram_file_url": sim.file_url,
        "media_dir": tmp_path / "media",
        "_env_file": None,
    }
    values.update(settings_overrides)
    return load_settings(**values)


@pytest.fixture
async def bot(
    sim: BotApiSimulator, story_db: Database, settings: Settings, clock: ManualClock
) -> AsyncIterator[TongxinApp]:
    """The real Application, polling the simulator over HTTP, on a fresh database.

    After the test, it asserts that the bot never sent Telegram a request it would have refused.
    """
    async with running(settings, db=story_db, clock=clock, poll_timeout=1) as application:
        yield application
    assert sim.invalid_requests == [], f"the bot made invalid Bot API requests: {sim.invalid_requests}"
