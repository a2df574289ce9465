"""The bot under load for the benchmarks, in a process of its own so it gets a core of its own while the
simulator and the simulated people run in the benchmark's process (as Telegram runs on its own servers:
sharing the bot's loop, the simulator's work would delay the bot's requests as no network does), and so
its memory is measured without the simulator's (which keeps every file the bot uploads).

    python -m benchmarks.bot_process DATABASE_URL API_URL FILE_URL TOKEN [limited|no-inbox|unlimited]
        [--schema NAME] [--admin-ids 1,2,3]

Without a mode every rate limit is off (the updates/s figure: what the bot itself can handle); "no-inbox"
also turns the durable update inbox (channels/telegram/inbox.py) off, to measure what it costs per update; "limited"
runs the bot as in production (`bot.app.running`: its pacing policy, outbox sender and scheduled sweep), for the
delivery rows and the scale and updates benchmarks; "echo" is not Tongxin at all but a stock python-telegram-bot
application that answers every text with the same text (PTB's defaults, no database), the yardstick of the updates
benchmark. `--schema` is the PostgreSQL schema the benchmark built its data in. It runs on
the loop the bot runs on in production (`bot.app.run_on_fast_loop`: uvloop where installed). Prints "ready"
once polling, and stops on SIGTERM. `started` runs it from a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.app import build_application, run_on_fast_loop, running, set_default_menus
from channels.telegram.limits import ChatPacer, SendBudget, SharedRateLimiter
from channels.telegram.processor import PerChatUpdateProcessor
from core.clock import LoopTimer, SystemClock
from core.settings import load_settings
from simulator import BotApiSimulator
from storage.db import Database

MODES = ("unlimited", "limited", "no-inbox", "echo")


async def main(
    database_url: str,
    api_url: str,
    file_url: str,
    token: str,
    mode: str = "unlimited",
    *,
    schema: str | None = None,
    admin_ids: Sequence[int] = (),
) -> None:
    """Run the bot without limits (or with them: `mode` "limited"; without its inbox: "no-inbox") until SIGTERM."""
    settings = load_settings(
        bot_token=token,
        database_url=database_url,
        telegram_api_url=api_url,
        telegram_file_url=file_url,
        admin_ids=list(admin_ids),
        quiet_hours_start=dt.time(0),
        quiet_hours_end=dt.time(0),
        _env_file=None,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if mode == "echo":
        await _echo(api_url, file_url, token, stop)
        return
    db = Database(settings.database_url, schema=schema)
    if mode == "limited":
        async with running(settings, db=db, clock=SystemClock(), poll_timeout=1):
            print("ready", flush=True)
            await stop.wait()
        await db.dispose()
        return
    timer = LoopTimer()  # one timer for the budget, the pacer and the limiter, as bot.app builds them
    unlimited = SharedRateLimiter(
        SendBudget(per_second=None, timer=timer), ChatPacer(enabled=False, timer=timer), timer=timer
    )
    application = build_application(settings, db, rate_limiter=unlimited)
    if mode == "no-inbox":
        assert isinstance(application.update_processor, PerChatUpdateProcessor)
        application.update_processor.inbox = None
    async with application:
        leadership = application.bot_data.leadership
        # The one instance takes the lease first: without it every Bot API request is refused
        # (channels/telegram/request.py).
        ready = asyncio.Event()

        async def lead() -> None:
            await set_default_menus(application)
            ready.set()

        async def step_down() -> None:
            stop.set()

        await leadership.start(lead, step_down)
        await ready.wait()
        await _poll_until(application, stop)
        await leadership.stop()
        await leadership.resign()
    await db.dispose()


async def _poll_until(application: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event) -> None:
    """Start the (initialized) application polling as Tongxin polls, say "ready", and stop on `stop`."""
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    print("ready", flush=True)
    await stop.wait()
    await application.updater.stop()
    await application.stop()


async def _echo(api_url: str, file_url: str, token: str, stop: asyncio.Event) -> None:
    """A stock python-telegram-bot echo bot: its builder's defaults, one handler, polling as Tongxin polls."""

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None and update.message.text:
            await update.message.reply_text(update.message.text)

    application = ApplicationBuilder().token(token).base_url(api_url).base_file_url(file_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await _poll_until(application, stop)


@contextlib.asynccontextmanager
async def started(
    sim: BotApiSimulator, db: Database, token: str, mode: str, *, admin_ids: Sequence[int] = ()
) -> AsyncIterator[int]:
    """The bot in its own process against `sim` and `db`, polling until the block ends; yields its pid."""
    options = ["--schema", db.schema] if db.schema else []
    if admin_ids:
        options += ["--admin-ids", ",".join(map(str, admin_ids))]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.bot_process",
        db.url.render_as_string(hide_password=False),
        sim.api_url,
        sim.file_url,
        token,
        mode,
        *options,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready = await asyncio.wait_for(process.stdout.readline(), 120)
        if ready.strip() != b"ready":
            raise RuntimeError(f"the bot process did not start: {ready!r}")
        yield process.pid
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bot_process", description=__doc__.split("\n\n")[0])
    for name in ("database_url", "api_url", "file_url", "token"):
        parser.add_argument(name)
    parser.add_argument("mode", nargs="?", choices=MODES, default="unlimited")
    parser.add_argument("--schema")
    parser.add_argument("--admin-ids", default="", type=lambda v: [int(i) for i in v.split(",") if i])
    return parser.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    args = _arguments(sys.argv[1:])
    if os.environ.get("BENCH_CPROFILE"):  # a deterministic profile of the whole run, written when it stops
        import atexit
        import cProfile

        profiler = cProfile.Profile()
        atexit.register(lambda: profiler.dump_stats(os.environ["BENCH_CPROFILE"]))
        profiler.enable()
    run_on_fast_loop(
        main(
            args.database_url,
            args.api_url,
            args.file_url,
            args.token,
            args.mode,
            schema=args.schema,
            admin_ids=args.admin_ids,
        )
    )
