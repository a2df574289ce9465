"""WeChat's customer-service quotas as the channel counts them (storage/wechat.py): a message the person sends allows
5 messages within 48 hours; a menu click, follow, QR scan or menu-item tap allows 3 within 1 minute and no 48-hour
quota; overlapping quotas do not add up (issue 26: every callback used to open 5 in 48 hours)."""

from __future__ import annotations

import datetime as dt

from storage import wechat
from storage.db import Database

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
OPENID = "o_wang"


async def take(db: Database, at: dt.datetime, times: int = 1) -> list[bool]:
    taken = []
    for _ in range(times):
        async with db.write() as conn:
            taken.append(await wechat.take_window_slot(conn, OPENID, now=at))
    return taken


async def open_quota(db: Database, kind: str, at: dt.datetime) -> None:
    async with db.write() as conn:
        await wechat.opened(conn, OPENID, now=at, kind=kind)


async def test_a_click_allows_three_messages_within_a_minute_and_nothing_after(db: Database) -> None:
    await open_quota(db, wechat.CLICK, NOW)
    assert await take(db, NOW + dt.timedelta(seconds=5), 4) == [True, True, True, False]
    await open_quota(db, wechat.CLICK, NOW + dt.timedelta(minutes=5))
    assert await take(db, NOW + dt.timedelta(minutes=5, seconds=59)) == [True]
    assert await take(db, NOW + dt.timedelta(minutes=6)) == [False]  # the minute is over: no 48-hour quota behind it


async def test_a_message_allows_five_within_48_hours(db: Database) -> None:
    await open_quota(db, wechat.MESSAGE, NOW)
    assert await take(db, NOW + dt.timedelta(hours=47), 6) == [True] * 5 + [False]
    await open_quota(db, wechat.MESSAGE, NOW + dt.timedelta(hours=47, minutes=30))
    assert await take(db, NOW + dt.timedelta(hours=95)) == [True]
    assert await take(db, NOW + dt.timedelta(hours=96)) == [False]


async def test_overlapping_quotas_do_not_add_up(db: Database) -> None:
    """She wrote, then clicked the menu: at most five in that minute (the larger quota), not eight."""
    await open_quota(db, wechat.MESSAGE, NOW)
    assert await take(db, NOW, 2) == [True, True]
    await open_quota(db, wechat.CLICK, NOW + dt.timedelta(minutes=1))
    assert await take(db, NOW + dt.timedelta(minutes=1, seconds=10), 4) == [True, True, True, False]
    async with db.read() as conn:
        window = await wechat.window_of(conn, OPENID)
    assert (window.sent, window.click_sent) == (5, 3)
    assert not window.open_at(NOW + dt.timedelta(minutes=1, seconds=20))
