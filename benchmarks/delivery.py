"""Delivery benchmark: a digest to N people while 20 people keep chatting, against each shape of flood limit.

    python -m benchmarks.delivery [--recipients 10000] [--chatters 20] [--updates 3000] [--shapes ...]

Nobody knows the exact shape of Telegram's limiter, so the same load runs against each shape the
simulator has (`simulator.flood`): **bucket** (token buckets, 30/s with a burst of 30), **window** (at
most 30 sends in any 1 s, at most 3 in any 3 s per private chat) and **window+jitter** (the same, with
every request delayed 0–50 ms at random by the "network", so requests sent evenly arrive bunched) — the
strictest. Each shape's **tongxin** row (the outbox, its one sender and the shared pacing policy) runs in
its own process against its own simulator, the bot in a process of its own as in production
(`benchmarks.bot_process`); the strictest shape also runs **stock** (PTB's `AIORateLimiter(max_retries=3)`
with the digest sent by one `asyncio` task per person, from the benchmark's process) for comparison.
msg/s is every message the simulator accepted (the chatters' replies too) from the digest's first request
to its last accepted message.
Each chatter sends /help every 2 s and waits for the reply. A second table measures the updates per
second the bot handles with every limit off (/digest, which reads and writes the database), with the
durable update inbox (channels/telegram/inbox.py) on and off, and what it costs per update. One line
per shape follows; the last line is the one-line summary for the strictest shape.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter

from actions.messages import Notice, notice_to_payload
from benchmarks import bot_process
from bot.app import TongxinApp, build_application, set_default_menus
from channels.telegram.inbox import UpdateInbox
from channels.telegram.persistence import DatabasePersistence
from channels.telegram.render import render_notice
from core.clock import SystemClock
from core.settings import load_settings
from simulator import BotApiSimulator, FloodLimits, Person
from storage import outbox
from storage.db import Database
from storage.migrate import upgrade
from storage.schema import identities, user_roles, users

TOKEN = "123456:BENCH-TOKEN"
CAP = 30.0  # Telegram's messages per second for one bot
FIRST_ID = 7_000_000
CHAT_INTERVAL = 2.0
DIGEST = Notice("digest.volunteer", {"date": "2026-11-30", "open": 3, "tasks": "W-0001, W-0002, W-0003", "hours": 12})
SENDING = {"sendMessage", "sendPhoto", "sendLocation", "sendDocument", "sendVideo", "sendMediaGroup"}


def _settings(sim: BotApiSimulator, db: Database) -> Any:
    return load_settings(
        bot_token=TOKEN,
        database_url=str(db.url),
        telegram_api_url=sim.api_url,
        telegram_file_url=sim.file_url,
        # The benchmark measures delivery, not the scheduler's idea of night.
        quiet_hours_start=dt.time(0),
        quiet_hours_end=dt.time(0),
        _env_file=None,
    )


async def _add_people(db: Database, ids: range, *, role: str | None = None) -> None:
    now = dt.datetime.now(dt.UTC)
    async with db.write() as conn:
        await conn.execute(
            insert(users),
            [
                {"id": i, "first_name": f"P{i}", "language": "zh-CN", "created_at": now, "last_seen_at": now}
                for i in ids
            ],
        )
        # Person id = Telegram id here (as for people from before migration 0009), linked by their identity.
        await conn.execute(
            insert(identities),
            [{"channel": "telegram", "external_id": str(i), "person_id": i, "created_at": now} for i in ids],
        )
        if role:
            await conn.execute(insert(user_roles), [{"user_id": i, "role": role, "granted_at": now} for i in ids])


async def queue_digest(db: Database, ids: range, key: str) -> None:
    """A digest for each of these people in the outbox, as the sweep queues it (dedupe keys `key:<id>`)."""
    now = dt.datetime.now(dt.UTC)
    async with db.write() as conn:
        for i in ids:
            await outbox.enqueue(
                conn, recipient_id=i, payload=notice_to_payload(DIGEST), lane="bulk", dedupe_key=f"{key}:{i}", now=now
            )


@contextlib.asynccontextmanager
async def _stock_bot(settings: Any, db: Database) -> AsyncIterator[TongxinApp]:
    await upgrade(db)
    application = build_application(settings, db, rate_limiter=AIORateLimiter(max_retries=3))
    leadership = application.bot_data.leadership
    assert application.updater is not None
    updater = application.updater

    async def lead() -> None:
        # The one instance takes the lease first: without it every Bot API request is refused
        # (channels/telegram/request.py).
        await set_default_menus(application)
        await application.start()
        await updater.start_polling(poll_interval=0.0, timeout=1)

    async def step_down() -> None:
        await updater.stop()

    async with application:
        await leadership.start(lead, step_down)
        try:
            yield application
        finally:
            await leadership.stop()
            if updater.running:
                await updater.stop()
            await application.stop()
            await leadership.resign()


def _more_than(person: Person, count: int) -> Callable[[], bool]:
    return lambda: len(person.chat.bot_messages) > count


async def _chat(person: Person, done: asyncio.Event, latencies: list[float]) -> None:
    """Send /help every 2 s and wait for the reply, until the digest is done."""
    loop = asyncio.get_running_loop()
    while not done.is_set():
        started = loop.time()
        before = len(person.chat.bot_messages)
        await person.send_command("/help")
        with contextlib.suppress(TimeoutError):
            await person.wait_for(_more_than(person, before), timeout=600)
            latencies.append(loop.time() - started)
        await asyncio.sleep(max(0.0, CHAT_INTERVAL - (loop.time() - started)))


SHAPES: dict[str, FloodLimits] = {
    "bucket": FloodLimits(),
    "window": FloodLimits(shape="window"),
    "window+jitter": FloodLimits(shape="window", jitter=0.05),
}
STRICTEST = "window+jitter"


async def run_row(kind: str, recipients: int, chatters: int, shape: str = STRICTEST) -> dict[str, Any]:
    """One row of the delivery table, in this process."""
    logging.getLogger("telegram").setLevel(logging.CRITICAL)
    sim = BotApiSimulator(token=TOKEN, flood_limits=SHAPES[shape])
    await sim.start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await upgrade(db)
        ids = range(FIRST_ID, FIRST_ID + recipients)
        await _add_people(db, ids)
        people = [sim.person(f"P{i}", user_id=i) for i in ids]
        talkers = [sim.person(f"C{i}") for i in range(chatters)]
        by_chat = {person.chat_id: person for person in people}
        reached: set[int] = set()

        def note_reached(chat_id: int) -> None:
            # Kept up to date as chats change: asking all N people on every request makes the wait quadratic
            # and takes CPU from the bot and the simulator it measures.
            person = by_chat.get(chat_id)
            if person is not None and person.messages:
                reached.add(chat_id)

        sim.listeners.append(note_reached)
        settings = _settings(sim, db)
        # Tongxin runs as in production, in a process of its own (the simulator is Telegram, not part of the
        # bot's loop); the stock approach is driven from here, its digest one task per person.
        bot_context: contextlib.AbstractAsyncContextManager[int | TongxinApp] = (
            bot_process.started(sim, db, TOKEN, "limited") if kind == "tongxin" else _stock_bot(settings, db)
        )
        latencies: list[float] = []
        lost_sends = 0
        async with bot_context as running_bot:
            application = None if isinstance(running_bot, int) else running_bot
            done = asyncio.Event()
            chat_tasks = [asyncio.create_task(_chat(p, done, latencies)) for p in talkers]
            await asyncio.sleep(3)  # the chat is going before the digest starts
            first_request = len(sim.records)
            started = time.monotonic()
            if kind == "tongxin":
                await queue_digest(db, ids, "digest:bench")
                # The bot's sender finds the rows within its poll (a second), as after the scheduler's sweep.
            else:
                assert application is not None
                text, _ = render_notice(application.bot_data.catalogues, "zh-CN", DIGEST)

                async def send(chat_id: int) -> bool:
                    try:
                        await application.bot.send_message(chat_id, text, parse_mode="HTML")
                    except TelegramError:
                        return False
                    return True

                sends = [asyncio.create_task(send(i)) for i in ids]
            deadline = recipients / CAP * 2 + 120
            with contextlib.suppress(TimeoutError):
                await sim.wait_until(lambda: len(reached) >= recipients, timeout=deadline)
            if kind != "tongxin":
                results = await asyncio.gather(*sends)
                lost_sends = results.count(False)
            finished = time.monotonic()
            done.set()
            await asyncio.gather(*chat_tasks)
        await sim.stop()
        await db.dispose()
    window = [r for r in sim.records[first_request:] if r.method in SENDING and r.monotonic <= finished]
    attempts = len(window)
    flood = sum(1 for r in window if r.error_code == 429)
    # The rate over the period the digest is being sent, from its first request to its last accepted message:
    # every message the simulator accepted in between (the chatters' replies too) over that time, counting
    # intervals between messages (one fewer than messages). Writing the N rows is the benchmark's set-up (in
    # production the scheduler's sweep queues them), not the sender's work.
    digest = [r for r in window if r.chat_id in by_chat]
    first = min((r.monotonic for r in digest), default=started)
    last = max((r.monotonic for r in digest if r.ok), default=finished)
    delivered = sum(1 for r in window if r.ok and first <= r.monotonic <= last)
    counts = [len(p.messages) for p in people]
    latencies.sort()
    return {
        "kind": kind,
        "shape": shape,
        "recipients": recipients,
        "seconds": last - first,
        "rate": (delivered - 1) / (last - first) if last > first else 0.0,
        "lost": sum(1 for c in counts if c == 0),
        "lost_sends": lost_sends,
        "duplicated": sum(1 for c in counts if c > 1),
        "flood_share": flood / attempts if attempts else 0.0,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "replies": len(latencies),
    }


async def run_updates(count: int, *, inbox: bool = True) -> dict[str, Any]:
    """Updates per second with every limit off: `count` people each send /digest (a read and a write); `inbox`
    False turns the durable update inbox off (channels/telegram/inbox.py), to measure its cost.

    The bot runs in its own process (`benchmarks.bot_process`), as it would in production, so the
    simulator and the simulated people do not share its core.
    """
    sim = BotApiSimulator(token=TOKEN, flood_limits=FloodLimits(enabled=False))
    await sim.start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await upgrade(db)
        ids = range(FIRST_ID, FIRST_ID + count)
        await _add_people(db, ids, role="volunteer")
        await db.dispose()
        people = [sim.person(f"P{i}", user_id=i) for i in ids]
        answered: set[int] = set()
        by_chat = {person.chat_id: person for person in people}

        def note_reply(chat_id: int) -> None:
            # Track answered chats as they change: asking every person for their messages on every
            # request would make the waiting itself quadratic.
            person = by_chat.get(chat_id)
            if person is not None and person.chat.bot_messages:
                answered.add(chat_id)

        sim.listeners.append(note_reply)
        async with bot_process.started(sim, db, TOKEN, "unlimited" if inbox else "no-inbox"):
            started = time.monotonic()
            for person in people:
                await person.send_command("/digest")
            await sim.wait_until(lambda: len(answered) >= count, timeout=300)
            seconds = time.monotonic() - started
    await sim.stop()
    return {"updates": count, "seconds": seconds, "per_second": count / seconds, "inbox": inbox}


async def run_inbox_cost(count: int) -> dict[str, float]:
    """What the durable inbox (channels/telegram/inbox.py) adds to each update on SQLite, in ms: writing an update's row
    (its JSON) and deleting it in a transaction of its own (the worst case: an update that changed no conversation
    state; a step's delete joins its state write). One update at a time (a quiet bot: the latency each update gains),
    and
    100 at a time (a busy one: rows arriving together share a commit)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await upgrade(db)
        persistence = DatabasePersistence(db)
        keeper = UpdateInbox(db, SystemClock().now, persistence.group)
        bot = Bot(TOKEN)
        chat = {"id": FIRST_ID, "type": "private", "first_name": "王阿姨"}
        sender = {"id": FIRST_ID, "is_bot": False, "first_name": "王阿姨"}

        class NothingChanged:
            async def update_persistence(self) -> None:
                """The handlers changed no conversation state and no draft."""

        def update(update_id: int) -> Update:
            message = {"message_id": update_id, "date": 0, "chat": chat, "from": sender, "text": "家里老人行动不便"}
            return Update.de_json({"update_id": update_id, "message": message}, bot)

        async def one(item: Update) -> None:
            await keeper.keep(item, FIRST_ID)
            await persistence.write_through(NothingChanged(), [item.update_id])

        items = [update(i) for i in range(1, 2 * count + 1)]
        started = time.perf_counter()
        for item in items[:count]:
            await one(item)
        alone = time.perf_counter() - started
        started = time.perf_counter()
        for first in range(count, 2 * count, 100):
            await asyncio.gather(*(one(item) for item in items[first : first + 100]))
        together = time.perf_counter() - started
        await db.dispose()
    return {"alone_ms": 1000 * alone / count, "together_ms": 1000 * together / count}


def _row_line(row: dict[str, Any]) -> str:
    return (
        f"| {row['shape']:<13} | {row['kind']:<8} | {row['rate']:6.1f} | {100 * row['rate'] / CAP:5.1f}% | "
        f"{row['lost']:5d} | "
        f"{row['duplicated']:5d} | {100 * row['flood_share']:5.1f}% | {1000 * row['p50']:7.0f} | "
        f"{1000 * row['p95']:7.0f} | {row['seconds']:6.0f} |"
    )


def _summary(row: dict[str, Any]) -> str:
    return (
        f"{row['kind']}: cap {100 * row['rate'] / CAP:.1f}%, lost {row['lost']}, duplicated {row['duplicated']}, "
        f"429 {100 * row['flood_share']:.1f}%, chat p95 {1000 * row['p95']:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    """Run every shape's rows (two at a time), then the updates/s table, and print the tables and the summaries."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delivery", description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000, help="digest recipients (default 10000)")
    parser.add_argument("--chatters", type=int, default=20, help="people chatting meanwhile (default 20)")
    parser.add_argument("--updates", type=int, default=3_000, help="updates for the limits-off table (default 3000)")
    parser.add_argument(
        "--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES), help="limiter shapes (default all)"
    )
    parser.add_argument("--row", choices=["tongxin", "stock", "updates", "inbox"], help=argparse.SUPPRESS)
    parser.add_argument("--shape", choices=list(SHAPES), default=STRICTEST, help=argparse.SUPPRESS)
    parser.add_argument("--no-inbox", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.row == "inbox":
        print(json.dumps(asyncio.run(run_inbox_cost(args.updates))))
        return 0
    if args.row == "updates":
        print(json.dumps(asyncio.run(run_updates(args.updates, inbox=not args.no_inbox))))
        return 0
    if args.row:
        print(json.dumps(asyncio.run(run_row(args.row, args.recipients, args.chatters, args.shape))))
        return 0

    print(f"digest to {args.recipients} people while {args.chatters} chat (simulator flood limits on, cap {CAP:.0f}/s)")
    base = [
        sys.executable,
        "-m",
        "benchmarks.delivery",
        "--recipients",
        str(args.recipients),
        "--chatters",
        str(args.chatters),
    ]
    strictest = args.shapes[-1]
    jobs = [(shape, "tongxin") for shape in args.shapes] + [(strictest, "stock")]
    results: list[dict[str, Any]] = []
    # Two rows at a time: each is a bot and a simulator in one process, and a row that shares its core
    # with two others measures the machine, not the sender.
    for first in range(0, len(jobs), 2):
        batch = [
            subprocess.Popen([*base, "--row", kind, "--shape", shape], stdout=subprocess.PIPE, text=True)
            for shape, kind in jobs[first : first + 2]
        ]
        results += [json.loads(process.communicate()[0].strip().splitlines()[-1]) for process in batch]
    print("| shape         | approach |  msg/s |   cap |  lost | dupl. |   429 | p50 ms  | p95 ms  |   secs |")
    print("|---------------|----------|--------|-------|-------|-------|-------|---------|---------|--------|")
    for row in results:
        print(_row_line(row))
    tongxin = next(r for r in results if r["shape"] == strictest and r["kind"] == "tongxin")
    stock = next(r for r in results if r["kind"] == "stock")
    ratio = tongxin["rate"] / stock["rate"] if stock["rate"] else float("inf")
    p95_ratio = stock["p95"] / tongxin["p95"] if tongxin["p95"] else float("inf")
    print(f"ratio tongxin/stock on {strictest}: throughput {ratio:.2f}×, chat p95 {p95_ratio:.1f}× faster")
    print()
    if args.updates:
        # With the durable inbox and without it (what the bot did before it), one after the other.
        rows = [
            json.loads(
                subprocess.run(
                    [*base, "--updates", str(args.updates), "--row", "updates", *flag],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            for flag in ([], ["--no-inbox"])
        ]
        print("updates handled with limits off (/digest: a read and a write each)")
        print("| inbox | updates | seconds | updates/s |")
        print("|-------|---------|---------|-----------|")
        for row in rows:
            print(
                f"| {'on' if row['inbox'] else 'off':<5} | {row['updates']:7d} | {row['seconds']:7.1f} | "
                f"{row['per_second']:9.0f} |"
            )
        cost = 1000 * (rows[0]["seconds"] - rows[1]["seconds"]) / args.updates
        alone = asyncio.run(run_inbox_cost(args.updates))
        print(
            f"durable inbox: {cost:.2f} ms per update in the table above; its writes alone "
            f"{alone['alone_ms']:.2f} ms per update one at a time, {alone['together_ms']:.2f} ms 100 at a time"
        )
        print()
    for row in results:
        if row["kind"] == "tongxin" and row is not tongxin:
            print(f"{row['shape']}: {_summary(row)}")
    print(f"{_summary(tongxin)} | {_summary(stock)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
