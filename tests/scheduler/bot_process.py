"""A bot process for the crash test: the real bot against a given simulator and database, started at a
given moment, running one sweep at once (a restarted bot does the same a minute after start).

    python -m tests.scheduler.bot_process DATABASE_URL API_URL FILE_URL START_ISO [SCHEMA]

SCHEMA: the PostgreSQL schema of the test's database (a test schema cannot travel in the URL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sys

from bot.app import running
from core.clock import ManualClock
from core.settings import load_settings
from scheduler import sweep
from storage.db import Database
from tests.conftest import TEST_TOKEN


async def main(database_url: str, api_url: str, file_url: str, start: str, schema: str | None = None) -> None:
    settings = load_settings(
        bot_token=TEST_TOKEN,
        database_url=database_url,
        telegram_api_url=api_url,
        telegram_file_url=file_url,
        _env_file=None,
    )
    clock = ManualClock(dt.datetime.fromisoformat(start), ticking=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    db = Database(database_url, schema=schema)
    try:
        async with running(settings, db=db, clock=clock, poll_timeout=1) as application:
            await sweep.run_once(application)
            print("swept", flush=True)
            await stop.wait()
    finally:
        await db.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(*sys.argv[1:6]))
