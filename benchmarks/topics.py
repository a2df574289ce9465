"""Topics benchmark: does /hot find what is rising in a month of ordinary messages, and how fast at 100k?

    python -m benchmarks.topics [--messages 100000] [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Writes a month of realistic background messages (35 days: the week /hot shows and the 28 days of its baseline;
nine wishes to a tip) composed from the words residents use: spoken filler (我家, 一次, 现在, 方便…), the
centres' and places' names (新时代文明实践站, 文明实践活动, 南湖社区…; "社区" only ever inside a name), volunteers
and the usual needs, some with a phone number or a name. Then, in the last two days, one topic rises: the water
goes off in 南湖社区 (停水 is also a rare background word, so it rises against a baseline of its own). Every
text is segmented and its terms stored as the sweep stores them (the roll-ups follow by trigger), then
`actions.hot.topics` runs as /hot does. Prints the top ten, checks that the outage ranks first, in 南湖社区,
that no stopword and no fragment of a name is among the top ten's terms (nor counted anywhere in the month),
and prints the time taken and the CPU a computation costs against the word counts /hot showed before topics
(`actions.hot.period_report`, the same data and load); the last line is the one-line summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from actions import hot
from actions.env import Env
from benchmarks.scale import CHUNK, database, insert_rows
from core.clock import ManualClock
from core.settings import DEFAULT_AREAS, load_settings
from rules.hot import segment_all, stopwords
from storage import hot as hot_storage
from storage.db import Database
from storage.schema import text_terms, tips, users, wishes

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
DAYS = 35
RISE_DAYS = 2
# Of all messages, this share is the outage of the last two days (150 of 100k), and this share the rare
# background mention of 停水 elsewhere.
OUTAGE_SHARE = 0.0015
BACKGROUND_OUTAGE_SHARE = 0.0004
RESIDENTS = 2000
FIRST_RESIDENT = 7_000_001
# Pieces of the centres' and places' names, never a term of their own.
FRAGMENTS = frozenset(
    {"时代", "新时代", "文明", "实践", "中心", "社区", "南湖", "东城", "西城", "北山", "城关", "河口", "青山", "柳林"}
)

OPENERS = ("", "", "我家", "我家老人", "现在", "大家好，", "这个时候", "您好，", "今天", "还是想问一下，")
SUBJECTS = (
    "{area}新时代文明实践站的志愿者",
    "{area}的志愿者",
    "新时代文明实践中心组织的文明实践活动",
    "{area}文明实践活动",
    "志愿者",
    "{area}",
    "{area}居委会",
)
NEEDS = (
    "能不能上门帮老人量一次血压",
    "想预约下周的义诊，方便的话请回个电话{phone}",
    "路灯坏了好几天，晚上出门不方便",
    "楼道里堆满杂物，担心发生火灾，希望有人来清理",
    "孩子放学后没人照看，想请志愿者辅导作业",
    "想了解新农合医保报销政策，不会在手机上办理",
    "独居老人需要陪同去卫生院复查，子女在外地",
    "家里的橘子熟了，人手不够，想请志愿者帮忙采摘",
    "想学习智能手机使用，希望有人教一下",
    "垃圾分类宣传做得很好，大家都很满意",
    "下水道堵塞，气味很大，{name}说反映过一次了",
    "组织的理发服务很受欢迎，{name}也去了",
    "电梯经常故障，老人上下楼不方便",
    "公交站台的遮雨棚坏了，下雨天等车很不方便",
    "冬天取暖费用太高，家庭困难希望得到补助",
    "广场舞噪音太大，晚上影响休息",
)
BACKGROUND_OUTAGES = ("{area}昨天停水了半天，现在已经来水了", "{area}计划停水检修，想问一下是几点")
OUTAGE = (
    "南湖社区停水两天了，{name}家里没水做饭，电话{phone}",
    "南湖社区又停水了，老人提水上楼很困难",
    "停水到现在还没来水，南湖社区三栋楼都没水",
    "我家小区停水，南湖社区的老人洗澡都成问题",
    "南湖社区停水，自来水公司的电话打不通",
    "南湖社区停水第二天，超市的桶装水都卖完了",
)
# Computations timed in CPU (topics and the word counts in turns).
CPU_ROUNDS = 8
NAMES = ("王大爷", "李阿姨", "老张", "小周", "刘奶奶", "陈师傅")


def phone(rnd: random.Random) -> str:
    """A mobile number, as residents type them."""
    return "1" + rnd.choice("3578") + "".join(rnd.choice("0123456789") for _ in range(9))


def background(rnd: random.Random) -> str:
    """One ordinary message: filler, a subject from the centres and places, a need."""
    area = rnd.choice(DEFAULT_AREAS)
    if rnd.random() < BACKGROUND_OUTAGE_SHARE:
        return rnd.choice(BACKGROUND_OUTAGES).format(area=rnd.choice([a for a in DEFAULT_AREAS if a != "南湖社区"]))
    subject = rnd.choice(SUBJECTS).format(area=area)
    need = rnd.choice(NEEDS).format(phone=phone(rnd), name=rnd.choice(NAMES))
    return f"{rnd.choice(OPENERS)}{subject}，{need}"


def messages(n: int, rnd: random.Random) -> list[tuple[dt.datetime, str, str | None]]:
    """(when, text, area) of the month: the background spread evenly, the outage in the last two days."""
    outage = round(n * OUTAGE_SHARE)
    found = []
    for _ in range(n - outage):
        area = rnd.choice(DEFAULT_AREAS) if rnd.random() < 0.6 else None
        found.append((NOW - dt.timedelta(days=rnd.uniform(0, DAYS)), background(rnd), area))
    for _ in range(outage):
        text = rnd.choice(OUTAGE).format(name=rnd.choice(NAMES), phone=phone(rnd))
        area = "南湖社区" if rnd.random() < 0.5 else None
        found.append((NOW - dt.timedelta(days=rnd.uniform(0.01, RISE_DAYS)), text, area))
    found.sort(key=lambda item: item[0])
    return found


async def build(db: Database, n: int) -> dict[str, float]:
    """The month's messages as wishes and tips, segmented and stored as the sweep stores them."""
    rnd = random.Random(29)
    written = messages(n, rnd)
    started = time.perf_counter()
    unique = sorted({text for _at, text, _area in written})
    segmented = dict(zip(unique, await asyncio.to_thread(segment_all, unique), strict=True))
    segment_s = time.perf_counter() - started
    started = time.perf_counter()
    async with db.write() as conn:
        people = [{"id": FIRST_RESIDENT + i, "first_name": f"居民{i}", "language": "zh-CN"} for i in range(RESIDENTS)]
        await conn.execute(users.insert(), [{**p, "created_at": NOW, "last_seen_at": NOW} for p in people])
    wish_id = tip_id = 0
    for start in range(0, len(written), CHUNK):
        wish_rows: list[dict[str, Any]] = []
        tip_rows: list[dict[str, Any]] = []
        term_rows: list[dict[str, Any]] = []
        for number, (at, text, area) in enumerate(written[start : start + CHUNK], start=start):
            person = FIRST_RESIDENT + rnd.randrange(RESIDENTS)
            if number % 10 == 9:
                tip_id += 1
                source, source_id = hot_storage.TIP, tip_id
                tip_rows.append(
                    {
                        "id": tip_id,
                        "reporter_id": person,
                        "by_reporter": True,
                        "status": "new",
                        "category": "livelihood",
                        "description": text,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            else:
                wish_id += 1
                source, source_id = hot_storage.WISH, wish_id
                wish_rows.append(
                    {
                        "id": wish_id,
                        "ref_no": wish_id,
                        "resident_id": person,
                        "category": "other",
                        "description": text,
                        "area": area,
                        "status": "open",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            terms = {hot_storage.SEGMENTED, *segmented[text]}
            term_rows += [{"source": source, "source_id": source_id, "term": t, "at": at} for t in terms]
        async with db.write() as conn:
            await insert_rows(conn, wishes, wish_rows)
            await insert_rows(conn, tips, tip_rows)
            await insert_rows(conn, text_terms, term_rows)
    async with db.write() as conn:
        await hot_storage.set_watermark(conn, hot_storage.WISH, wish_id)
        await hot_storage.set_watermark(conn, hot_storage.TIP, tip_id)
    return {"segment_s": segment_s, "store_s": time.perf_counter() - started, "unique": len(unique)}


async def run(n: int, url: str | None) -> int:
    """Build, rank, check and print; the exit status (1 when a check fails)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with database(url, Path(tmp)) as db:
            built = await build(db, n)
            env = Env(db=db, clock=ManualClock(NOW), settings=load_settings(bot_token="1:abc", _env_file=None))
            timings = []
            for _ in range(3):
                hot.forget_cached_topics()  # each of these computes the topics afresh
                started = time.perf_counter()
                found = await hot.topics(env, NOW, days=7, limit=10)
                timings.append(time.perf_counter() - started)
            started = time.perf_counter()
            await hot.topics(env, NOW, days=7, limit=10)  # asked again in the same minute, nothing new: the cache
            cached_ms = 1000 * (time.perf_counter() - started)
            # CPU of this process per computation (the worker threads' and SQLite's included, a PostgreSQL server's
            # not): the topics afresh, and the word counts /hot showed before topics, on the same data and load.
            cpu: dict[str, list[float]] = {"topics": [], "words": []}
            for _ in range(CPU_ROUNDS):
                hot.forget_cached_topics()
                started = time.process_time()
                await hot.topics(env, NOW, days=7, limit=10)
                cpu["topics"].append(1000 * (time.process_time() - started))
                started = time.process_time()
                async with db.read() as conn:
                    await hot.period_report(conn, now=NOW, days=7)
                cpu["words"].append(1000 * (time.process_time() - started))
            async with db.read() as conn:
                month, _texts = await hot.counts_between(conn, NOW - dt.timedelta(days=DAYS), NOW)
            words = sorted(month.items(), key=lambda item: (-item[1], item[0]))[:10]
    print(
        f"built {n} messages ({built['unique']} different texts): segmented in {built['segment_s']:.1f} s, "
        f"stored in {built['store_s']:.1f} s"
    )
    print("the month's most frequent terms: " + " · ".join(f"{term} {count}" for term, count in words))
    print("top ten topics of the last 7 days (against the 28 before):")
    for rank, topic in enumerate(found, start=1):
        print(f"{rank:2}. {hot.topic_line(topic)}")
    leading = [term for topic in found for term in topic.terms]
    bad = sorted({*leading} & (stopwords() | FRAGMENTS))
    counted_fragments = sorted(term for term in FRAGMENTS if month.get(term))
    first = found[0] if found else None
    checks = {
        "the outage ranks first": first is not None and first.terms[0] == "停水",
        "in 南湖社区": first is not None and first.areas[:1] == ("南湖社区",),
        "no stopword or name fragment in the top ten": not bad,
        "no name fragment counted in the month": not counted_fragments,
        "no phone number quoted": not any(
            any(ch.isdigit() for ch in example) for topic in found for example in topic.examples
        ),
    }
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {name}")
    if bad or counted_fragments:
        print(f"  found: {bad} in the top ten, {counted_fragments} counted")
    topics_cpu, words_cpu = (statistics.median(cpu[name]) for name in ("topics", "words"))
    print(
        f"CPU per computation, median of {CPU_ROUNDS}: topics {topics_cpu:.1f} ms, the word counts {words_cpu:.1f} ms "
        f"({topics_cpu / words_cpu:.1f}x); load average {os.getloadavg()[0]:.1f}"
    )
    ms = sorted(1000 * t for t in timings)
    backend = "postgresql" if url else "sqlite"
    print(
        f"topics {n} ({backend}): first {'停水' if checks['the outage ranks first'] else 'NOT 停水'}, "
        f"top ten {' / '.join('、'.join(t.terms) for t in found)}, "
        f"time {ms[0]:.0f} ms (best of 3, computed; first {1000 * timings[0]:.0f} ms; asked again {cached_ms:.1f} ms)"
    )
    return 0 if all(checks.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.topics", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="messages in the month (default 100000)")
    parser.add_argument("--database-url", help="PostgreSQL URL (a private schema is used); default: SQLite")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.messages, args.database_url))


if __name__ == "__main__":
    sys.exit(main())
