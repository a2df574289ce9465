"""WeCom cards waiting for an update (`storage.wecom`): a subject's cards are taken once (each response code updates a
card once), those past 72 hours are left out and forgotten, and a member's erasure removes theirs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from storage import people, privacy
from storage import wecom as cards
from storage.db import Database
from storage.schema import wecom_cards
from tests.conftest import START_TIME


async def test_cards_are_taken_once_and_codes_past_72_hours_are_left_out(db: Database) -> None:
    async with db.write() as conn:
        await cards.card_sent(conn, "wish:1", "chenzr", "old-code", now=START_TIME)
        later = START_TIME + dt.timedelta(hours=71)
        await cards.card_sent(conn, "wish:1", "lgs", "code-2", now=later)
        await cards.card_sent(conn, "case:1", "zhang.l", "code-3", now=later)
    async with db.write() as conn:
        taken = await cards.take_cards(conn, "wish:1", now=START_TIME + dt.timedelta(hours=72))
    assert taken == [cards.Card("lgs", "code-2")]
    async with db.write() as conn:
        assert await cards.take_cards(conn, "wish:1", now=START_TIME + dt.timedelta(hours=72)) == []
        assert [c.userid for c in await cards.take_cards(conn, "case:1", now=later)] == ["zhang.l"]


async def test_a_members_erasure_removes_their_cards(db: Database) -> None:
    async with db.write() as conn:
        member = await people.person_for_identity(
            conn, "wecom", "chenzr", first_name="陈主任", language="zh-CN", now=START_TIME
        )
        await cards.card_sent(conn, "wish:1", "chenzr", "code-1", now=START_TIME)
        await cards.card_sent(conn, "wish:1", "lgs", "code-2", now=START_TIME)
        await privacy.erase_person(conn, member.id, now=START_TIME)
    async with db.read() as conn:
        left = (await conn.execute(select(wecom_cards.c.userid))).scalars().all()
        assert left == ["lgs"]
        assert (await conn.execute(select(func.count()).select_from(wecom_cards))).scalar_one() == 1
