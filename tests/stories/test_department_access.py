"""Department access can be given and taken back: an invite link only asks (a coordinator approves), and a removed
member loses the role, the case cards already shown and every case button.

The attack this answers: a department invite admitted anyone at once (50 uses, 7 days), `/revoke` refused the
`department` role, and a revoked member still acknowledged a case."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from bot.app import TongxinApp
from simulator import BotApiSimulator
from storage import users
from storage.db import Database
from tests.stories.test_departments import coordinator_named, department_with_members
from tests.stories.wishflow import open_wish, person_id, wait_for_button

pytestmark = pytest.mark.both_databases


async def test_an_invite_link_admits_nobody_until_a_coordinator_approves(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    zhou = await coordinator_named(bot, sim, "周协调")
    await zhou.send_command("/newdept", "城管 environment 东城社区")
    await zhou.wait_for_text("已创建部门 城管")
    await zhou.press("➕ 邀请成员")
    link = re.search(r"start=(dinv_\S+)", (await zhou.wait_for_text("start=dinv_")).text or "")
    assert link is not None
    stranger = sim.person("路人")
    await stranger.send_command("/start", link.group(1))
    await stranger.wait_for_text("加入「城管」的申请")
    async with story_db.read() as conn:
        assert "department" not in (await users.get_user(conn, await person_id(conn, stranger))).roles
    # A case sent now does not reach them.
    await open_wish(story_db, sim.person("王阿姨"), category="environment")
    await zhou.send_command("/case", "W-0001 城管 urgent")
    assert "没有成员" in ((await zhou.wait_for_text("C-0001")).text or "")
    request = await zhou.wait_for_text("路人（P-")
    await zhou.press("✖️ 拒绝", message=request)
    await zhou.wait_for_text("已拒绝 路人")
    await stranger.wait_for_text("未获批准")
    await stranger.send_command("/cases")
    assert "没有" in ((await stranger.wait_for_text("案件")).text or "")


async def test_a_removed_member_loses_the_role_the_cards_and_every_case_button(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang, li = sim.person("老张"), sim.person("老李")
    await department_with_members(bot, sim, zhou, [zhang, li])
    await open_wish(story_db, sim.person("王阿姨"), category="environment")
    await zhou.send_command("/case", "W-0001 城管 urgent")
    card = await zhang.wait_for_text("新案件 C-0001")
    await wait_for_button(zhang, "✋ 签收")
    ack = card.find_inline_button("✋ 签收")
    assert ack is not None

    # By Telegram id, as /revoke takes any person.
    await zhou.send_command("/revoke", "department", str(zhang.user_id))
    assert "已将" in ((await zhou.wait_for_text("移出")).text or "")
    await zhang.wait_for_text("您已不再是「城管」的成员")
    await zhang.wait_for(
        lambda: "已作废" in (card.text or "") and card.find_inline_button("✋ 签收") is None, what="the card taken back"
    )
    async with story_db.read() as conn:
        assert "department" not in (await users.get_user(conn, await person_id(conn, zhang))).roles
    # The old card's button, pressed anyway (a copy of it), is refused; the case waits for the members still there.
    sim.callback_query(zhang, card, str(ack["callback_data"]))
    await zhang.wait_for(lambda: any("没有权限" in a for a in zhang.callback_answers), what="the refusal")
    await wait_for_button(li, "✋ 签收")
    await li.press("✋ 签收")
    await li.wait_for_text("C-0001 由您承办")

    # The members list: 老李 is removed with a button.
    await zhou.send_command("/departments")
    await wait_for_button(zhou, "👥 城管")
    await zhou.press("👥 城管")
    members = await zhou.wait_for_text("「城管」的成员")
    assert "老李" in (members.text or "")
    assert "老张" not in (members.text or "")
    label = next(text for row in members.inline_buttons for text in row if text.startswith("✖️ 老李"))
    await zhou.press(label, message=members)
    await li.wait_for_text("您已不再是「城管」的成员")
    await zhou.wait_for(lambda: "还没有成员" in (members.text or ""), what="the list redrawn")


async def test_a_removed_member_cannot_close_the_cases_he_held_and_they_go_back_to_the_others(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    """Found by trying it as an attacker: a member removed while holding a case (签收 pressed, 办结 begun) typed his
    note afterwards and closed it; the resident was told it was done. Now his 办结 is refused and the case waits
    for the members still there, who get its card again."""
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang, li = sim.person("老张"), sim.person("老李")
    resident = sim.person("王阿姨")
    await department_with_members(bot, sim, zhou, [zhang, li])
    await open_wish(story_db, resident, category="environment")
    await zhou.send_command("/case", "W-0001 城管 urgent")
    await wait_for_button(zhang, "✋ 签收")
    await zhang.press("✋ 签收")
    await zhang.wait_for_text("C-0001 由您承办")
    await zhang.press("✅ 办结")
    await zhang.wait_for_text("办理结果")

    await zhou.send_command("/revoke", "department", str(zhang.user_id))
    await zhang.wait_for_text("您已不再是「城管」的成员")
    await zhang.send_text("已清理路边垃圾")
    await zhang.wait_for_text("办理后的照片")
    await zhang.press("不附照片")
    await zhang.wait_for_text("没有权限")
    async with story_db.read() as conn:
        status = (await conn.execute(text("SELECT status, acknowledged_by FROM cases"))).one()
    assert tuple(status) == ("sent", None), "the case waits for another member"
    assert not any("已办结" in (m.text or "") for m in resident.messages)

    # 老李's card had become "C-0001 已由 老张 签收"; he gets the case again and takes it.
    card = await li.wait_for_text("新案件 C-0001")
    await wait_for_button(li, "✋ 签收")
    await li.press("✋ 签收", message=card)
    await li.wait_for_text("C-0001 由您承办")
