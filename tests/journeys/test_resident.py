"""The resident's journey, one story on every channel: 王阿姨 makes a wish with every field, the centre approves it,
a volunteer (on the other channel) does it, and she sees it in 我的心愿, confirms it done and rates it."""

from __future__ import annotations

import pytest

from simulator.people import Person as TelegramUser
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.journeys.people import INDIRECT, JOURNEY, Town, journey_runs
from tests.stories.wishflow import open_from_list, wait_for_button

DESCRIPTION = "家里老人行动不便，想请人帮忙买菜和打扫卫生"
ADDRESS = "幸福路12号3单元402"
PHONE = "13800138000"
HOME = (39.9011, 116.4012)


async def approve_from_pending(coordinator: TelegramUser, ref: str) -> None:
    """The coordinator opens /pending, the wish's card, and approves it."""
    await coordinator.send_command("/pending")
    await open_from_list(coordinator, f"📋 {ref}")
    await coordinator.wait_for_text(ADDRESS)  # coordinators see the address
    await wait_for_button(coordinator, "✅ 通过")
    await coordinator.press("✅ 通过")


@pytest.mark.parametrize(JOURNEY, journey_runs(telegram_on="sqlite", transport="webhook"), indirect=INDIRECT)
async def test_a_resident_makes_a_wish_sees_it_done_and_rates_it(town: Town) -> None:
    db = town.env.db
    chen = town.sim.person("陈主任", user_id=ADMIN_ID)
    await chen.send_command("/start")
    await chen.wait_for_text("您好")
    wang = town.person("王阿姨")
    xiaozhou = await town.volunteer("小周", on=town.other)

    # She makes a wish with every field: category, words, area, address and where it is, a photo, her phone.
    await wang.menu("wish")
    await wang.choose("助老助残")
    await wang.sees("请用文字描述")
    await wang.say(DESCRIPTION)
    await wang.sees("哪个镇")
    await wang.choose("东城社区")
    await wang.sees("具体在哪里")
    await wang.say(ADDRESS)
    await wang.sees("照片")
    await wang.send_photo(b"\xff\xd8\xff\xe0 the broken tap")
    await wang.sees("留个电话")
    await wang.say(PHONE)
    await wang.sees("请核对")
    summary = await wang.sees(DESCRIPTION, "东城社区", ADDRESS, PHONE)
    assert "<b>" not in summary.text
    assert "**" not in summary.text
    await wang.choose("修改")  # she adds where it is on the map beside the typed address
    await wang.choose("地址")
    await wang.sees("具体在哪里")
    await wang.send_location(*HOME, "幸福路12号")
    await wang.choose("提交")
    await wang.sees("W-0001")
    async with db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    assert wish.resident_id == await wang.person_id(db)
    assert (wish.status, wish.category, wish.description, wish.area, wish.address, wish.phone) == (
        "pending_review",
        "elderly_disabled",
        DESCRIPTION,
        "东城社区",
        ADDRESS,
        PHONE,
    )
    assert wish.location == HOME
    assert wish.photo_media_id is not None

    # 陈主任 approves it; she hears so.
    await chen.wait_for_text("W-0001")
    await approve_from_pending(chen, "W-0001")
    await wang.sees("已通过审核")

    # 小周 claims it; she is told who, and he sees her address, phone and photo while it is his.
    await xiaozhou.menu("tasks")
    await xiaozhou.choose("W-0001")
    await xiaozhou.choose("今天认领")
    await xiaozhou.sees(ADDRESS, PHONE)
    assert await xiaozhou.sees_photo() == b"\xff\xd8\xff\xe0 the broken tap"
    await wang.sees("志愿者 小周 认领了您的心愿 W-0001")  # the name he registered with, on either channel

    # He finishes it: 2 hours, a photo, a note.
    await xiaozhou.menu("mytasks")
    await xiaozhou.choose("W-0001")
    await xiaozhou.choose("完成了")
    await xiaozhou.sees("用了多长时间")
    await xiaozhou.choose("2 小时")
    await xiaozhou.sees("完成后的照片")
    await xiaozhou.send_photo(b"\xff\xd8\xff\xe0 the new tap")
    await xiaozhou.sees("留句话")
    await xiaozhou.say("水龙头换好了")
    await xiaozhou.sees("辛苦了")

    # She sees his note, says it is done and gives 5 stars; he is thanked.
    await wang.sees("志愿者 小周 说您的心愿 W-0001 已经办好了", "水龙头换好了")
    await wang.choose("已完成，谢谢！")
    await wang.sees("打分")
    await wang.choose("5")
    await wang.sees("谢谢您的评价")
    await xiaozhou.sees("2 小时已计入")

    # 我的心愿 lists it done; its card shows her rating.
    await wang.menu("mywishes")
    await wang.sees("W-0001", "已完成")
    await wang.choose("W-0001")
    await wang.sees("您的评分：5 星")

    async with db.read() as conn:
        wish = await store.get_wish(conn, wish.id)
        events = await store.events_of(conn, wish.id)
    assert (wish.status, wish.hours, wish.rating, wish.done_note) == ("confirmed", 2.0, 5, "水龙头换好了")
    assert wish.claimed_by == await xiaozhou.person_id(db)
    assert wish.claimed_at is not None
    assert wish.due_at is not None
    assert wish.due_at > wish.claimed_at
    assert wish.proof_media_id is not None
    assert [e.to_status for e in events] == ["pending_review", "open", "claimed", "done", "confirmed", "confirmed"]
