"""WeCom's sending limit per member (频率限制: at most 30 application messages a minute to one member, the rest
dropped by WeCom): a burst of 31 notices to one coordinator sends 30 and holds the 31st back, uncounted, until the
minute is over; WeCom refuses nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from actions import notices
from actions.messages import Notice
from bot.app import TongxinApp
from core.clock import ManualClock
from simulator.wecom import WeComSimulator
from storage import people
from storage.schema import outbox
from tests.wecom.helpers import wecom_coordinator


async def test_the_31st_message_of_a_minute_to_one_member_waits_for_the_next_minute(
    wecom_bot: TongxinApp, wc: WeComSimulator, clock: ManualClock
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    async with env.db.write() as conn:
        member = await people.find_person(conn, "wecom", "chenzr")
        assert member is not None
        for number in range(1, 32):
            ref = f"W-{number:04d}"
            notice = Notice("wish.notice_approved", {"ref": ref})
            await notices.queue(conn, member.id, notice, now=env.now(), dedupe_key=f"burst:{number}")
    env.wake()
    await chen.wait_for(lambda _r: sum(r.kind == "text" for r in chen.inbox) >= 30)

    async def held() -> str | None:
        async with env.db.read() as conn:
            rows = (await conn.execute(select(outbox.c.status, outbox.c.last_error, outbox.c.attempts))).all()
        waiting = [row for row in rows if row.status != "sent"]
        return waiting[0].last_error if len(waiting) == 1 and waiting[0].attempts == 0 else None

    for _ in range(200):
        if await held():
            break
        await asyncio.sleep(0.05)
    assert await held() == "wecom: 30 messages a minute to one member"
    assert sum(r.kind == "text" for r in chen.inbox) == 30

    clock.advance(dt.timedelta(seconds=61))
    env.wake()
    await chen.wait_for(lambda _r: sum(r.kind == "text" for r in chen.inbox) == 31)
