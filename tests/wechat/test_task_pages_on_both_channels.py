"""Lists are one page model (`conversations/pages.py`) rendered per channel (issue 26). /tasks: a volunteer on
Telegram and one on WeChat, at the same place with the same skills, see the same wishes in the same order on the
same pages, and the second item of page 2 is the seventh wish whichever way it is chosen — a Telegram tap, a typed
"2" on WeChat (read in the namespace of the page last seen), or a tap on WeChat's menu item. 我的心愿 pages the
same way."""

from __future__ import annotations

import re

import pytest

from bot.app import TongxinApp
from rules.wishes import WishStatus, wish_ref
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.wechat import Received, WeChatPerson, WeChatSimulator
from storage import wishes as store
from tests.stories.wishflow import approved_volunteers, person_id, wait_for_button
from tests.wechat.test_wechat_volunteers import HOME, make_volunteer, open_wishes, wechat_person_id

REF = re.compile(r"W-\d{4}")


def refs(text: str) -> list[str]:
    """The wish references a text shows, in its order."""
    return REF.findall(text)


async def telegram_pages(xiaoli: Person) -> tuple[list[str], list[str], list[list[str]]]:
    """/tasks on Telegram, then ▶: the references on page 1 and on page 2, and page 2's buttons."""
    await xiaoli.send_command("/tasks")
    first = await xiaoli.wait_for_text("第 1/2 页")
    on_first = refs(first.text or "")
    await xiaoli.press("下一页 ▶")
    second = await xiaoli.wait_for_text("第 2/2 页")
    return on_first, refs(second.text or ""), second.inline_buttons


async def wechat_pages(xiaozhou: WeChatPerson) -> tuple[list[str], Received]:
    """任务 on WeChat, then 下一页: the references on page 1, and page 2's menu."""
    await xiaozhou.send_text("任务")
    first = await xiaozhou.wait_for_text("第 1/2 页")
    seen = len(xiaozhou.inbox)
    await xiaozhou.tap("下一页")
    second = await xiaozhou.wait_for_text("第 2/2 页", after=seen)
    return refs(first.text), second


@pytest.mark.both_databases
@pytest.mark.parametrize("way", ["telegram tap", "wechat typed number", "wechat menu item"])
async def test_both_channels_page_the_same_tasks_and_claim_the_second_of_page_two(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator, way: str
) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    wishes = await open_wishes(env, wang, [(39.9 + n / 100, 116.4) for n in range(7)])  # nearest first: as made
    nearest_first = [wish_ref(w.ref_no) for w in wishes]
    xiaoli = sim.person("小李")
    await approved_volunteers(env.db, [xiaoli], location=HOME)
    xiaozhou = wx.person("小周")
    await make_volunteer(env, xiaozhou)

    tg_first, tg_second, tg_buttons = await telegram_pages(xiaoli)
    wx_first, wx_second = await wechat_pages(xiaozhou)
    assert tg_first == wx_first == nearest_first[:5]
    assert tg_second == refs(wx_second.text) == nearest_first[5:]
    # The same actions in the same order: a button per card, ◀, and the switch to every wish.
    assert [row[0] for row in tg_buttons] == ["查看 W-0006", "查看 W-0007", "◀ 上一页", "显示全部"]
    assert [content for _, content in wx_second.items] == [
        "1. 认领 W-0006",
        "2. 认领 W-0007",
        "3. ◀ 上一页",
        "4. 显示全部",
    ]
    # On WeChat each card has the number of its menu item: what typing it chooses.
    assert "1. W-0006" in wx_second.text
    assert "2. W-0007" in wx_second.text

    seventh = wishes[6]
    if way == "telegram tap":
        await xiaoli.press("查看 W-0007")
        await wait_for_button(xiaoli, "今天认领")
        await xiaoli.press("今天认领")
        await xiaoli.wait_for_text("13800001234")
        claimer = await person_id(env.db, xiaoli)
    else:
        seen = len(xiaozhou.inbox)
        if way == "wechat typed number":
            await xiaozhou.send_text("2")
        else:
            await xiaozhou.tap("认领 W-0007")
        asked = await xiaozhou.wait_for_text("您打算什么时候去办", after=seen)
        assert refs(asked.text) == ["W-0007"]
        await xiaozhou.tap("今天认领")
        await xiaozhou.wait_for_text("13800001234", after=seen)
        claimer = await wechat_person_id(env, xiaozhou)
    async with env.db.read() as conn:
        claimed = await store.get_wish(conn, seventh.id)
        others = [await store.get_wish(conn, w.id) for w in wishes[:6]]
    assert (claimed.status, claimed.claimed_by) == (WishStatus.CLAIMED, claimer)
    assert all(w.status == WishStatus.OPEN for w in others)


async def test_my_wishes_on_wechat_pages_like_telegram_and_a_typed_number_acts_on_the_wish_of_that_page(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    """我的心愿 is the page model of /mywishes (newest first, five a page): on page 2, "2" is the second line there
    (the oldest wish, W-0001), whose card offers to withdraw it."""
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    wishes = await open_wishes(env, wang, [(39.9, 116.4)] * 7)
    await wang.click("MYWISHES")
    first = await wang.wait_for_text("您的 7 个心愿")
    assert refs(first.text) == ["W-0007", "W-0006", "W-0005", "W-0004", "W-0003"]
    assert "1. W-0007 · 助老助残 · 等待志愿者认领" in first.text
    seen = len(wang.inbox)
    await wang.tap("下一页")
    second = await wang.wait_for_text("您的 7 个心愿", after=seen)
    assert refs(second.text) == ["W-0002", "W-0001"]
    assert [content for _, content in second.items] == ["1. 📋 W-0002", "2. 📋 W-0001", "3. ◀ 上一页"]
    seen = len(wang.inbox)
    await wang.send_text("2")
    card = await wang.wait_for_text("取消这个心愿", after=seen)
    assert refs(card.text) == ["W-0001"]
    seen = len(wang.inbox)
    await wang.tap("取消这个心愿")
    await wang.wait_for_text("心愿已取消", after=seen)
    async with env.db.read() as conn:
        statuses = [(await store.get_wish(conn, w.id)).status for w in wishes]
    assert statuses == [WishStatus.CANCELLED] + [WishStatus.OPEN] * 6
