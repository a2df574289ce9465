"""/link: a volunteer joins their WeChat account to their Telegram one with a one-time code."""

from __future__ import annotations

import datetime as dt
import re

from bot.app import TongxinApp
from bot.clock import ManualClock
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from storage import people
from tests.stories.wishflow import approved_volunteers, person_id


async def test_a_volunteer_links_wechat_to_telegram_with_a_one_time_code(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator, clock: ManualClock
) -> None:
    db = wechat_bot.bot_data.db
    xiaozhou = sim.person("小周")
    await approved_volunteers(db, [xiaozhou])
    on_wechat = wx.person("小周（微信）")
    await on_wechat.send_text("你好")  # a WeChat person of their own at first
    await on_wechat.wait_for_text("许心愿")

    # /help names /link for a volunteer.
    await xiaozhou.send_command("/help")
    shown = await xiaozhou.wait_for_text("/link")
    assert "绑定微信账号" in shown.text

    await xiaozhou.send_command("/link")
    reply = await xiaozhou.wait_for_text("绑定码")
    match = re.search(r"(\d{6})", reply.text)
    assert match is not None
    code = match.group(1)

    await on_wechat.send_text("绑定 000000" if code != "000000" else "绑定 111111")
    await on_wechat.wait_for_text("无效")
    await on_wechat.send_text(f"绑定 {code}")
    await on_wechat.wait_for_text("绑定成功")
    telegram_person = await person_id(db, xiaozhou)
    async with db.read() as conn:
        linked = await people.find_person(conn, "wechat", on_wechat.openid)
    assert linked is not None
    assert linked.id == telegram_person
    assert "volunteer" in linked.roles

    # A code works once.
    clock.advance(dt.timedelta(minutes=1))
    other = wx.person("别人")
    await other.send_text(f"绑定 {code}")
    await other.wait_for_text("无效")
