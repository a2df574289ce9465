"""WeChat's customer-service quotas, end to end (issue 26): a menu click opens 3 messages within 1 minute, not a
48-hour window; a tap on a menu-message item is a click too. A notice for 王阿姨 two minutes after she only clicked
goes as a template notice; the old code took every callback for a 48-hour window and WeChat refused the message
(the simulator, written from WeChat's rules, records that refusal and the `wechat_bot` fixture fails on it)."""

from __future__ import annotations

import datetime as dt

from actions import notices
from actions.messages import Notice
from bot.app import TongxinApp
from core.clock import ManualClock
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import people


async def notice_for(bot: TongxinApp, wang: WeChatPerson, clock: ManualClock, text: str) -> None:
    async with bot.bot_data.db.write() as conn:
        found = await people.find_person(conn, "wechat", wang.openid)
        assert found is not None
        await notices.queue(
            conn, found.id, Notice("broadcast.message", {"text": text}), now=clock.now(), dedupe_key=f"t:{text}"
        )
    bot.bot_data.env.wake()


async def test_after_only_a_menu_click_a_later_notice_goes_as_a_template(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock
) -> None:
    wang = wx.person("王阿姨")
    await wang.click("MYWISHES")
    await wang.wait_for_text("还没有提交过心愿")  # inside the click's minute: a customer-service message

    clock.advance(dt.timedelta(minutes=2))
    await notice_for(wechat_bot, wang, clock, "周六社区义诊")
    notice = await wang.wait_for(lambda r: "周六社区义诊" in (r.text + str(r.fields)))
    assert notice.kind == "template"


async def test_a_tap_on_a_menu_item_opens_no_48_hour_quota(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock
) -> None:
    wang = wx.person("王阿姨")
    await wang.send_text("你好")  # she writes: 5 messages within 48 hours
    await wang.wait_for_text("许心愿")
    clock.advance(dt.timedelta(hours=49))  # that quota is over
    await wang.tap("我的心愿")  # an item of the old welcome menu: a click, 3 within 1 minute
    await wang.wait_for_text("还没有提交过心愿", after=1)

    clock.advance(dt.timedelta(minutes=2))
    await notice_for(wechat_bot, wang, clock, "明天停水通知")
    notice = await wang.wait_for(lambda r: "明天停水通知" in (r.text + str(r.fields)))
    assert notice.kind == "template"
