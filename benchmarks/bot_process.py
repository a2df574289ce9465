"""The bot under load for the benchmarks, in a process of its own so it gets a core of its own while the
simulator and the simulated people run in the benchmark's process (as Telegram runs on its own servers:
sharing the bot's loop, the simulator's work would delay the bot's requests as no network does).

    python -m benchmarks.bot_process DATABASE_URL API_URL FILE_URL TOKEN [limited|no-inbox]

Without an option every rate limit is off (the updates/s figure: what the bot itself can handle); "no-inbox"
also turns the durable update inbox (bot/inbox.py) off, to measure what it costs per update; "limited" runs the
bot as in production (`bot.app.running`: its pacing policy and outbox sender), for the delivery rows. It runs
on the loop the bot runs on in production (`bot.app.run_on_fast_loop`: uvloop where installed). Prints "ready"
once polling, and stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sys

from bot.app import build_application, run_on_fast_loop, running, set_default_menus
from bot.clock import SystemClock
from bot.processor import PerChatUpdateProcessor
from bot.settings import load_settings
from channels.telegram.limits import ChatPacer, SendBudget, SharedRateLimiter
from storage.db import Database


async def main(database_url: str, api_url: str, file_url: str, token: str, mode: str = "unlimited") -> None:
    """Run the bot without limits (or with them: `mode` "limited"; without its inbox: "no-inbox") until SIGTERM."""
    settings = load_settings(
        bot_token=token,
        database_url=database_url,
        telegram_api_url=api_url,
        telegram_file_url=file_url,
        quiet_hours_start=dt.time(0),
        quiet_hours_end=dt.time(0),
        _env_file=None,
    )
    db = Database(settings.database_url)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if mode == "limited":
        async with running(settings, db=db, clock=SystemClock(), poll_timeout=1):
            print("ready", flush=True)
            await stop.wait()
        await db.dispose()
        return
    unlimited = SharedRateLimiter(SendBudget(per_second=None), ChatPacer(enabled=False))
    application = build_application(settings, db, rate_limiter=unlimited)
    if mode == "no-inbox":
        assert isinstance(application.update_processor, PerChatUpdateProcessor)
        application.update_processor.inbox = None
    async with application:
        await set_default_menus(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        print("ready", flush=True)
        await stop.wait()
        await application.updater.stop()
        await application.stop()
    await db.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    run_on_fast_loop(main(*sys.argv[1:6]))
