"""PostgreSQL out of reach for 10 s (a TCP proxy in front of it, cut by the test): the /wish typed during the
outage is kept, the person is told only that (received, handled once the system recovers), and the wish
starts once the database is back — the bot recovers by itself."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import running
from core.clock import Timer
from core.settings import load_settings
from simulator import BotApiSimulator
from storage.db import Database
from tests.conftest import START_TIME, TEST_TOKEN

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_POSTGRES_URL"), reason="needs PostgreSQL (TEST_POSTGRES_URL) to put a proxy in front of"
)


class CuttableProxy:
    """A TCP proxy to the database that the test can cut (every connection dropped, new ones refused) and
    restore on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def running(self) -> bool:
        return self._server is not None

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._open |= {client_writer, server_writer}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
                self._open.discard(writer)

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


@pytest.fixture
async def proxied_db() -> AsyncIterator[tuple[Database, CuttableProxy]]:
    url = os.environ["TEST_POSTGRES_URL"].replace("postgresql://", "postgresql+asyncpg://", 1)
    target = make_url(url)
    proxy = CuttableProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    async with admin.write() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(
        target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), schema=schema
    )
    try:
        yield database, proxy
    finally:
        await database.dispose()
        if proxy.running:
            await proxy.cut()
        async with admin.write() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.mark.timeout(120)
async def test_a_wish_typed_during_a_database_outage_is_handled_after_it(
    sim: BotApiSimulator, proxied_db: tuple[Database, CuttableProxy], tmp_path: Path, timer: Timer
) -> None:
    db, proxy = proxied_db
    settings = load_settings(
        bot_token=TEST_TOKEN,
        database_url=str(db.url),
        telegram_api_url=sim.api_url,
        telegram_file_url=sim.file_url,
        media_dir=tmp_path / "media",
        _env_file=None,
    )
    from core.clock import ManualClock

    async with running(settings, db=db, clock=ManualClock(START_TIME), poll_timeout=1, timer=timer):
        alice = sim.person("王阿姨")
        await alice.send_command("/start")
        await alice.wait_for_text("同心", timeout=20)

        await proxy.cut()
        await alice.send_command("/wish")
        told = await alice.wait_for_text("系统繁忙", timeout=20)
        assert "您的消息已收到，恢复后马上处理" in told.text
        await timer.sleep(10)
        # Nothing was handled (or pretended to be) while the database was away.
        assert not any("请选择" in m.text for m in alice.messages)

        await proxy.start()
        await alice.wait_for_text("请选择", timeout=30)
        await alice.press("助老助残")
        await alice.wait_for_text("请用文字描述", timeout=10)
    # No reply claimed anything the bot could not keep: no "your input is still there", no error.
    assert not any("都还在" in m.text or "出了点问题" in m.text for m in alice.messages), alice.transcript()
    assert sum("系统繁忙" in m.text for m in alice.messages) == 1
