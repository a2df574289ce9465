"""The story the WeChat channel is for: 王阿姨 on WeChat, the centre and the volunteers on Telegram, one case."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from storage import media
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import approved_volunteers, everything_sent_to, open_from_list, wait_for_button

DESCRIPTION = "家里的水龙头坏了，想请人帮忙修一下"


async def test_wang_on_wechat_the_centre_and_xiaozhou_on_telegram(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    chen = sim.person("陈主任", user_id=ADMIN_ID)
    xiaozhou = sim.person("小周")
    await chen.send_command("/start")
    await chen.wait_for_text("您好")
    await approved_volunteers(db, [xiaozhou])

    # 王阿姨 writes her wish on WeChat, with a photo and her location.
    await wang.click("WISH")
    await wang.tap("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text(DESCRIPTION)
    await wang.wait_for_text("哪个镇")
    await wang.tap("东城社区")
    await wang.wait_for_text("具体在哪里")
    await wang.send_location(30.2741, 120.1551, "幸福路12号")
    await wang.wait_for_text("照片")
    await wang.send_photo(b"\xff\xd8 tap photo")
    await wang.wait_for_text("留个电话")
    await wang.send_text("跳过")
    await wang.wait_for_text("请核对")
    await wang.tap("提交")
    await wang.wait_for_text("W-0001")

    # 陈主任 hears of it on Telegram and approves; 王阿姨 hears so on WeChat.
    await chen.wait_for_text("W-0001")
    await chen.send_command("/pending")
    await open_from_list(chen, "📋 W-0001")
    await chen.wait_for_text(DESCRIPTION)
    await wait_for_button(chen, "✅ 通过")
    await chen.press("✅ 通过")
    approved = await wang.wait_for_text("已通过审核")
    assert approved.kind == "text"

    # 小周 claims and completes on Telegram; 王阿姨 hears each on WeChat and confirms there.
    await xiaozhou.send_command("/tasks")
    await xiaozhou.wait_for_text("W-0001")
    await xiaozhou.press("查看 W-0001")
    await wait_for_button(xiaozhou, "今天认领")
    await xiaozhou.press("今天认领")
    await xiaozhou.wait_for_text("您认领了 W-0001")
    # Her photo from WeChat is shown to the volunteer who holds the claim.
    await xiaozhou.wait_for(lambda: any(m.kind == "photo" for m in xiaozhou.messages), what="her photo")
    await wang.wait_for_text("志愿者 小周 认领了您的心愿 W-0001")
    await xiaozhou.send_command("/mytasks")
    await open_from_list(xiaozhou, "📋 W-0001")
    # The task card of /mytasks (the claim's own card has the same button).
    await xiaozhou.wait_for(
        lambda: sum("✅ 完成了" in str(m.inline_buttons) for m in xiaozhou.messages) >= 2, timeout=15, what="card"
    )
    await xiaozhou.press("✅ 完成了")
    await xiaozhou.wait_for_text("用了多长时间", timeout=15)
    await xiaozhou.press("2 小时")
    await xiaozhou.wait_for_text("完成后的照片")
    await xiaozhou.press("跳过")
    await xiaozhou.wait_for_text("留句话")
    await xiaozhou.press("跳过")
    await xiaozhou.wait_for_text("辛苦了")

    done = await wang.wait_for_text("已经办好了")
    assert done.kind == "msgmenu"
    assert done.items[0][1] == "1. 已完成，谢谢！"
    await wang.send_text("1")  # she types the number instead of tapping
    await wang.wait_for_text("打分")
    await wang.tap("5 星")
    await wang.wait_for_text("谢谢您的评价")
    await xiaozhou.wait_for_text("2 小时已计入")

    # 我的心愿 lists it done (the one page model of every list); its item shows the card, rated.
    await wang.click("MYWISHES")
    listed = await wang.wait_for_text("您的 1 个心愿")
    assert "1. W-0001 · 助老助残 · 已完成" in listed.text
    assert [content for _, content in listed.items] == ["1. 📋 W-0001"]
    seen = len(wang.inbox)
    await wang.send_text("1")
    card = await wang.wait_for_text("您的评分", after=seen)
    assert "W-0001" in card.text
    assert card.kind == "text"  # rated and confirmed: nothing left to do with it

    async with db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    assert (wish.status, wish.rating, wish.hours) == ("confirmed", 5, 2.0)
    assert wish.photo_media_id is not None
    async with db.read() as conn:
        # Downloaded from WeChat at once, uploaded to Telegram once, by reference after that.
        assert await media.file_ref(conn, wish.photo_media_id, "wechat")
        assert await media.file_ref(conn, wish.photo_media_id, "file")
        assert await media.file_ref(conn, wish.photo_media_id, "telegram")
    # Every notice reached its person on their channel: nothing for 王阿姨 went to Telegram.
    assert all(str(record.chat_id) != wang.openid for record in sim.records)
    assert [r.kind for r in wang.inbox if r.kind == "template"] == []
    # The volunteer's claim showed the details on Telegram; nothing of hers was lost on the way.
    assert "幸福路12号" in everything_sent_to(sim, xiaozhou)
