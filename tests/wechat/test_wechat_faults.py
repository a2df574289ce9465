"""What WeChat does to a service account that a Telegram test never shows, provoked one by one: a slow answer,
48 hours of silence, a sixth message, a forged signature, a retried callback."""

from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp
from sqlalchemy import func, select, text

from actions import notices
from actions.messages import Notice
from bot.app import TongxinApp
from core.clock import ManualClock, Timer
from simulator.wechat import DEADLINE, WeChatSimulator
from storage import people
from storage.schema import identities, wechat_inbound, wishes
from storage.schema import outbox as outbox_table
from tests.wechat.journey import skip_to_summary, start_wechat_wish


async def _person_of(bot: TongxinApp, openid: str) -> int:
    async with bot.bot_data.db.read() as conn:
        found = await people.find_person(conn, "wechat", openid)
    assert found is not None
    return found.id


async def test_a_slow_database_still_answers_wechat_within_5_seconds(
    wechat_bot: TongxinApp, wx: WeChatSimulator, timer: Timer
) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    async with db.write() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("LOCK TABLE wechat_inbound IN ACCESS EXCLUSIVE MODE"))
        # Nothing can be stored for 6 seconds: longer than WeChat waits.
        sending = asyncio.create_task(wang.send_text("你好"))
        await timer.sleep(DEADLINE + 1)
        assert sending.done()
    status, body = await sending
    assert (status, body) == (200, "success")
    assert max(wx.answer_times) < DEADLINE
    # Stored once the database was free, and answered.
    await wang.wait_for_text("许心愿")
    assert len(wang.inbox) == 1


async def test_a_slow_photo_download_still_answers_within_5_seconds(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    wang = wx.person("王阿姨")
    await wang.click("WISH")
    await wang.tap("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text("楼道的灯坏了，晚上看不见路")
    await wang.tap("东城社区")
    await wang.wait_for_text("具体在哪里")
    await wang.send_text("跳过")
    await wang.wait_for_text("照片")
    wx.media_delay = DEADLINE + 1
    status, body = await wang.send_photo(b"\xff\xd8 slow")
    assert (status, body) == (200, "success")
    assert max(wx.answer_times) < DEADLINE
    await wang.wait_for_text("留个电话", timeout=20)


async def test_after_48_hours_of_silence_a_notice_is_a_template_with_short_fields(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock
) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    person = await _person_of(wechat_bot, wang.openid)

    clock.advance(dt.timedelta(hours=49))
    long_reason = "您所在的小区已由物业统一安排维修，\n请直接联系物业服务中心办理，电话在公告栏上"
    async with db.write() as conn:
        await notices.queue(
            conn, person, Notice("wish.notice_rejected", {"ref": "W-0042", "reason": long_reason}), now=clock.now()
        )
    wechat_bot.bot_data.env.wake()
    notice = await wang.wait_for(lambda r: r.kind == "template")
    assert notice.url.startswith("http")
    assert all(len(value) <= 20 and "\n" not in value for value in notice.fields.values())
    assert notice.fields["character_string2"] == "W-0042"
    assert [r.kind for r in wang.inbox] == ["msgmenu", "template"]


async def test_a_sixth_message_in_the_window_is_not_a_customer_service_message(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock, timer: Timer
) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    await wang.send_text("你好")  # opens the window; the welcome is message 1 of 5
    await wang.wait_for_text("许心愿")
    person = await _person_of(wechat_bot, wang.openid)
    async with db.write() as conn:
        for n in range(1, 6):
            await notices.queue(
                conn, person, Notice("wish.notice_approved", {"ref": f"W-000{n}"}), now=clock.now(), lane="normal"
            )
        await notices.queue(
            conn, person, Notice("wish.notice_approved", {"ref": "W-0009"}), now=clock.now(), lane="bulk"
        )
    wechat_bot.bot_data.env.wake()
    await wang.wait_for(lambda r: r.kind == "template", timeout=20)
    await timer.sleep(1.5)
    kinds = [r.kind for r in wang.inbox]
    assert kinds.count("msgmenu") + kinds.count("text") == 5
    assert kinds.count("template") == 1
    # The bulk one waits for her to write again (it is not worth a template notice).
    async with db.read() as conn:
        waiting = (
            await conn.execute(
                select(func.count()).where(outbox_table.c.status == "pending", outbox_table.c.lane == "bulk")
            )
        ).scalar_one()
    assert waiting == 1
    # She writes again: a fresh window, and the held notice goes out at once.
    await wang.send_text("我的心愿")
    later = await wang.wait_for(lambda r: "W-0009" in r.text, timeout=10)
    assert later.kind == "text"


async def test_a_bad_signature_gets_403_and_changes_nothing(
    wechat_bot: TongxinApp, wx: WeChatSimulator, timer: Timer
) -> None:
    db = wechat_bot.bot_data.db
    mallory = wx.person("冒充者")
    status, _body = await mallory.send_text("许心愿", bad_signature=True)
    assert status == 403
    assert wx.callback_url is not None
    async with aiohttp.ClientSession() as http:
        query, _ = wx.signed("<xml/>", bad_signature=True)
        async with http.get(wx.callback_url, params={**query, "echostr": "hello"}) as response:
            assert response.status == 403
        query, _ = wx.signed("<xml/>")
        async with http.get(wx.callback_url, params={**query, "echostr": "hello"}) as response:
            assert (response.status, await response.text()) == (200, "hello")
    await timer.sleep(0.5)
    async with db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(wechat_inbound))).scalar_one() == 0
        assert (await conn.execute(select(func.count()).select_from(identities))).scalar_one() == 0
    assert mallory.inbox == []


async def test_a_retried_callback_is_handled_once(wechat_bot: TongxinApp, wx: WeChatSimulator, timer: Timer) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    await start_wechat_wish(wang, "其他", "想请志愿者教我用智能手机")
    await wang.send_text("跳过")  # the area menu's ten items are the areas; 跳过 is typed (or 11)
    await skip_to_summary(wang)
    await wang.tap("提交")
    before = len(wang.inbox)
    assert await wang.resend() == (200, "success")  # WeChat did not see our answer and tries again
    assert await wang.resend() == (200, "success")
    await wang.wait_for_text("W-0001")
    await timer.sleep(1)
    assert len(wang.inbox) == before + 1
    async with db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(wishes))).scalar_one() == 1
