"""Hot topics counted incrementally: the sweep stores each text's terms once (segmented in a worker thread),
/hot sums them with a query plus whatever is not stored yet, and the figures equal counting every text afresh;
an erased person's terms go with their texts (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from actions import hot
from actions import privacy as privacy_actions
from actions.env import Env
from core.clock import ManualClock
from core.settings import load_settings
from rules.hot import area_of, hot_report
from rules.roles import Role
from rules.wishes import Actor
from storage import hot as hot_storage
from storage import privacy, users
from storage import tips as tip_store
from storage import wishes as store
from storage.db import Database
from storage.schema import text_terms

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
STAFF = Actor(1, frozenset({Role.COORDINATOR}))
TEXTS = (
    "小区停水三天了，老人提水上楼很困难",
    "停水以后楼道里没有热水，老人洗澡不方便",
    "东城社区停水，居民排队接水",
    "路灯坏了，晚上出门很不安全",
    "想请志愿者辅导孩子作业",
)


async def given_texts(db: Database) -> None:
    async with db.write() as conn:
        for user_id in (1, 2, 3):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"P{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )
        for n in range(30):
            await store.insert_wish(
                conn,
                resident_id=2 + n % 2,
                category="other",
                description=TEXTS[n % len(TEXTS)],
                area=None,
                address=None,
                location=None,
                photo_file_id=None,
                phone=None,
                status="open",
                # Ten days of texts, the last ones written just now.
                now=NOW - dt.timedelta(hours=8 * (29 - n), seconds=30),
            )


async def all_texts(db: Database) -> list[tuple[dt.datetime, str]]:
    async with db.read() as conn:
        return await hot_storage.texts_since(conn, NOW - dt.timedelta(days=30))


async def test_stored_terms_count_as_counting_every_text_afresh(db: Database) -> None:
    env = Env(db=db, clock=ManualClock(NOW), settings=load_settings(bot_token="1:abc", _env_file=None))
    await given_texts(db)
    fresh = hot_report(await all_texts(db), now=NOW, days=3)
    # Nothing stored yet: /hot counts every text on the fly.
    assert await hot.report(env, STAFF, 3) == fresh

    stored = await hot.segment_backlog(env, NOW, since=NOW - dt.timedelta(days=180), limit=10)
    assert stored == 10
    stored += await hot.segment_backlog(env, NOW, since=NOW - dt.timedelta(days=180), limit=1000)
    # The texts younger than a minute wait for the next sweep (their transaction could still be open).
    assert stored == 29
    async with db.read() as conn:
        marks = await hot_storage.watermarks(conn)
        segmented = (
            await conn.execute(select(func.count()).select_from(text_terms).where(text_terms.c.term == ""))
        ).scalar_one()
    assert segmented == 29
    assert marks[hot_storage.WISH] == 29
    # Partly stored, partly on the fly: the same figures.
    assert await hot.report(env, STAFF, 3) == fresh
    assert (
        await hot.segment_backlog(env, NOW + dt.timedelta(minutes=2), since=NOW - dt.timedelta(days=180), limit=9) == 1
    )
    assert await hot.report(env, STAFF, 3) == fresh
    assert (
        await hot.segment_backlog(env, NOW + dt.timedelta(minutes=3), since=NOW - dt.timedelta(days=180), limit=9) == 0
    )

    # An erased person's texts and their terms are gone; the figures still match counting afresh.
    async with db.write() as conn:
        await privacy.erase_person(conn, 2, now=NOW)
    async with db.read() as conn:
        left = (
            await conn.execute(select(func.count()).select_from(text_terms).where(text_terms.c.term == ""))
        ).scalar_one()
    assert left == 15
    assert await hot.report(env, STAFF, 3) == hot_report(await all_texts(db), now=NOW, days=3)


async def test_topics_asked_again_in_the_minute_come_from_the_last_computation_until_a_text_changes(
    db: Database,
) -> None:
    """The screen asks every 3 seconds: the same question in the same minute with no new text is answered from the
    last computation; a new wish, or an erasure, is never missed."""
    env = Env(db=db, clock=ManualClock(NOW), settings=load_settings(bot_token="1:abc", _env_file=None))
    await given_texts(db)
    first = await hot.topics(env, NOW, days=3)
    assert await hot.topics(env, NOW + dt.timedelta(seconds=20), days=3) is first

    def quoted(found: list[hot.Topic]) -> set[str]:
        return {example for topic in found for example in topic.examples}

    async with db.write() as conn:
        await store.insert_wish(
            conn,
            resident_id=2,
            category="other",
            description="又停水了，整栋楼都没水",
            area=None,
            address=None,
            location=None,
            photo_file_id=None,
            phone=None,
            status="open",
            now=NOW,
        )
    again = await hot.topics(env, NOW + dt.timedelta(seconds=30), days=3)
    assert "又停水了，整栋楼都没水" not in quoted(first)
    assert "又停水了，整栋楼都没水" in quoted(again)  # the new wish, within the same minute

    await privacy_actions.erase(env, 2)
    after = await hot.topics(env, NOW + dt.timedelta(seconds=40), days=3)
    assert "又停水了，整栋楼都没水" not in quoted(after)  # erased: quoted nowhere, not even from the cache


async def test_a_topic_counts_each_of_its_messages_once(db: Database) -> None:
    """An outage told as "停水" and as "没水" is one topic; its count is every message of the period holding
    either word, each once (stored or not yet segmented), not the count of one of the words."""
    env = Env(db=db, clock=ManualClock(NOW), settings=load_settings(bot_token="1:abc", _env_file=None))
    written = [("想请志愿者辅导孩子作业", dt.timedelta(days=4 + n % 8)) for n in range(20)]
    written += [("上个月停水过", dt.timedelta(days=5)), ("上个月停水过", dt.timedelta(days=9))]
    now_texts = ["停水了，家里也没水"] * 5 + ["又停水了"] * 3 + ["家里没水了"] * 2
    # The last four are written just now: the sweep has not stored their terms yet.
    written += [
        (text, dt.timedelta(hours=20 - n) if n < 6 else dt.timedelta(seconds=30)) for n, text in enumerate(now_texts)
    ]
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=2, first_name="P2", last_name=None, username=None, language="zh-CN", now=NOW
        )
        for text, ago in written:
            await store.insert_wish(
                conn,
                resident_id=2,
                category="other",
                description=text,
                area="南湖社区",
                address=None,
                location=None,
                photo_file_id=None,
                phone=None,
                status="open",
                now=NOW - ago,
            )
    stored = await hot.segment_backlog(env, NOW, since=NOW - dt.timedelta(days=30), limit=100)
    assert stored == len(written) - 4

    [outage] = [topic for topic in await hot.topics(env, NOW, days=3) if "停水" in topic.terms]
    assert set(outage.terms) == {"停水", "没水"}
    assert outage.rising
    assert outage.count == 10  # 5 with both words, 3 with 停水 only, 2 with 没水 only
    assert outage.areas == ("南湖社区",)


async def test_the_grouping_reads_the_newest_pairs_of_the_asked_terms(db: Database) -> None:
    """The grouping's sample is the newest `limit` (text, term) pairs of the asked terms, by time, then term,
    source and id, the greatest first (texts written at the same moment share out the last pairs by term): the
    per-text rows of migration 0036 give exactly what the pairs themselves give, with a wish's area, else the
    text (a tip, a wish without an area) to find a place in."""
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=2, first_name="P2", last_name=None, username=None, language="zh-CN", now=NOW
        )
        written: list[tuple[hot_storage.PendingText, set[str]]] = []
        for n in range(24):
            at = NOW - dt.timedelta(hours=n // 3)  # three texts at each moment
            terms = {("停水", "没水", "老人", "路灯")[k] for k in range(4) if (n >> k) % 2 == (n % 3 == 0)}
            area = "南湖社区" if n % 4 == 1 else None
            text = f"{'东城社区' if n % 5 == 0 else ''}{'、'.join(sorted(terms))}{n}"
            if n % 6 == 5:
                tip = await tip_store.insert_tip(
                    conn,
                    reporter_id=2,
                    by_reporter=True,
                    status="new",
                    category="livelihood",
                    description=text,
                    location=None,
                    media=[],
                    now=at,
                )
                written.append((hot_storage.PendingText(hot_storage.TIP, tip.id, at, text), terms | {"其他"}))
            else:
                wish = await store.insert_wish(
                    conn,
                    resident_id=2,
                    category="other",
                    description=text,
                    area=area,
                    address=None,
                    location=None,
                    photo_file_id=None,
                    phone=None,
                    status="open",
                    now=at,
                )
                written.append((hot_storage.PendingText(hot_storage.WISH, wish.id, at, text, area), terms | {"其他"}))
        assert await hot_storage.store_terms(conn, written) == 24
    texts = {(text.source, text.source_id): text for text, _terms in written}
    places = ("西城社区", "东城社区", "南湖社区")
    asked = {"停水", "没水", "老人", "路灯"}
    since, until = NOW - dt.timedelta(hours=6, minutes=30), NOW + dt.timedelta(seconds=1)
    async with db.read() as conn:
        pairs = (await conn.execute(select(text_terms))).all()
        newest = sorted(
            ((r.at, r.term, r.source, r.source_id) for r in pairs if r.term in asked and since <= r.at < until),
            reverse=True,
        )
        for limit in (1, 2, 3, 4, 7, 10, 13, 20, 1000):
            expected: dict[hot_storage.TextKey, set[str]] = {}
            for _at, term, source, source_id in newest[:limit]:
                expected.setdefault((source, source_id), set()).add(term)
            order = sorted(expected, key=lambda key: (-texts[key].at.timestamp(), key[0], -key[1]))
            # Read a page of texts at a time, however small.
            for page in (None, 1, 2, 5):
                found = await hot_storage.texts_holding(conn, since, until, asked, limit=limit, page=page)
                assert list(found) == order, (limit, page)
                for key, held in found.items():
                    assert held.terms == expected[key], (limit, page, key)
                    assert held.area == texts[key].area, (limit, page, key)
        # A tip's or an unplaced wish's place: the first of the places its text names.
        named = await hot_storage.places_named(conn, list(texts), places)
        assert named == {key: place for key, text in texts.items() if (place := area_of(text.text, places))}
        assert set(named.values()) == {"东城社区"}
        assert {key[0] for key in named} == {hot_storage.WISH, hot_storage.TIP}
    assert sum(len(held) for held in expected.values()) == len(newest) > 13
