"""Privacy on WeChat: 隐私, 我的数据 and 删除我的数据 — the same as Telegram's /privacy, /mydata and /deleteme, from
the 更多 menu or in plain words; erasing takes her saved WeChat photos with it, a stale 确认删除 erases nothing, and
it works for a blocked person too. Being asked first and erasing oneself is the resident's privacy journey, written
once for both channels: tests/journeys/test_privacy.py."""

from __future__ import annotations

from pathlib import Path

from bot.app import TongxinApp
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import people, users
from storage import wishes as store

DESCRIPTION = "家里老人行动不便，想请人帮忙买菜和打扫卫生"


async def _wish_with_photo(wang: WeChatPerson) -> None:
    await wang.click("WISH")
    await wang.tap("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text(DESCRIPTION)
    await wang.wait_for_text("哪个镇")
    await wang.send_text("跳过")
    await wang.wait_for_text("具体在哪里")
    await wang.send_text("幸福路12号")
    await wang.wait_for_text("照片")
    await wang.send_photo(b"\xff\xd8 her kitchen")
    await wang.wait_for_text("留个电话")
    await wang.send_text("13800138000")
    await wang.wait_for_text("请核对")
    await wang.tap("提交")
    await wang.wait_for_text("W-0001")


def _saved_photos(bot: TongxinApp) -> list[Path]:
    folder = bot.bot_data.settings.media_dir / "wechat"
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_privacy_from_the_menu_shows_her_data_and_erases_it_with_her_photo(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    await _wish_with_photo(wang)
    photos = _saved_photos(wechat_bot)
    assert len(photos) == 1
    assert photos[0].read_bytes() == b"\xff\xd8 her kitchen"

    # 更多 → 隐私: the WeChat wording, with 我的数据 and 删除我的数据 as choices.
    assert wx.menu is not None
    assert "隐私" in [b["name"] for b in wx.menu["button"][2]["sub_button"]]
    await wang.click("PRIVACY")
    notice = await wang.wait_for_text("隐私说明")
    assert notice.kind == "msgmenu"
    assert "/mydata" not in notice.text
    assert "Telegram" not in notice.text
    assert [content for _, content in notice.items] == ["1. 我的数据", "2. 删除我的数据"]

    # 我的数据: everything stored about her, as text (WeChat sends no files).
    await wang.tap("我的数据")
    data = await wang.wait_for_text("以下是我们保存的")
    shown = "\n".join(r.text for r in wang.inbox[wang.inbox.index(data) :])
    assert DESCRIPTION in shown
    assert "13800138000" in shown
    assert "幸福路12号" in shown

    # 删除我的数据: asked first; typing the number of 确认删除 confirms.
    await wang.tap("删除我的数据")
    ask = await wang.wait_for_text("确定要删除")
    assert [content for _, content in ask.items] == ["1. 确认删除", "2. 不删除"]
    await wang.send_text("1")
    await wang.wait_for_text("已删除您的个人信息")

    async with db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    assert DESCRIPTION not in wish.description
    assert wish.phone is None
    assert wish.address != "幸福路12号"
    # The photo she sent on WeChat is gone from MEDIA_DIR/wechat.
    assert not photos[0].exists()
    assert _saved_photos(wechat_bot) == []


async def test_a_confirmation_from_an_old_menu_erases_nothing_she_is_asked_again(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    """A menu message stays in the chat, its items tappable (Telegram's buttons are taken off once answered)."""
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    await _wish_with_photo(wang)
    await wang.send_text("删除我的数据")
    ask = await wang.wait_for_text("确定要删除")
    await wang.tap("不删除")
    await wang.wait_for_text("什么都没有删除")
    keep_count = len(wang.inbox)
    await wang.tap_item(ask.items[0][0], ask.items[0][1])
    await wang.wait_for_text("确定要删除", after=keep_count)
    async with db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    assert wish.description == DESCRIPTION
    assert len(_saved_photos(wechat_bot)) == 1


async def test_a_blocked_person_can_still_read_get_and_erase_their_data(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    await _wish_with_photo(wang)
    async with env.db.write() as conn:
        person = await people.find_person(conn, "wechat", wang.openid)
        assert person is not None
        await users.set_blocked(conn, person.id, True)

    await wang.send_text("许心愿")
    await wang.wait_for_text("限制使用")
    await wang.send_text("隐私")
    await wang.wait_for_text("隐私说明")
    await wang.send_text("我的数据")
    await wang.wait_for_text("以下是我们保存的")
    await wang.send_text("删除我的数据")
    await wang.wait_for_text("确定要删除")
    await wang.tap("确认删除")
    await wang.wait_for_text("已删除您的个人信息")
    assert _saved_photos(wechat_bot) == []
