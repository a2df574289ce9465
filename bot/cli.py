"""The command line: `tongxin [run|migrate|check|demo]` (also `python -m bot`).

A configuration mistake ends the program with exit code 2 and one line naming the variable.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from core import logs
from core.settings import Settings, SettingsError, load_settings

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 1


def build_parser() -> argparse.ArgumentParser:
    """The CLI with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="tongxin",
        description="同心 Tongxin — volunteer service and newsroom in one chat. Settings come from the "
        "environment or .env (see .env.example).",
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,migrate,check,demo}")
    run = sub.add_parser(
        "run",
        help="run the bot with long polling (the default)",
        description="Run the bot with long polling until interrupted.",
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on WEBHOOK_LISTEN:WEBHOOK_PORT from Telegram's webhook (needs WEBHOOK_URL and "
        "WEBHOOK_SECRET) instead of polling",
    )
    sub.add_parser(
        "migrate",
        help="apply database migrations and exit",
        description="Bring the database schema up to date and exit.",
    )
    sub.add_parser(
        "check",
        help="check settings, database and token, then exit",
        description="Validate the settings, connect to the database and ask Telegram (getMe) "
        "whether the token is accepted.",
    )
    demo = sub.add_parser(
        "demo",
        help="try the bot in a browser, no Telegram needed",
        description="Start a local Bot API simulator, the real bot and a web chat page "
        "(no Telegram account, no internet).",
    )
    demo.add_argument("--port", type=int, default=8080, help="port of the web page (default 8080)")
    demo.add_argument("--data-dir", default="demo-data", help="folder for the demo database (default demo-data)")
    demo.add_argument("--fresh", action="store_true", help="start from a freshly seeded district")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `tongxin` and `python -m bot`."""
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    if command == "demo":
        from bot.demo import run_demo

        return run_demo(port=args.port, data_dir=args.data_dir, fresh=args.fresh)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"tongxin: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    webhook = command == "run" and bool(getattr(args, "webhook", False))
    if webhook and (settings.webhook_url is None or settings.webhook_secret is None):
        missing = "WEBHOOK_URL" if settings.webhook_url is None else "WEBHOOK_SECRET"
        print(f"tongxin: configuration error: {missing}: is not set (needed by run --webhook)", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings)
    if webhook:
        assert settings.webhook_secret is not None
        logs.install(settings.webhook_secret.get_secret_value())
    try:
        if command == "migrate":
            asyncio.run(_migrate(settings))
        elif command == "check":
            return asyncio.run(_check(settings))
        else:
            from bot.app import TokenRejected, run_on_fast_loop, serve_forever
            from channels.lease import LeaseLost

            try:
                run_on_fast_loop(serve_forever(settings, webhook=webhook))
            except TokenRejected:
                print("tongxin: BOT_TOKEN: Telegram did not accept the token", file=sys.stderr)
                return EXIT_CONFIG
            except LeaseLost as exc:  # systemd and compose start it again: a fresh standby
                print(f"tongxin: lost the lease: {exc}", file=sys.stderr)
                return EXIT_UNAVAILABLE
    except (OSError, ConnectionError) as exc:
        print(f"tongxin: cannot reach a service: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        pass
    return 0


# Libraries that log what they carry at DEBUG (python-telegram-bot: every request's parameters and every answer;
# aiosqlite: every statement with its parameters; so texts, names and phones): they stay at INFO whatever LOG_LEVEL.
TALKATIVE_LIBRARIES = (
    "telegram",
    "aiohttp",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "httpcore",
    "asyncio",
    "wechatpy",
    "matplotlib",
    "PIL",
    "fpdf",
)


def configure_logging(settings: Settings) -> None:
    """LOG_LEVEL for our own loggers (at DEBUG they log ids and lengths, never what people wrote), the libraries'
    chatter kept down, and every record redacted (core/logs.py)."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(settings.log_level)  # also where a handler was set up before (basicConfig left it)
    quiet_libraries()
    if settings.log_level == "DEBUG":
        for name in TALKATIVE_LIBRARIES:
            logging.getLogger(name).setLevel(logging.INFO)
    logs.install(settings.bot_token.get_secret_value())
    logging.getLogger("httpx").setLevel(logging.WARNING)


def quiet_libraries() -> None:
    """Start-up says one line per component: the libraries' own INFO chatter (alembic's seven "Context impl…",
    "Running upgrade…" lines, httpx's every request, apscheduler's job additions) is kept to warnings."""
    for name in ("httpx", "alembic", "alembic.runtime.migration", "apscheduler", "telegram.ext.Application"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def _migrate(settings: Settings) -> None:
    from storage.db import Database
    from storage.migrate import current_revision, upgrade

    db = Database(settings.database_url)
    try:
        await upgrade(db)
        print(f"database at revision {await current_revision(db)}")
    finally:
        await db.dispose()


async def _check(settings: Settings) -> int:
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    from storage.db import Database

    print("settings: ok")
    # Every failure below names the setting at fault, whatever the backend (a SQLite folder that cannot be
    # created fails while opening, a PostgreSQL server while connecting).
    try:
        db = Database(settings.database_url)
    except Exception as exc:
        print(f"tongxin: DATABASE_URL: cannot open the database: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    try:
        await db.ping()
        print(f"database: ok ({db.url.get_backend_name()})")
    except Exception as exc:
        print(f"tongxin: DATABASE_URL: cannot connect: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    finally:
        await db.dispose()
    try:
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.media_dir / ".tongxin-check"
        probe.write_bytes(b"")
        probe.unlink()
        print(f"media folder: ok ({settings.media_dir})")
    except OSError as exc:
        print(f"tongxin: MEDIA_DIR: cannot write to {settings.media_dir}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    bot = Bot(
        settings.bot_token.get_secret_value(),
        base_url=settings.telegram_api_url,
        base_file_url=settings.telegram_file_url,
    )
    try:
        async with bot:
            me = await bot.get_me()
        print(f"telegram: ok (@{me.username})")
    except InvalidToken:
        print("tongxin: BOT_TOKEN: Telegram did not accept the token", file=sys.stderr)
        return EXIT_CONFIG
    except TelegramError as exc:
        print(f"tongxin: TELEGRAM_API_URL: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except OSError as exc:
        print(f"tongxin: TELEGRAM_API_URL: cannot reach {settings.telegram_api_url}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return 0
