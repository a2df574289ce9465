"""王阿姨 on WeChat: a wish with a photo and a location, through the same actions as Telegram."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator.wechat import WeChatSimulator
from storage import people
from storage import wishes as store

DESCRIPTION = "家里老人行动不便，想请人帮忙买菜和打扫卫生"


async def test_a_wish_from_wechat_with_photo_and_location(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    wang = wx.person("王阿姨")
    assert wx.menu is not None
    assert len(wx.menu["button"]) == 3

    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    await wang.tap("许心愿")
    await wang.wait_for_text("助老助残")
    await wang.tap("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text(DESCRIPTION)
    await wang.wait_for_text("哪个镇")
    await wang.send_text("2")  # the numbered choice: 东城社区
    await wang.wait_for_text("具体在哪里")
    await wang.send_location(30.2741, 120.1551, "幸福路12号")
    await wang.wait_for_text("照片")
    await wang.send_photo(b"\xff\xd8 wish photo")
    await wang.wait_for_text("留个电话")
    await wang.send_text("13800138000")
    summary = await wang.wait_for_text("请核对")
    assert "**" not in summary.text
    assert "<b>" not in summary.text
    assert "东城社区" in summary.text
    await wang.tap("提交")
    await wang.wait_for_text("W-0001")

    db = wechat_bot.bot_data.db
    async with db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
        owner = await people.find_person(conn, "wechat", wang.openid)
    assert owner is not None
    assert wish.resident_id == owner.id
    assert (wish.status, wish.description, wish.area, wish.phone) == (
        "pending_review",
        DESCRIPTION,
        "东城社区",
        "13800138000",
    )
    assert wish.location == (30.2741, 120.1551)
    assert wish.photo_media_id is not None
