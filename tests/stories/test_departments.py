"""Stories of departments and cases: a coordinator creates 城管 and invites two members; a wish goes to 城管 as
an urgent case; one member acknowledges (签收) in time and the other sees who took it; it is resolved with a
photo and rated by the resident. Another case nobody acknowledges escalates to the coordinators at its deadline,
and to the admins at twice the time."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from bot.app import TongxinApp
from core.clock import ManualClock
from scheduler import sweep
from simulator import BotApiSimulator
from simulator.people import Person
from storage import cases as case_store
from storage import departments, users
from storage.db import Database
from storage.schema import audit_log, case_events, outbox, wishes
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.test_reminders import delivered
from tests.stories.wishflow import approved_volunteers, open_wish, person_id, wait_for_button, write_wish

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases


async def coordinator_named(bot: TongxinApp, sim: BotApiSimulator, name: str) -> Person:
    """Someone an admin made a coordinator earlier."""
    person = sim.person(name)
    await person.send_command("/start")
    await person.next_message()
    async with bot.bot_data.db.write() as conn:
        await users.grant_role(conn, await person_id(conn, person), "coordinator", granted_by=None, now=START_TIME)
    return person


async def department_with_members(
    bot: TongxinApp, sim: BotApiSimulator, coordinator: Person, members: list[Person]
) -> None:
    """The coordinator creates 城管 and mints an invite link; every member follows it."""
    await coordinator.send_command("/newdept", "城管 environment,elderly_disabled 东城社区,西城社区")
    await coordinator.wait_for_text("已创建部门 城管")
    await coordinator.press("➕ 邀请成员")
    reply = await coordinator.wait_for_text("start=dinv_")
    match = re.search(r"start=(dinv_\S+)", reply.text or "")
    assert match is not None
    for member in members:
        # The link only asks: a coordinator approves each member.
        await member.send_command("/start", match.group(1))
        await member.wait_for_text("加入「城管」的申请")
        request = await coordinator.wait_for_text(f"{member.first_name}（P-")
        await coordinator.press("✅ 批准", message=request)
        await coordinator.wait_for_text(f"已批准 {member.first_name}")
        await member.wait_for_text("您已加入「城管」")


async def test_an_urgent_case_is_acknowledged_by_one_member_resolved_with_a_photo_and_rated(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    alice = sim.person("王阿姨")
    wish = await open_wish(story_db, alice, category="environment")
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang, li = sim.person("老张"), sim.person("老李")
    await department_with_members(bot, sim, zhou, [zhang, li])

    await zhou.send_command("/case", "W-0001 城管 urgent")
    sent = await zhou.wait_for_text("已派单 C-0001")
    assert "已通知 2 名成员" in (sent.text or "")
    for member in (zhang, li):
        card = await member.wait_for_text("新案件 C-0001")
        assert "紧急（2 小时）" in (card.text or "")
        assert alice.phone not in (card.text or "")
    told = await alice.wait_for_text("已转交“城管”办理")
    assert "W-0001" in (told.text or "")
    assert "时限 紧急（2 小时）" in (told.text or "")
    assert "（紧急（" not in (told.text or "")  # no brackets within brackets

    # Twenty minutes later (the urgent tier allows 30 minutes to acknowledge) 老张 takes it.
    clock.advance(dt.timedelta(minutes=20))
    await wait_for_button(zhang, "✋ 签收")
    await zhang.press("✋ 签收")
    await zhang.wait_for_text("C-0001 由您承办")
    taken = await li.wait_for_text("C-0001 已由 老张 签收")
    assert "城管" in (taken.text or "")
    await alice.wait_for_text("老张 已签收您反映的 W-0001")
    # 老李 presses too late: told who took it.
    await li.press("✋ 签收")
    await li.wait_for(lambda: any("已由 老张 签收" in a for a in li.callback_answers))

    # An hour later it is resolved with a note and a photo.
    clock.advance(dt.timedelta(hours=1))
    await zhang.press("✅ 办结")
    await zhang.wait_for_text("办理结果")
    # The form is written once (conversations/case_forms.py): a sticker and a help word are answered, nothing lost.
    await zhang.send_sticker()
    await zhang.wait_for_text("请用文字写一句")
    await zhang.send_text("帮助")
    await zhang.wait_for_text("您正在填写案件办理结果")
    await zhang.send_text("已清理路边垃圾，更换了路灯")
    await zhang.wait_for_text("办理后的照片")
    await zhang.send_text("照片稍后补")
    await zhang.wait_for_text("请发一张照片，或点“不附照片”")
    await zhang.send_photo(b"\x89PNG after")
    await zhang.wait_for_text("C-0001 已办结")
    # The finished case's cards lose 办结 / 退回, and the photo question its 不附照片 (issue 27, item 7).
    await sim.settle()
    for label in ("✅ 办结", "↩️ 退回", "不附照片"):
        assert not any(label in row for m in zhang.messages for row in m.inline_buttons), label
    assert sim.invalid_requests == []
    resolved = await alice.wait_for_text("已办结您反映的 W-0001")
    assert resolved.kind == "photo"
    assert "更换了路灯" in (resolved.text or "")
    await zhou.wait_for_text("C-0001（W-0001）已由“城管”的 老张 办结")

    await wait_for_button(alice, "⭐⭐⭐⭐⭐")
    await alice.press("⭐⭐⭐⭐⭐")
    await alice.wait_for_text("您为 C-0001 的办理结果打了 5 星")
    await zhang.wait_for_text("群众为 C-0001 打了 5 星")
    await zhou.wait_for_text("群众为 C-0001 打了 5 星")  # the coordinator who sent it hears it too

    # The month's 三率 in /stats, with a chart; the case in /export.
    await zhou.send_command("/stats")
    ranking = await zhou.wait_for_text("部门三率")
    assert "1. 城管（1 件）：100.0% / 100.0% / 100.0%" in (ranking.text or "")
    await zhou.wait_for(lambda: sum(m.kind == "photo" for m in zhou.messages) >= 2, what="the stats and rates charts")
    await zhou.send_command("/export", "cases")
    exported = await zhou.wait_for_text("部门案件")
    assert exported.kind == "document"
    csv_text = (exported.document_bytes or b"").decode("utf-8-sig")
    assert "C-0001" in csv_text
    assert "城管" in csv_text
    assert "W-0001" in csv_text

    async with story_db.read() as conn:
        stored = await case_store.get_case(conn, 1)
        history = await case_store.events_of(conn, 1)
        audited = set((await conn.execute(select(audit_log.c.action))).scalars())
    assert stored.source_id == wish.ref_no
    assert (stored.status, stored.rating, stored.tier) == ("resolved", 5, "urgent")
    assert stored.acknowledged_by == await person_id(story_db, zhang)
    assert stored.acknowledged_at == START_TIME + dt.timedelta(minutes=20) <= stored.ack_due_at
    assert stored.resolved_at is not None
    assert stored.resolved_at <= stored.resolve_due_at
    assert stored.resolution_media_id is not None
    assert [(f, t) for f, t, _ in history] == [
        (None, "sent"),
        ("sent", "acknowledged"),
        ("acknowledged", "resolved"),
        ("resolved", "resolved"),
    ]
    assert {
        "department.create",
        "department.invite",
        "department.request",
        "department.approve",
        "case.send",
        "case.acknowledge",
    } <= audited
    assert "case.resolve" in audited


async def test_an_unacknowledged_case_escalates_to_coordinators_then_admins(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    alice = sim.person("王阿姨")
    await open_wish(story_db, alice, category="environment")
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.next_message()
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang = sim.person("老张")
    await department_with_members(bot, sim, zhou, [zhang])
    await zhou.send_command("/case", "W-0001 城管 utility")
    await zhou.wait_for_text("已派单 C-0001")
    await zhang.wait_for_text("新案件 C-0001")
    # utility: 24 h to resolve; a quarter of it, 6 h, to acknowledge.

    clock.set(START_TIME + dt.timedelta(hours=5, minutes=59))
    assert await sweep.run_once(bot) == 0
    clock.set(START_TIME + dt.timedelta(hours=6))
    await sweep.run_once(bot)
    await sweep.run_once(bot)  # a second sweep (or a restart) repeats nothing
    await delivered(bot, sim)
    late = await zhou.wait_for_text("超时督办")
    assert "C-0001" in (late.text or "")
    assert "签收已超时" in (late.text or "")
    assert not any("严重超时" in (m.text or "") for m in admin.messages)

    clock.set(START_TIME + dt.timedelta(hours=12))
    await sweep.run_once(bot)
    await delivered(bot, sim)
    serious = await admin.wait_for_text("严重超时")
    assert "C-0001" in (serious.text or "")
    assert "签收已超过时限一倍" in (serious.text or "")
    assert not any("严重超时" in (m.text or "") for m in zhou.messages)

    async with story_db.read() as conn:
        keys = list(
            (await conn.execute(select(outbox.c.dedupe_key).where(outbox.c.dedupe_key.like("case:late%")))).scalars()
        )
        notes = list(
            (await conn.execute(select(case_events.c.note).where(case_events.c.note.like("escalated%")))).scalars()
        )
    zhou_id, admin_id = await person_id(story_db, zhou), await person_id(story_db, admin)
    assert sorted(keys) == sorted(
        [f"case:late1:ack:1:{zhou_id}", f"case:late1:ack:1:{admin_id}", f"case:late2:ack:1:{admin_id}"]
    )
    assert notes == ["escalated:ack:1", "escalated:ack:2"]


async def test_a_whistle_calls_a_department_and_the_volunteers_together(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    await open_wish(story_db, alice)
    volunteer = sim.person("小李")
    await approved_volunteers(story_db, [volunteer])
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang = sim.person("老张")
    await department_with_members(bot, sim, zhou, [zhang])

    await zhou.send_command("/whistle", "W-0001 城管 urgent")
    await zhou.wait_for_text("已为 W-0001 吹哨")
    await zhou.wait_for_text("已派单 C-0001")
    await volunteer.wait_for_text("中心吹哨")
    card = await zhang.wait_for_text("新案件 C-0001")
    assert "紧急（2 小时）" in (card.text or "")


async def test_a_wish_sent_to_a_department_shows_the_cases_progress_and_leaves_the_review_queue(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    """One truth about a request: a wish under review sent to 城管 reads as the case's progress in /mywishes and
    its card (never "等待中心审核"), loses its cancel button and leaves /pending; a claimed one cannot be sent."""
    alice = sim.person("王阿姨")
    await write_wish(alice)
    await alice.wait_for_text("已提交")
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang = sim.person("老张")
    await department_with_members(bot, sim, zhou, [zhang])
    await zhou.send_command("/pending")
    await zhou.wait_for_text("W-0001")

    await zhou.send_command("/case", "W-0001 城管 urgent")
    await zhou.wait_for_text("已派单 C-0001")
    await zhou.send_command("/pending")
    await zhou.wait_for_text("目前没有等待审核的心愿")

    async def status_seen() -> str:
        await alice.send_command("/mywishes")
        listed = await alice.wait_for_text("您的 1 个心愿")
        assert "等待中心审核" not in (listed.text or "")
        await alice.press("📋 W-0001", message=listed)
        card = await alice.wait_for_text("状态：")
        assert all("取消这个心愿" not in row for row in card.inline_buttons)
        return (listed.text or "").split("W-0001", 1)[1]

    assert "已转交城管 · 等待部门签收" in await status_seen()
    await zhang.wait_for_text("新案件 C-0001")
    await wait_for_button(zhang, "✋ 签收")
    await zhang.press("✋ 签收")
    await zhang.wait_for_text("C-0001 由您承办")
    assert "已转交城管 · 部门已签收，正在办理" in await status_seen()
    await zhang.press("✅ 办结")
    await zhang.wait_for_text("办理结果")
    await zhang.send_text("已联系社区上门处理")
    await zhang.wait_for_text("办理后的照片")
    await zhang.press("不附照片")
    await zhang.wait_for_text("C-0001 已办结")
    assert "已转交城管 · 已办结" in await status_seen()
    async with story_db.read() as conn:
        (status,) = (await conn.execute(select(wishes.c.status).where(wishes.c.ref_no == 1))).one()
    assert status == "referred"

    # A wish a volunteer holds is not the centre's to send: the coordinator is told why, nothing is sent.
    other = sim.person("李大爷")
    held = await open_wish(story_db, other, category="environment")
    async with story_db.write() as conn:
        await conn.execute(update(wishes).where(wishes.c.id == held.id).values(status="claimed"))
    await zhou.send_command("/case", f"W-{held.ref_no:04d} 城管 urgent")
    refused = await zhou.wait_for_text("不能转交部门")
    assert "志愿者已认领" in (refused.text or "")
    async with story_db.read() as conn:
        assert await case_store.any_open_for(conn, "wish", held.ref_no) is False


async def test_a_member_hands_a_case_back_with_a_reason_and_the_coordinators_reassign_it(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    await open_wish(story_db, alice, category="environment")
    zhou = await coordinator_named(bot, sim, "周协调")
    zhang = sim.person("老张")
    await department_with_members(bot, sim, zhou, [zhang])
    await zhou.send_command("/case", "W-0001 城管 general")
    await zhou.wait_for_text("已派单 C-0001")
    await zhang.wait_for_text("新案件 C-0001")

    # /cases is one page (the page model of every list); the case's button brings its card with 退回.
    await zhang.send_command("/cases")
    listed = await zhang.wait_for_text("您部门的 1 件待办案件")
    assert "1. C-0001（W-0001）城管 · 一般（7 天） · 待签收" in (listed.text or "")
    await zhang.press("📋 C-0001")
    card = await zhang.wait_for_text("新案件 C-0001")
    await zhang.press("↩️ 退回", message=card)
    await zhang.wait_for_text("退回 C-0001 的原因")
    await zhang.send_text("这是供水问题，不属于城管职责")
    await zhang.wait_for_text("C-0001 已退回")
    # The outcome names the case it changed: the card pressed loses its buttons.
    await zhang.wait_for(lambda: not card.inline_buttons)
    returned = await zhou.wait_for_text("C-0001（W-0001）被“城管”的 老张 退回")
    assert "不属于城管职责" in (returned.text or "")
    await alice.wait_for_text("由“城管”退回")
    # Handed back and held by no other department: the wish waits for the centre again.
    await zhou.send_command("/pending")
    await zhou.wait_for_text("W-0001")

    # The same wish can go to another department now.
    await zhou.send_command("/newdept", "水务 全部")
    await zhou.wait_for_text("已创建部门 水务")
    await zhou.send_command("/case", "W-0001 水务 utility")
    await zhou.wait_for_text("已派单 C-0002")
    async with story_db.read() as conn:
        first = await case_store.get_case(conn, 1)
    assert first.status == "returned"
    assert first.return_reason == "这是供水问题，不属于城管职责"


async def test_a_department_without_areas_is_listed_without_empty_parentheses(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    """As the demo seeds them (no areas named): "· 城管：0 名成员", not "0 名成员（）" (issue 27)."""
    async with story_db.write() as conn:
        await departments.create_department(
            conn, name="城管", categories=("environment",), areas=(), created_by=None, now=START_TIME
        )
    zhou = await coordinator_named(bot, sim, "周协调")
    await zhou.send_command("/departments")
    listing = (await zhou.wait_for_text("城管：0 名成员")).text or ""
    assert "（）" not in listing
