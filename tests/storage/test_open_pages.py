"""/tasks pages come from the database: matched, ordered nearest first and paged by keyset (SQLite and
PostgreSQL). Paging forward and backward visits every offered wish exactly once, in the same order as the
plain ordering over all of them, whether a page comes from a bounding box or from the whole district."""

from __future__ import annotations

import datetime as dt
import math
import random

from sqlalchemy import insert

from storage import holds, users
from storage import wishes as store
from storage.db import Database
from storage.schema import wishes

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
ORIGIN = (31.2, 121.4)
RESIDENT, ME, OTHER = 1, 2, 3
CATEGORIES = ("elderly_disabled", "free_clinic", "policy_talk")


def squared(lat: float, lon: float) -> float:
    scale = math.cos(math.radians(ORIGIN[0]))
    return (lat - ORIGIN[0]) ** 2 + ((lon - ORIGIN[1]) * scale) ** 2


async def given_wishes(db: Database, count: int) -> list[dict[str, object]]:
    rnd = random.Random(7)
    rows: list[dict[str, object]] = []
    for n in range(1, count + 1):
        # Near (inside the smallest box), middling, far (beyond every box), and without a place.
        spread = rnd.choice((0.005, 0.03, 0.1, 0.5, None))
        rows.append(
            {
                "id": n,
                "ref_no": n,
                "resident_id": RESIDENT,
                "category": rnd.choice(CATEGORIES),
                "description": f"心愿{n}",
                "latitude": None if spread is None else ORIGIN[0] + rnd.uniform(-spread, spread),
                "longitude": None if spread is None else ORIGIN[1] + rnd.uniform(-spread, spread),
                "status": rnd.choice(("open", "open", "open", "claimed")),
                # Some share a creation time, so the id breaks ties.
                "created_at": NOW - dt.timedelta(hours=rnd.randrange(50)),
                "updated_at": NOW,
            }
        )
    async with db.write() as conn:
        for user_id in (RESIDENT, ME, OTHER):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"P{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )
        await conn.execute(insert(wishes), rows)
        # Two open wishes are held for someone else for a while, one for me.
        held = [r["id"] for r in rows if r["status"] == "open"][:3]
        await holds.hold(conn, int(str(held[0])), [OTHER], until=NOW + dt.timedelta(hours=1))
        await holds.hold(conn, int(str(held[1])), [OTHER], until=NOW + dt.timedelta(hours=1))
        await holds.hold(conn, int(str(held[2])), [ME, OTHER], until=NOW + dt.timedelta(hours=1))
    return [r for r in rows if r["id"] not in held[:2]]


def expected(rows: list[dict[str, object]], categories: tuple[str, ...] | None, origin: bool) -> list[int]:
    offered = [r for r in rows if r["status"] == "open" and (categories is None or r["category"] in categories)]

    def key(r: dict[str, object]) -> tuple[object, ...]:
        if origin and r["latitude"] is not None:
            return (0, squared(float(str(r["latitude"])), float(str(r["longitude"]))), r["created_at"], r["id"])
        return (1 if origin else 0, 0.0, r["created_at"], r["id"])

    return [int(str(r["id"])) for r in sorted(offered, key=key)]


async def test_paging_forward_and_back_visits_every_offered_wish_once_in_order(db: Database) -> None:
    rows = await given_wishes(db, 400)
    for categories in (("elderly_disabled", "free_clinic"), None):
        for origin in (True, False):
            query = store.OpenQuery(ME, NOW, categories, ORIGIN if origin else None)
            want = expected(rows, categories, origin)
            pages: list[list[int]] = []
            async with db.read() as conn:
                assert await store.count_open_for(conn, query) == len(want)
                page = await store.open_page_for(conn, query, limit=5)
                while page:
                    pages.append([w.id for w in page])
                    page = await store.open_page_for(conn, query, after=page[-1].id, limit=5)
                assert [i for p in pages for i in p] == want
                # Backward from the last page gives the same pages.
                back = pages[-1]
                for number in range(len(pages) - 2, -1, -1):
                    back = [w.id for w in await store.open_page_for(conn, query, before=back[0], limit=5)]
                    assert back == pages[number]
