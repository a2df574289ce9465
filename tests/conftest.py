"""Shared fixtures: a fresh migrated database per test, the Bot API simulator, and the real bot polling it.

Story tests take `bot` (the running Application) and `sim` and talk through simulated people:

    async def test_welcome(bot, sim):
        alice = sim.person("王阿姨")
        await alice.send_command("/start")
        assert "同心" in (await alice.next_message()).text

Storage tests take `db`, which runs on SQLite and, when TEST_POSTGRES_URL is set, on PostgreSQL too. Each test has
a database of its own, copied from one migrated once per run (`templates`): a SQLite file, or a PostgreSQL database
made with `CREATE DATABASE … TEMPLATE` and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import TongxinApp, running
from core.clock import LoopTimer, ManualClock, Timer
from core.settings import Settings, load_settings
from simulator.virtual_time import VirtualTimeLoop
from storage.db import Database
from storage.migrate import upgrade

if TYPE_CHECKING:
    from simulator import BotApiSimulator, FloodLimits

ADMIN_ID = 9_000_001
TEST_TOKEN = "123456:TEST-TOKEN"
# Webhook mode's stories (`both_transports`): the public URL Telegram posts to and the secret it sends.
WEBHOOK_URL = "https://bot.example.org/telegram"
WEBHOOK_SECRET = "story-webhook-secret_0"
# 10:00 in Shanghai on a Thursday: inside working hours, outside quiet hours.
START_TIME = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, type[VirtualTimeLoop]]:
    """Every async test runs on a loop with virtual time (`simulator.virtual_time`); it moves only for what waits on
    the `timer` fixture, and the loop is asyncio's own for everything else."""
    return {"virtual_time": VirtualTimeLoop}


@pytest.fixture
async def timer(request: pytest.FixtureRequest) -> Timer:
    """What the bot and the simulators wait on: virtual time, which passes whenever everything is waiting; the event
    loop's own time for a test marked `real_time` or `wall_clock` (a bot in another process keeps real time)."""
    loop = asyncio.get_running_loop()
    real = any(request.node.get_closest_marker(name) is not None for name in ("real_time", "wall_clock"))
    if real or not isinstance(loop, VirtualTimeLoop):
        return LoopTimer()
    return loop.timer


def _hold_time_while_busy(database: Database) -> None:
    """Virtual time stands still while a connection of `database` is checked out (a query or a transaction on its
    way): a query's real time is no time at all for the bot's deadlines."""
    loop = asyncio.get_running_loop()
    if isinstance(loop, VirtualTimeLoop):
        pool = database.engine.pool
        loop.hold_while(lambda: pool.checkedout() > 0)  # type: ignore[attr-defined]


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Databases migrated to head once per run (per worker): a SQLite file to copy, and with TEST_POSTGRES_URL a
    PostgreSQL database to clone with `CREATE DATABASE … TEMPLATE`. `tests/storage/test_migrations.py` still migrates
    from scratch; every other test starts from a copy."""
    folder = tmp_path_factory.mktemp("template")
    found = Templates(sqlite=folder / "head.db")
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{found.sqlite}"))
    if "postgresql" in BACKENDS:
        found.postgres = f"tongxin_head_{uuid.uuid4().hex[:10]}"
        asyncio.run(_create_postgres_template(found.postgres))
    yield found
    if found.postgres is not None:
        asyncio.run(_drop_postgres_database(found.postgres))


@dataclass
class Templates:
    """Where the migrated templates are (`templates`)."""

    sqlite: Path
    postgres: str | None = None


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


def _postgres_url(database: str | None = None) -> str:
    """TEST_POSTGRES_URL for asyncpg, on `database` instead of its own when given."""
    url = make_url(_asyncpg_url(os.environ["TEST_POSTGRES_URL"]))
    return (url.set(database=database) if database else url).render_as_string(hide_password=False)


async def _on_server(statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) on TEST_POSTGRES_URL's database."""
    admin = Database(_postgres_url())
    try:
        async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


async def _create_postgres_template(name: str) -> None:
    await _on_server(f'CREATE DATABASE "{name}"')
    await _migrate(_postgres_url(name))


async def _drop_postgres_database(name: str) -> None:
    await _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, templates: Templates, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database of the test's own: SQLite file, or a PostgreSQL database (copies of `templates`)."""
    async for database in _copied_database(request.param, templates, tmp_path):
        yield database


async def _copied_database(backend: str, templates: Templates, tmp_path: Path) -> AsyncIterator[Database]:
    """A database at head on `backend`, copied from the run's template."""
    if backend == "sqlite":
        target = tmp_path / "test.db"
        shutil.copyfile(templates.sqlite, target)
        database = Database(f"sqlite+aiosqlite:///{target}")
        _hold_time_while_busy(database)
        yield database
        await database.dispose()
        return
    assert templates.postgres is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    await _on_server(f'CREATE DATABASE "{name}" TEMPLATE "{templates.postgres}"')
    database = Database(_postgres_url(name))
    try:
        _hold_time_while_busy(database)
        yield database
    finally:
        await database.dispose()
        await _drop_postgres_database(name)


async def _fresh_database(backend: str, tmp_path: Path, revision: str = "head") -> AsyncIterator[Database]:
    """A database on `backend` migrated from nothing to `revision` (for the migrations' own tests): a SQLite file, or
    a fresh PostgreSQL schema."""
    if backend == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await upgrade(database, revision)
        _hold_time_while_busy(database)
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
        _hold_time_while_busy(database)
        yield database
    finally:
        await database.dispose()
        async with admin.write() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def sqlite_db(templates: Templates, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite file, for tests that hand the database to a bot in another process by URL."""
    async for database in _copied_database("sqlite", templates, tmp_path):
        yield database


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Stories run on SQLite; a story marked `both_databases` (where the dialect matters: claim races, outbox claims,
    query plans, erasure SQL, exports) runs on PostgreSQL too when TEST_POSTGRES_URL is set."""
    if "story_db" in metafunc.fixturenames and not _parametrizes(metafunc.definition, "story_db"):
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("story_db", BACKENDS if both else ["sqlite"], indirect=True)
    if "transport" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_transports") is not None:
        # Through getUpdates and through the simulator's webhook delivery (channels/telegram/webhook.py).
        metafunc.parametrize("transport", ["polling", "webhook"], indirect=True)


def _parametrizes(definition: pytest.Function, name: str) -> bool:
    """Whether the test's own `parametrize` marks name `name` (a journey pairs its channels with the databases:
    tests/journeys)."""
    for mark in definition.iter_markers("parametrize"):
        names = mark.args[0]
        if name in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return True
    return False


@pytest.fixture
def transport(request: pytest.FixtureRequest) -> str:
    """How the story's bot gets its updates: "polling" unless the story is marked `both_transports`."""
    return str(getattr(request, "param", "polling"))


@pytest.fixture
async def story_db(request: pytest.FixtureRequest, templates: Templates, tmp_path: Path) -> AsyncIterator[Database]:
    """The database a story's bot runs on (`pytest_generate_tests` says which)."""
    async for database in _copied_database(request.param, templates, tmp_path):
        yield database


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when the test says so."""
    return ManualClock(START_TIME)


@pytest.fixture
def flood_limits() -> FloodLimits:
    """Telegram's flood limits in their strictest shape (sliding windows: at most 30 sends in any second, 3 in any 3 s
    to one private chat, 20 in any minute to a group); a test may override this fixture."""
    from simulator import FloodLimits

    return FloodLimits(shape="window")


@pytest.fixture
async def sim(flood_limits: FloodLimits, timer: Timer, clock: ManualClock) -> AsyncIterator[BotApiSimulator]:
    """The local Bot API simulator on a free port: its flood limits on the bot's timer, its messages dated by the
    bot's clock (a story never reads the wall clock)."""
    from simulator import BotApiSimulator

    simulator = BotApiSimulator(
        token=TEST_TOKEN,
        bot_username="tongxin_bot",
        flood_limits=flood_limits,
        timer=timer,
        clock=lambda: clock.now().timestamp(),
    )
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Extra settings for one test module (override the fixture)."""
    return {}


@pytest.fixture
def settings(
    sim: BotApiSimulator, story_db: Database, tmp_path: Path, settings_overrides: dict[str, object], transport: str
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
    if transport == "webhook":
        values.update(webhook_url=WEBHOOK_URL, webhook_secret=WEBHOOK_SECRET, webhook_port=0)
    values.update(settings_overrides)
    return load_settings(**values)


@pytest.fixture
async def bot(
    request: pytest.FixtureRequest,
    sim: BotApiSimulator,
    story_db: Database,
    settings: Settings,
    clock: ManualClock,
    timer: Timer,
    transport: str,
) -> AsyncIterator[TongxinApp]:
    """The real Application, polling the simulator over HTTP (or, for `transport` "webhook", receiving the simulator's
    webhook deliveries through the route that plays the reverse proxy), on a fresh database.

    After the test, it asserts that the bot never sent Telegram a request it would have refused, that it paced
    itself: not one 429 from the simulator's flood limits (unless the story is marked `provokes_429`: limits stricter
    than the bot can know, on purpose), and that after any 429 nothing went to that chat before its retry_after.
    """
    webhook = transport == "webhook"
    async with running(settings, db=story_db, clock=clock, poll_timeout=1, timer=timer, webhook=webhook) as application:
        if application.bot_data.webhook is not None:
            receiver = application.bot_data.webhook
            sim.webhook_delivery.route(WEBHOOK_URL, f"http://127.0.0.1:{receiver.port}{receiver.path}")
        yield application
    assert sim.invalid_requests == [], f"the bot made invalid Bot API requests: {sim.invalid_requests}"
    if request.node.get_closest_marker("provokes_429") is None:
        floods = [(r.method, r.chat_id, round(r.monotonic, 3)) for r in sim.records if r.category == "flood"]
        assert floods == [], f"the bot drew 429s from Telegram's flood limits: {floods[:10]}"
    early = [(r.method, r.chat_id, round(r.monotonic, 3)) for r in sim.early_requests]
    assert early == [], f"the bot sent before a 429's retry_after: {early[:10]}"
    if webhook:
        assert sim.webhook.get("url") == WEBHOOK_URL
        assert [r for r in sim.records if r.method == "getUpdates"] == [], "webhook mode polled Telegram"
