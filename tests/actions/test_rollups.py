"""Daily roll-ups (migration 0016): /stats and /hot figures summed from the per-day tables equal the figures
counted from the rows themselves — for periods that start mid-day, with today's rows, after wishes and tips
change status days after they were submitted, and after a person is erased (their words leave the roll-ups;
SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from actions import hot
from actions.env import Env
from core.clock import ManualClock
from core.settings import load_settings
from rules import stats
from rules.hot import hot_report
from rules.roles import Role
from rules.wishes import Actor
from storage import activities, privacy, rollups, users
from storage import hot as hot_storage
from storage import stats as stats_storage
from storage import tips as tip_store
from storage import wishes as store
from storage.db import Database
from storage.migrate import upgrade
from storage.schema import (
    term_days,
    term_weeks,
    text_term_sets,
    text_terms,
    tip_days,
    tips,
    wish_area_days,
    wish_category_days,
    wish_claim_minutes,
    wish_confirmed_days,
    wish_done_minutes,
    wish_status_days,
    wishes,
)
from tests.conftest import BACKENDS, _fresh_database

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
STAFF = Actor(1, frozenset({Role.COORDINATOR}))
VOLUNTEER = 4
TEXTS = (
    "小区停水三天了，老人提水上楼很困难",
    "停水以后楼道里没有热水，老人洗澡不方便",
    "东城社区停水，居民排队接水",
    "路灯坏了，晚上出门很不安全",
    "想请志愿者辅导孩子作业",
)
ONLY_PERSON_2 = "独居老人想找人陪伴聊天"
CATEGORIES = ("elderly_disabled", "other", "tutoring")
AREAS = ("东城社区", None, "西城社区")
PERIODS = (
    None,
    NOW - dt.timedelta(days=30),
    NOW - dt.timedelta(days=7),
    NOW - dt.timedelta(days=2, hours=5, minutes=17),
    NOW - dt.timedelta(days=1),
    NOW - dt.timedelta(hours=1),
    NOW.replace(hour=0),
)


async def given_district(db: Database) -> None:
    """Wishes and tips over ten days up to now; some claimed, done and confirmed days later."""
    async with db.write() as conn:
        for user_id in (1, 2, 3, VOLUNTEER):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"P{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW - dt.timedelta(days=30),
            )
        for n in range(36):
            created = NOW - dt.timedelta(hours=7 * (35 - n), minutes=3)
            wish = await store.insert_wish(
                conn,
                resident_id=2 + n % 2,
                category=CATEGORIES[n % 3],
                description=ONLY_PERSON_2 if n % 6 == 0 else TEXTS[n % len(TEXTS)],
                area=AREAS[n % len(AREAS)],
                address=None,
                location=None,
                photo_file_id=None,
                phone=None,
                status="open",
                now=created,
            )
            if n % 4 == 0:
                continue
            # Claimed a day and a half later (another day), done and confirmed later still; the newest stay open.
            claimed = created + dt.timedelta(hours=36)
            if claimed > NOW:
                continue
            await store.move_wish(
                conn,
                wish.id,
                "open",
                "claimed",
                actor_id=VOLUNTEER,
                now=claimed,
                changes={"claimed_by": VOLUNTEER, "claimed_at": claimed},
            )
            done = claimed + dt.timedelta(hours=5 + n % 7)
            if n % 4 == 1 or done > NOW:
                continue
            await store.move_wish(
                conn,
                wish.id,
                "claimed",
                "done",
                actor_id=VOLUNTEER,
                now=done,
                changes={"done_at": done, "hours": (0.5, 1.0, 2.5)[n % 3]},
            )
            confirmed = done + dt.timedelta(hours=20)
            if n % 4 == 2 or confirmed > NOW:
                continue
            await store.move_wish(
                conn,
                wish.id,
                "done",
                "confirmed",
                actor_id=2 + n % 2,
                now=confirmed,
                changes={"confirmed_at": confirmed},
            )
        for n in range(12):
            created = NOW - dt.timedelta(hours=19 * n, minutes=11)
            tip = await tip_store.insert_tip(
                conn,
                reporter_id=2 + n % 2,
                by_reporter=True,
                status="new",
                category="livelihood",
                description=TEXTS[(n + 1) % len(TEXTS)],
                location=None,
                media=[],
                now=created,
            )
            if n % 3:
                await tip_store.move_tip(conn, tip.id, "new", "accepted", actor_id=1, now=NOW - dt.timedelta(minutes=n))


async def from_rows(db: Database, since: dt.datetime | None) -> stats.Figures:
    """/stats' figures counted from every row, in Python."""
    async with db.read() as conn:
        rows = (await conn.execute(select(wishes))).all()
        tip_rows = (await conn.execute(select(tips.c.status, tips.c.created_at))).all()
        spans = await stats_storage.wish_spans(conn, since)

    def counted(values: list[str]) -> dict[str, int]:
        return dict(Counter(values))

    submitted = [row for row in rows if since is None or row.created_at >= since]
    confirmed = [row for row in rows if row.confirmed_at is not None and (since is None or row.confirmed_at >= since)]
    return stats.Figures(
        period="p",
        wishes_by_status=counted([row.status for row in submitted]),
        wishes_by_category=counted([row.category for row in submitted]),
        wishes_by_area=counted([row.area or "" for row in submitted]),
        median_hours_to_claim=stats.median_hours((start, claimed) for start, claimed, _done in spans),
        median_hours_to_done=stats.median_hours((start, done) for start, _claimed, done in spans),
        volunteer_hours=round(sum(row.hours or 0.0 for row in confirmed), 1),
        volunteer_tasks=len(confirmed),
        tips_by_status=counted([row.status for row in tip_rows if since is None or row.created_at >= since]),
    )


async def hours_confirmed(conn: AsyncConnection, since: dt.datetime | None, until: dt.datetime) -> float:
    rows = (await conn.execute(select(wishes.c.hours, wishes.c.confirmed_at))).all()
    return sum(
        row.hours or 0.0
        for row in rows
        if row.confirmed_at is not None and (since is None or row.confirmed_at >= since) and row.confirmed_at < until
    )


async def rolled_up_equals_rows(db: Database) -> None:
    """Every roll-up table holds exactly the per-day counts of the rows, and no row with a zero count."""
    async with db.read() as conn:
        wish_rows = (await conn.execute(select(wishes))).all()
        tip_rows = (await conn.execute(select(tips.c.status, tips.c.created_at))).all()
        term_rows = (await conn.execute(select(text_terms.c.term, text_terms.c.at))).all()
        tables = {}
        for table in (wish_status_days, wish_category_days, wish_area_days, tip_days, term_days, term_weeks):
            tables[table.name] = {(r[0], r[1]): r[2] for r in await conn.execute(select(table))}
        confirmed_days = {r.day: (r.n, round(r.hours, 6)) for r in await conn.execute(select(wish_confirmed_days))}

    day = rollups.day_of
    assert tables["wish_status_days"] == Counter((day(r.created_at), r.status) for r in wish_rows)
    assert tables["wish_category_days"] == Counter((day(r.created_at), r.category) for r in wish_rows)
    assert tables["wish_area_days"] == Counter((day(r.created_at), r.area or "") for r in wish_rows)
    assert tables["tip_days"] == Counter((day(r.created_at), r.status) for r in tip_rows)
    assert tables["term_days"] == Counter((day(r.at), r.term) for r in term_rows)
    assert tables["term_weeks"] == Counter((rollups.week_of(r.at), r.term) for r in term_rows)
    # Each text's terms in one row, with its time and its wish's area (migration 0036).
    async with db.read() as conn:
        pairs = (await conn.execute(select(text_terms))).all()
        sets = (await conn.execute(select(text_term_sets))).all()
    areas = {r.id: r.area for r in wish_rows}
    expected_sets: dict[tuple[str, int], tuple[dt.datetime, set[str], str | None]] = {}
    for r in pairs:
        _at, held, _area = expected_sets.setdefault(
            (r.source, r.source_id), (r.at, set(), areas[r.source_id] if r.source == "w" else None)
        )
        held.update({r.term} - {hot_storage.SEGMENTED})
    assert {
        (r.source, r.source_id): (r.at, set(r.terms.split(hot_storage.TERM_SEPARATOR)) - {""}, r.area) for r in sets
    } == expected_sets
    assert all(r.terms == "" or "" not in r.terms.split(hot_storage.TERM_SEPARATOR) for r in sets)
    expected: dict[str, tuple[int, float]] = {}
    for r in wish_rows:
        if r.confirmed_at is not None:
            n, hours = expected.get(day(r.confirmed_at), (0, 0.0))
            expected[day(r.confirmed_at)] = (n + 1, round(hours + (r.hours or 0.0), 6))
    assert confirmed_days == expected
    # Waiting times: as many as the wishes that got there (each in the minute the database computes).
    async with db.read() as conn:
        for table, column in ((wish_claim_minutes, "claimed_at"), (wish_done_minutes, "done_at")):
            waited = [r for r in wish_rows if (end := r._mapping[column]) is not None and end >= r.created_at]
            assert (await conn.execute(select(func.sum(table.c.n)))).scalar_one() == (len(waited) or None)
            assert (await conn.execute(select(func.min(table.c.n)))).scalar_one() != 0


async def figures_match(db: Database, env: Env) -> None:
    await rolled_up_equals_rows(db)
    for since in PERIODS:
        async with db.read() as conn:
            summed = await stats.figures(conn, "p", since)
        from_the_rows = await from_rows(db, since)
        assert summed == from_the_rows, since
        # /stats' self-reported hours (confirmed in [since, now)) come from the same roll-up.
        async with db.read() as conn:
            reported = await activities.self_reported_hours(conn, since, NOW - dt.timedelta(hours=3))
            assert round(reported, 6) == round(await hours_confirmed(conn, since, NOW - dt.timedelta(hours=3)), 6)
    async with db.read() as conn:
        all_texts = await hot_storage.texts_since(conn, NOW - dt.timedelta(days=60))
    for days in (1, 3, 7, 30):
        assert await hot.report(env, STAFF, days) == hot_report(all_texts, now=NOW, days=days), days
    async with db.read() as conn:
        terms = (await conn.execute(select(text_terms.c.term, text_terms.c.at))).all()
        periods = (
            (NOW - dt.timedelta(days=3, hours=5), NOW),
            (NOW.replace(hour=0), NOW),
            (None, None),
            # Whole weeks, the days around them, and partial days counted from the rest of their day.
            (NOW - dt.timedelta(days=45, hours=7), NOW - dt.timedelta(days=2, hours=20)),
            (NOW - dt.timedelta(days=29, hours=23), NOW - dt.timedelta(hours=1)),
            (NOW - dt.timedelta(hours=10), NOW - dt.timedelta(hours=1)),
        )
        for since, until in periods:
            start = since or NOW - dt.timedelta(days=60)
            end = until or NOW + dt.timedelta(days=1)
            expected = Counter(term for term, at in terms if start <= at < end)
            texts = expected.pop(hot_storage.SEGMENTED, 0)
            # `now` only chooses which rows are read: texts written after it (here, some) still count exactly.
            for now in (None, end, NOW - dt.timedelta(hours=2)):
                counts, count = await hot_storage.term_counts(conn, start, end, now=now)
                assert (count, counts) == (texts, expected), (start, end, now)


@pytest.fixture(params=BACKENDS)
async def db_at_0015(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database migrated only to 0015 (before the roll-ups), on each backend."""
    async for database in _fresh_database(request.param, tmp_path, "0015"):
        yield database


async def test_the_migration_rolls_up_existing_rows(db_at_0015: Database) -> None:
    db = db_at_0015
    env = Env(db=db, clock=ManualClock(NOW), settings=load_settings(bot_token="1:abc", _env_file=None))
    await given_district(db)
    await hot.segment_backlog(env, NOW + dt.timedelta(minutes=2), since=NOW - dt.timedelta(days=180), limit=1000)
    await upgrade(db)
    await figures_match(db, env)


async def test_rollups_give_the_figures_of_the_rows(db: Database) -> None:
    env = Env(db=db, clock=ManualClock(NOW), settings=load_settings(bot_token="1:abc", _env_file=None))
    await given_district(db)
    await hot.segment_backlog(env, NOW + dt.timedelta(minutes=2), since=NOW - dt.timedelta(days=180), limit=1000)
    await figures_match(db, env)
    async with db.read() as conn:
        before = await stats.figures(conn, "all", None)
        assert "陪伴" in set((await conn.execute(select(term_days.c.term))).scalars())
    assert before.wishes == 36
    assert before.wishes_by_status["confirmed"] > 0
    assert before.volunteer_tasks > 0

    # Person 2 is erased: their texts' words leave the roll-ups (the text only they wrote is in no day any
    # more); the counts of their wishes and tips stay, and every figure still equals the rows'.
    async with db.write() as conn:
        await privacy.erase_person(conn, 2, now=NOW)
    await figures_match(db, env)
    async with db.read() as conn:
        words = set((await conn.execute(select(term_days.c.term))).scalars())
        after = await stats.figures(conn, "all", None)
    assert "陪伴" not in words
    assert "停水" in words
    assert after.wishes == before.wishes
    assert after.tips == before.tips
