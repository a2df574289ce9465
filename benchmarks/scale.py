"""Scale benchmark: a district of N wishes, measured through the real bot and the simulator.

    python -m benchmarks.scale --wishes 100000 [--database-url postgresql://postgres@127.0.0.1:5432/scale_bench]

Builds the district with bulk inserts (a realistic mix of statuses over the past year, Chinese texts from
templates, 10% open; a volunteer per ten wishes, at least 300, with three of the eight skills and a place;
residents, tips, and the hot-topic terms every text has once the sweep has segmented it), then starts the real
bot as in production, in a process of its own (`benchmarks.bot_process`), against the local Bot API simulator in
this process (flood limits off: the bot's own work is measured, not Telegram's pace) and measures reply latencies
(command sent → the reply arrives) for /tasks, its next page, /pending, /mywishes, /top, /stats all, /hot 90 (the
first and /hot 89…80 computed, then /hot 90 again from the minute's cache), a
year's /export (with the bot process's peak RSS growth while it is built), a volunteer's /tasks sent while /hot
90 runs, the sweep's duration when nothing is due (outside a digest window, and inside one once its digests are
written), and the bot process's RSS at the end (the simulator's copy of every uploaded file is not counted). The
last line is the one-line summary. Without --database-url a temporary SQLite file is used; with a PostgreSQL URL a
private schema is created and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import logging
import math
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from actions import tasks as task_actions
from benchmarks import bot_process
from bot.app import build_application
from core.clock import ManualClock
from core.settings import DEFAULT_AREAS, DEFAULT_CATEGORIES, load_settings
from rules.hot import segment_all
from scheduler import digests as scheduled_digests
from scheduler import sweep
from simulator import BotApiSimulator, FloodLimits, Person
from storage import hot as hot_storage
from storage.db import Database
from storage.migrate import upgrade
from storage.schema import (
    identities,
    outbox,
    reference_counters,
    text_terms,
    tips,
    user_roles,
    users,
    volunteer_skills,
    volunteers,
    wishes,
)

TOKEN = "123456:SCALE-TOKEN"
ADMIN = 9_000_001
# People take turns (the bot slows down anyone sending over 30 messages a minute).
TURNS = 8
FIRST_VOLUNTEER = 8_000_001
FIRST_RESIDENT = 7_000_001
VOLUNTEERS = 300
CENTRE = (31.23, 121.47)
CHUNK = 5000
REPEAT = 20

TEMPLATES = (
    "家里老人行动不便，想请人帮忙买菜和打扫卫生",
    "小区路灯坏了好几天，晚上出门很不安全",
    "楼道里堆满杂物，担心发生火灾，希望有人来清理",
    "孩子放学后没人照看，想请志愿者辅导作业",
    "独居老人需要陪同去医院复查，子女在外地",
    "家里水管漏水，房东联系不上，想请人帮忙修理",
    "社区广场噪音太大，晚上影响休息",
    "想了解医保报销政策，不会在手机上办理",
    "残疾人家庭需要轮椅，希望得到帮助",
    "小区停水三天了，老人提水上楼很困难",
    "电梯经常故障，老人上下楼不方便",
    "想学习智能手机使用，希望有人教一下",
    "家门口的下水道堵塞，气味很大",
    "老旧小区加装电梯的政策想咨询一下",
    "冬天取暖费用太高，家庭困难希望得到补助",
    "公交站台的遮雨棚坏了，下雨天等车很不方便",
)
TIP_TEMPLATES = (
    "东城社区停水，居民排队接水",
    "南湖公园的荷花开了，很多市民拍照",
    "城关镇集市交通拥堵，需要疏导",
    "西城社区志愿者上门为老人理发",
    "学校门口的斑马线被车辆占用",
)
# Status mix of a year of wishes (shares of all wishes).
STATUSES = (
    ("confirmed", 0.66),
    ("open", 0.10),
    ("pending_review", 0.02),
    ("claimed", 0.04),
    ("done", 0.03),
    ("rejected", 0.05),
    ("cancelled", 0.05),
    ("expired", 0.05),
)


def _settings(sim: BotApiSimulator, db: Database) -> Any:
    return load_settings(
        bot_token=TOKEN,
        database_url=str(db.url),
        telegram_api_url=sim.api_url,
        telegram_file_url=sim.file_url,
        admin_ids=[ADMIN + i for i in range(TURNS)],
        quiet_hours_start=dt.time(0),
        quiet_hours_end=dt.time(0),
        _env_file=None,
    )


class BotMemory:
    """The bot process's memory, read from /proc (Linux): its resident set size now, and how far it grew
    above where it started during a block (the kernel's high-water mark, reset at the start of the block
    through `clear_refs`, so no short peak between two samples is missed; sampled every 10 ms where the
    reset is not allowed)."""

    def __init__(self, pid: int) -> None:
        self.status = Path(f"/proc/{pid}/status")
        self.clear_refs = Path(f"/proc/{pid}/clear_refs")
        self._highest = 0.0  # the high-water mark before each reset

    def _field(self, name: str) -> float:
        for line in self.status.read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def rss_mb(self) -> float:
        return self._field("VmRSS")

    def peak_rss_mb(self) -> float:
        """The process's highest RSS since it started (the kernel's high-water mark, and its values before each
        reset by `peak_growth`)."""
        return max(self._highest, self._field("VmHWM"))

    @contextlib.asynccontextmanager
    async def peak_growth(self) -> AsyncIterator[list[float]]:
        """Yields a list that holds the growth in MB once the block ends."""
        growth: list[float] = []
        base = self.rss_mb()
        self._highest = max(self._highest, self._field("VmHWM"))
        try:
            self.clear_refs.write_text("5")  # resets VmHWM to the current RSS
            marked = True
        except OSError:
            marked = False
        peak = base
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, self.rss_mb())
                await asyncio.sleep(0.01)

        sampler = asyncio.create_task(sample())
        try:
            yield growth
        finally:
            done.set()
            await sampler
            if marked:
                peak = max(peak, self._field("VmHWM"))
            growth.append(peak - base)


async def insert_rows(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """A bulk load: COPY on PostgreSQL, so the roll-up triggers (migration 0016, statement triggers) run once
    per chunk rather than once per row; executemany on SQLite (row triggers either way)."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        await conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    await raw.copy_records_to_table(
        table.name, records=[tuple(row[c] for c in columns) for row in rows], columns=columns, schema_name=schema
    )


async def build(db: Database, n: int, now: dt.datetime) -> dict[str, Any]:
    """The district: people, volunteers, n wishes, n/10 tips and their terms; returns what the run needs."""
    rnd = random.Random(17)
    residents = max(10, n // 20)
    # A volunteer per ten wishes (10,000 at 100k: the weekly digest's readers, and the rows of the hours export), at
    # least 300.
    volunteer_count = max(VOLUNTEERS, n // 10)
    template_terms = dict(zip(TEMPLATES, segment_all(TEMPLATES), strict=True))
    tip_terms = dict(zip(TIP_TEMPLATES, segment_all(TIP_TEMPLATES), strict=True))
    people = [
        *((ADMIN + i, f"陈主任{i}") for i in range(TURNS)),
        *((FIRST_VOLUNTEER + i, f"志愿者{i}") for i in range(volunteer_count)),
        *((FIRST_RESIDENT + i, f"居民{i}") for i in range(residents)),
    ]
    async with db.write() as conn:
        for start in range(0, len(people), CHUNK):
            part = people[start : start + CHUNK]
            await conn.execute(
                insert(users),
                [
                    {"id": i, "first_name": name, "language": "zh-CN", "created_at": now, "last_seen_at": now}
                    for i, name in part
                ],
            )
            await conn.execute(
                insert(identities),
                [{"channel": "telegram", "external_id": str(i), "person_id": i, "created_at": now} for i, _ in part],
            )
        vids = [FIRST_VOLUNTEER + i for i in range(volunteer_count)]
        await conn.execute(insert(user_roles), [{"user_id": i, "role": "volunteer", "granted_at": now} for i in vids])
        await conn.execute(
            insert(volunteers),
            [
                {
                    "user_id": i,
                    "name": f"志愿者{i - FIRST_VOLUNTEER}",
                    "area": rnd.choice(DEFAULT_AREAS),
                    "latitude": CENTRE[0] + rnd.uniform(-0.1, 0.1),
                    "longitude": CENTRE[1] + rnd.uniform(-0.1, 0.1),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in vids
            ],
        )
        await conn.execute(
            insert(volunteer_skills),
            [{"user_id": i, "category": c} for i in vids for c in rnd.sample(DEFAULT_CATEGORIES, 3)],
        )

    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    year = dt.timedelta(days=365)
    made = 0
    while made < n:
        rows, terms = [], []
        for ref in range(made + 1, min(n, made + CHUNK) + 1):
            status = rnd.choices(statuses, weights)[0]
            # Times that leave nothing due for the sweep: open and pending wishes 8-29 days old (past the
            # alerts' catch-up, before expiry), done ones under 72 hours, claims due in the future.
            hour = dt.timedelta(hours=1)
            if status in ("open", "pending_review"):
                created = now - dt.timedelta(days=rnd.uniform(8, 29))
            elif status == "done":
                created = now - rnd.uniform(50, 60) * hour
            elif status == "claimed":
                created = now - rnd.uniform(5, 40) * hour
            else:
                created = now - dt.timedelta(days=10) - (year - dt.timedelta(days=10)) * (1 - ref / n)
            description = rnd.choice(TEMPLATES)
            placed = rnd.random() < 0.7
            claimed = created + rnd.uniform(1, 4) * hour if status in ("claimed", "done", "confirmed") else None
            done = claimed + rnd.uniform(1, 10) * hour if claimed and status in ("done", "confirmed") else None
            confirmed = done + rnd.uniform(1, 48) * hour if done and status == "confirmed" else None
            updated = max(t for t in (created, claimed, done, confirmed) if t is not None)
            rows.append(
                {
                    "id": ref,
                    "ref_no": ref,
                    "resident_id": FIRST_RESIDENT + rnd.randrange(residents),
                    "category": rnd.choice(DEFAULT_CATEGORIES),
                    "description": f"{description}（第{ref}号）",
                    "area": rnd.choice(DEFAULT_AREAS),
                    "latitude": CENTRE[0] + rnd.uniform(-0.15, 0.15) if placed else None,
                    "longitude": CENTRE[1] + rnd.uniform(-0.15, 0.15) if placed else None,
                    "status": status,
                    "created_at": created,
                    "updated_at": updated,
                    "claimed_by": FIRST_VOLUNTEER + rnd.randrange(volunteer_count) if claimed else None,
                    "claimed_at": claimed,
                    # Claims are due in the future, so nothing is due for the sweep.
                    "due_at": now + dt.timedelta(days=2) if claimed else None,
                    "done_at": done,
                    "hours": rnd.choice((0.5, 1.0, 2.0, 4.0)) if done else None,
                    "confirmed_at": confirmed,
                    "rating": rnd.randint(3, 5) if confirmed else None,
                }
            )
            terms += [
                {"source": "w", "source_id": ref, "term": term, "at": created}
                for term in {"", *template_terms[description]}
            ]
        async with db.write() as conn:
            await insert_rows(conn, wishes, rows)
            await insert_rows(conn, text_terms, terms)
        made += len(rows)
    # Tips in chunks like the wishes: a million tips' rows held at once would stay in the RSS measured below.
    tip_count = n // 10
    for first_tip in range(1, tip_count + 1, CHUNK):
        tip_rows, tip_term_rows = [], []
        for tid in range(first_tip, min(tip_count, first_tip + CHUNK - 1) + 1):
            created = now - year * (1 - tid / max(1, tip_count)) - dt.timedelta(minutes=1)
            description = rnd.choice(TIP_TEMPLATES)
            tip_rows.append(
                {
                    "id": tid,
                    "reporter_id": FIRST_RESIDENT + rnd.randrange(residents),
                    "by_reporter": True,
                    "status": rnd.choice(("new", "accepted", "declined", "published")),
                    "category": "livelihood",
                    "description": description,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            tip_term_rows += [
                {"source": "t", "source_id": tid, "term": term, "at": created} for term in {"", *tip_terms[description]}
            ]
        async with db.write() as conn:
            await insert_rows(conn, tips, tip_rows)
            await insert_rows(conn, text_terms, tip_term_rows)
    async with db.write() as conn:
        await conn.execute(update(reference_counters).where(reference_counters.c.name == "wish").values(value=n + 1))
        # Every text so far has its terms stored (as the sweep leaves it); the newest wish is counted on the fly.
        await hot_storage.set_watermark(conn, hot_storage.WISH, n)
        await hot_storage.set_watermark(conn, hot_storage.TIP, n // 10)
        # The newest wish: open, of the measured volunteer's first skill, nearest to them (it must be offered).
        volunteer = FIRST_VOLUNTEER
        skill = (
            (await conn.execute(select(volunteer_skills.c.category).where(volunteer_skills.c.user_id == volunteer)))
            .scalars()
            .first()
        )
        place = (
            await conn.execute(
                select(volunteers.c.latitude, volunteers.c.longitude).where(volunteers.c.user_id == volunteer)
            )
        ).one()
        await conn.execute(
            insert(wishes).values(
                id=n + 1,
                ref_no=n + 1,
                resident_id=FIRST_RESIDENT,
                category=skill,
                description="最新的心愿：楼下老人需要帮忙取药",
                area=DEFAULT_AREAS[0],
                latitude=place.latitude + 0.0001,
                longitude=place.longitude,
                status="open",
                created_at=now,
                updated_at=now,
            )
        )
        # Residents with many wishes for /mywishes.
        for i in range(TURNS):
            await conn.execute(
                update(wishes)
                .where(wishes.c.id > 30 * i, wishes.c.id <= 30 * (i + 1))
                .values(resident_id=FIRST_RESIDENT + i)
            )
    if db.is_sqlite:
        async with db.write() as conn:
            await conn.execute(text("ANALYZE"))
    else:
        # Rows were loaded with their ids: the id sequences go on after them (new wishes and tips get the next).
        async with db.write() as conn:
            for table in ("wishes", "tips"):
                await conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
        # The steady state autovacuum reaches after bulk inserts: statistics and the visibility map (without it
        # PostgreSQL cannot answer from an index alone).
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE)"))
    return {"newest": n + 1, "newest_ref": f"W-{n + 1:04d}"}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


SENDING = {
    "sendMessage",
    "sendPhoto",
    "sendLocation",
    "sendDocument",
    "sendMediaGroup",
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
}
# The last reply of each measurement, in seconds from sending: filled by `timed_reply`.
LAST: list[float] = []


async def timed_reply(
    sim: BotApiSimulator,
    person: Person,
    send: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 300,  # noqa: ASYNC109
    alone: bool = True,
) -> float:
    """Seconds from sending to the first new (or edited) bot message in the person's chat. `alone`: wait until
    the bot is idle before and after, and note when its last message of the reply went out in `LAST` (a list
    of many messages is only read when its last one arrived)."""
    chat = person.chat
    if alone:
        await sim.settle(quiet=0.05, timeout=timeout)
    before = {m.message_id: m.seq_updated for m in chat.bot_messages}
    mark = len(sim.records)

    def arrived() -> bool:
        return any(before.get(m.message_id) != m.seq_updated for m in chat.bot_messages)

    started = time.monotonic()
    await send()
    await person.wait_for(arrived, timeout=timeout)
    first = time.monotonic() - started
    if alone:
        await sim.settle(quiet=0.3, timeout=timeout)
        sent = [r.monotonic for r in sim.records[mark:] if r.method in SENDING and r.chat_id == person.chat_id]
        LAST.append(max(sent) - started if sent else first)
    return first


@contextlib.asynccontextmanager
async def database(url: str | None, tmp: Path) -> AsyncIterator[Database]:
    if url is None:
        db = Database(f"sqlite+aiosqlite:///{tmp / 'scale.db'}")
        await upgrade(db)
        yield db
        await db.dispose()
        return
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    admin = Database(url)
    async with admin.write() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(url, schema=schema)
    try:
        await upgrade(db)
        yield db
    finally:
        await db.dispose()
        async with admin.write() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def run(n: int, url: str | None, *, window: bool = True) -> dict[str, Any]:
    logging.getLogger("telegram").setLevel(logging.CRITICAL)
    sim = BotApiSimulator(token=TOKEN, flood_limits=FloodLimits(enabled=False))
    await sim.start()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with database(url, Path(tmp)) as db:
            now = dt.datetime.now(dt.UTC)
            started = time.perf_counter()
            built = await build(db, n, now)
            figures["build_s"] = time.perf_counter() - started
            admins = [sim.person(f"陈主任{i}", user_id=ADMIN + i) for i in range(TURNS)]
            volunteer = sim.person("志愿者0", user_id=FIRST_VOLUNTEER)
            others = [sim.person(f"志愿者{i}", user_id=FIRST_VOLUNTEER + i) for i in range(1, TURNS + 1)]
            residents = [sim.person(f"居民{i}", user_id=FIRST_RESIDENT + i) for i in range(TURNS)]
            settings = _settings(sim, db)
            admin_ids = [ADMIN + i for i in range(TURNS)]
            # The bot runs as in production, in a process of its own (its memory is measured without the
            # simulator's copy of every file it uploads); this process keeps an application of its own only
            # to time the sweep and to check what /tasks offers.
            async with bot_process.started(sim, db, TOKEN, "limited", admin_ids=admin_ids) as pid:
                bot = BotMemory(pid)
                # Warm up (imports, jieba's dictionary, connection pools), noting what each lazy load adds to the
                # bot's memory: the first reply, jieba's dictionary (a resident's plain words), matplotlib (the
                # /stats chart).
                memory = {"ready": bot.rss_mb()}
                await timed_reply(sim, volunteer, lambda: volunteer.send_command("/tasks"))
                memory["first reply"] = bot.rss_mb()
                newcomer = sim.person("新居民", user_id=FIRST_RESIDENT + 900_000)
                await timed_reply(sim, newcomer, lambda: newcomer.send_text("家里水管坏了，想请人帮忙修一下"))
                memory["jieba"] = bot.rss_mb()
                warm = admins[-1]
                await timed_reply(sim, warm, lambda: warm.send_command("/stats", "7d"))
                memory["matplotlib"] = bot.rss_mb()
                figures["memory"] = memory
                for command in (("/hot", "7"), ("/stats", "7d"), ("/pending",), ("/top",), ("/export", "tips")):
                    await timed_reply(sim, warm, functools.partial(warm.send_command, *command))
                samples: dict[str, list[float]] = {}
                lasts: dict[str, list[float]] = {}

                async def measure(
                    name: str, people: list[Person], command: str, *args: str, times: int = REPEAT
                ) -> None:
                    LAST.clear()
                    samples[name] = [
                        await timed_reply(sim, person, functools.partial(person.send_command, command, *args))
                        for person in (people[turn % len(people)] for turn in range(times))
                    ]
                    lasts[name] = list(LAST)

                await measure("tasks", others, "/tasks")
                await timed_reply(sim, volunteer, lambda: volunteer.send_command("/tasks"))
                next_page: list[float] = []
                await timed_reply(sim, volunteer, functools.partial(volunteer.press, "显示全部"))
                for _ in range(REPEAT):
                    shown = volunteer.chat.bot_messages[-1]
                    label = "下一页 ▶" if shown.find_inline_button("下一页 ▶") is not None else "◀ 上一页"
                    next_page.append(await timed_reply(sim, volunteer, functools.partial(volunteer.press, label)))
                samples["next_page"] = next_page
                await measure("pending", admins, "/pending", times=5)
                await measure("mywishes", residents, "/mywishes", times=5)
                await measure("top", others, "/top", times=10)
                await measure("stats_all", admins, "/stats", "all", times=5)
                # /hot computes its topics once a minute while no text arrives (`actions.hot.period_topics`): the
                # first /hot 90 and /hot 89…80 are computed (none is in that cache), the /hot 90 after them is not.
                await measure("hot90_computed", admins, "/hot", "90", times=1)
                computed = samples["hot90_computed"]
                for days in range(89, 79, -1):
                    computed += [
                        await timed_reply(
                            sim,
                            admins[days % TURNS],
                            functools.partial(admins[days % TURNS].send_command, "/hot", str(days)),
                        )
                    ]
                await measure("hot90", admins, "/hot", "90", times=5)

                during: list[float] = []
                for turn in range(5):
                    asker, other = admins[turn % TURNS], others[turn % TURNS]
                    await sim.settle(quiet=0.05, timeout=300)
                    hot_command = functools.partial(asker.send_command, "/hot", "90")
                    hot = asyncio.create_task(timed_reply(sim, asker, hot_command, alone=False))
                    await asyncio.sleep(0.02)
                    tasks_command = functools.partial(other.send_command, "/tasks")
                    during.append(await timed_reply(sim, other, tasks_command, alone=False))
                    await hot
                samples["tasks_during_hot"] = during

                # A year of each export: wishes three times (its time is a reply row), the others once; the peak
                # growth of the bot's memory while each is built.
                growths: dict[str, float] = {}
                files: dict[str, str] = {}
                export_times: list[float] = []
                tz = settings.tz
                first = (now - dt.timedelta(days=364)).astimezone(tz).date().isoformat()
                last = now.astimezone(tz).date().isoformat()
                for turn, kind in enumerate(("wishes", "wishes", "wishes", "tips", "hours", "cases")):
                    exporter = admins[turn % TURNS]
                    async with bot.peak_growth() as growth:
                        took = await timed_reply(
                            sim,
                            exporter,
                            functools.partial(exporter.send_command, "/export", kind, first, last),
                            timeout=600,
                        )
                    if kind == "wishes":
                        export_times.append(took)
                    growths[kind] = max(growths.get(kind, 0.0), growth[0])
                    documents = [m for m in exporter.chat.bot_messages if m.document_name]
                    files[kind] = (
                        f"{documents[-1].document_name} {len(documents[-1].document_bytes or b'') / 1e6:.1f} MB "
                        f"in {took:.1f} s"
                        if documents
                        else repr(exporter.chat.bot_messages[-1].text)
                    )
                samples["export_year"] = export_times
                figures["export_growth_mb"] = growths
                figures["export_peak_growth_mb"] = max(growths.values())
                figures["export_files"] = files
                figures["rss_mb"] = bot.rss_mb()
                figures["peak_rss_mb"] = bot.peak_rss_mb()

                async with build_application(settings, db) as application:
                    await sweep.run_once(application)  # segments nothing new, runs ANALYZE once
                    sweeps, steps = [], []
                    for _ in range(5):
                        started = time.perf_counter()
                        await sweep.run_once(application)
                        sweeps.append(time.perf_counter() - started)
                        steps.append(dict(sweep.TIMINGS))
                    figures["sweep_ms"] = 1000 * statistics.median(sweeps)
                    figures["sweep_steps"] = {
                        name: 1000 * statistics.median(run.get(name, 0.0) for run in steps) for name in steps[0]
                    }

                    # The newest open wish: first on the measured volunteer's /tasks (nearest), and every
                    # matching open wish is within the pages the list offers.
                    await timed_reply(sim, volunteer, lambda: volunteer.send_command("/tasks"))
                    page_text = volunteer.chat.bot_messages[-1].text or ""
                    async with db.read() as conn:
                        profile_skills = (
                            (
                                await conn.execute(
                                    select(volunteer_skills.c.category).where(
                                        volunteer_skills.c.user_id == FIRST_VOLUNTEER
                                    )
                                )
                            )
                            .scalars()
                            .all()
                        )
                        matching = (
                            await conn.execute(
                                select(func.count())
                                .select_from(wishes)
                                .where(wishes.c.status == "open", wishes.c.category.in_(list(profile_skills)))
                            )
                        ).scalar_one()
                    env = application.bot_data.env
                    page = await task_actions.open_tasks(env, FIRST_VOLUNTEER, 0, show_all=False)
                    # Counted exactly (the pages cover every match), or past the count with a next page to go on to.
                    covered = page.pages * 5 >= matching if page.counted_all else page.has_next
                    figures["newest_reachable"] = built["newest_ref"] in page_text and covered
                    figures["matching_open"] = matching
            # The sweep inside the digest window (the volunteers' weekly digest, the coordinators' and editors' daily
            # ones all due an hour ago), with the bot stopped so its sender does not deliver what is written: the
            # first sweep writes every reader's digest; the ones after it must cost what a sweep costs outside.
            if window:
                figures.update(await _sweep_in_digest_window(settings, db))
            figures["samples"] = samples
            figures["lasts"] = lasts
    await sim.stop()
    return figures


async def _sweep_in_digest_window(settings: Any, db: Database) -> dict[str, Any]:
    """The sweep an hour into every digest's window. The clock stays with the district (moving it to a Monday
    morning days ahead would make its claims lapse and its wishes expire all at once: days of the sweep's work in
    one); instead each digest's time is put an hour before now, the volunteers' weekly one on this day of the week
    (`scheduler.digests.MONDAY`, restored afterwards)."""
    clock = ManualClock(dt.datetime.now(dt.UTC))
    hour_ago = (clock.now() - dt.timedelta(hours=1)).astimezone(settings.tz)
    at = hour_ago.time().replace(microsecond=0)
    in_window = settings.model_copy(
        update={"coordinator_digest_time": at, "editor_digest_time": at, "volunteer_digest_time": at}
    )
    weekday = scheduled_digests.MONDAY
    scheduled_digests.MONDAY = hour_ago.weekday()
    try:
        return await _sweeps_in(in_window, db, clock)
    finally:
        scheduled_digests.MONDAY = weekday


async def _sweeps_in(settings: Any, db: Database, clock: ManualClock) -> dict[str, Any]:
    async with build_application(settings, db, clock=clock) as application:
        started = time.perf_counter()
        await sweep.run_once(application)
        first = time.perf_counter() - started
        first_steps = dict(sweep.TIMINGS)
        async with db.read() as conn:
            written = (
                await conn.execute(select(func.count()).select_from(outbox).where(outbox.c.dedupe_key.like("digest:%")))
            ).scalar_one()
        sweeps, steps = [], []
        for _ in range(5):
            clock.advance(dt.timedelta(minutes=1))
            started = time.perf_counter()
            await sweep.run_once(application)
            sweeps.append(time.perf_counter() - started)
            steps.append(dict(sweep.TIMINGS))
    return {
        "window_first_s": first,
        "window_first_steps": first_steps,
        "window_digests": written,
        "sweep_window_ms": 1000 * statistics.median(sweeps),
        "sweep_window_steps": {
            name: 1000 * statistics.median(run.get(name, 0.0) for run in steps) for name in steps[0]
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--wishes", type=int, default=10_000, help="wishes in the district (default 10000)")
    parser.add_argument("--database-url", help="PostgreSQL URL (a private schema is used); default: SQLite")
    parser.add_argument(
        "--no-digest-window",
        action="store_true",
        help="skip the sweep in a digest window (its first sweep writes every volunteer's weekly digest)",
    )
    args = parser.parse_args(argv)
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"scale benchmark: {args.wishes} wishes on {backend}")
    f = asyncio.run(run(args.wishes, args.database_url, window=not args.no_digest_window))
    print(f"built in {f['build_s']:.1f} s; matching open wishes of the measured volunteer: {f['matching_open']}")
    print("| reply | p50 ms | p95 ms | last message p95 ms | n |")
    print("|---|---|---|---|---|")
    for name, values in f["samples"].items():
        last = f"{1000 * pct(f['lasts'][name], 0.95):.0f}" if name in f["lasts"] else "—"
        first = f"{1000 * statistics.median(values):.0f} | {1000 * pct(values, 0.95):.0f}"
        print(f"| {name} | {first} | {last} | {len(values)} |")
    for kind, growth in f["export_growth_mb"].items():
        print(f"export {kind}: {f['export_files'][kind]}; peak RSS growth {growth:.1f} MB")
    print(
        "bot RSS, MB: "
        + ", ".join(f"{stage} {mb:.0f}" for stage, mb in f["memory"].items())
        + f", at the end {f['rss_mb']:.0f}, peak {f['peak_rss_mb']:.0f}"
    )
    print(f"sweep (nothing due): {f['sweep_ms']:.1f} ms; RSS {f['rss_mb']:.0f} MB")
    print("sweep steps, median ms: " + ", ".join(f"{name} {ms:.1f}" for name, ms in f["sweep_steps"].items()))
    window = "sweep_window_ms" in f
    if window:
        print(
            f"sweep in the digest window (every digest due an hour ago): the first wrote {f['window_digests']} "
            f"digest rows in {f['window_first_s']:.1f} s; the next ones {f['sweep_window_ms']:.1f} ms"
        )
        firsts = f["window_first_steps"].items()
        print("the first sweep in the window, s: " + ", ".join(f"{n} {sec:.1f}" for n, sec in firsts if sec >= 0.05))
        steps = f["sweep_window_steps"].items()
        print("sweep steps in the window, median ms: " + ", ".join(f"{n} {ms:.1f}" for n, ms in steps))
    s = {name: 1000 * pct(values, 0.95) for name, values in f["samples"].items()}
    m = {name: 1000 * statistics.median(values) for name, values in f["samples"].items()}
    print(
        f"scale {args.wishes}: tasks p95 {s['tasks']:.0f} ms, tasks during hot p95 {s['tasks_during_hot']:.0f} ms, "
        f"hot90 {m['hot90']:.0f} ms (computed: first {1000 * f['samples']['hot90_computed'][0]:.0f} ms, p50 "
        f"{m['hot90_computed']:.0f} ms), stats_all {m['stats_all']:.0f} ms, "
        f"export_peak_growth {f['export_peak_growth_mb']:.0f} MB, sweep {f['sweep_ms']:.0f} ms, "
        + (f"sweep in digest window {f['sweep_window_ms']:.0f} ms, " if window else "")
        + f"rss {f['rss_mb']:.0f} MB, peak rss {f['peak_rss_mb']:.0f} MB, "
        f"newest reachable {'yes' if f['newest_reachable'] else 'no'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
