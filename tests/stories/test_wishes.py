"""Stories of the practice-centre loop: a resident asks, a coordinator approves, a volunteer claims,
does it and is thanked; and what must not happen along the way."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from rules.roles import Role
from scheduler import sweep
from simulator import BotApiSimulator
from storage import outbox, users
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import (
    ADDRESS,
    approved_volunteers,
    claim_from_tasks,
    everything_sent_to,
    open_from_list,
    open_wish,
    person_id,
    wait_for_button,
    write_wish,
)


async def test_her_photo_and_pin_go_to_the_claimer_and_his_proof_photo_comes_back_to_her(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    """On Telegram, the volunteer who claims gets her photo and a map pin with the details, and she is told his name;
    the done notice she gets is his proof photo, captioned, with no "留言" line when he left no note. The resident's
    and the volunteer's whole journeys run on Telegram and WeChat alike in tests/journeys."""
    db = bot.bot_data.db
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await alice.send_command("/start")
    await alice.wait_for_text("您好")
    await approved_volunteers(db, [xiaoli])
    photo = sim.files.add(b"\x89PNG the broken tap", kind="photo", mime_type="image/png")
    await open_wish(db, alice, location=(31.2304, 121.4737), photo_file_id=photo.file_id)

    await claim_from_tasks(xiaoli)
    await xiaoli.wait_for_text("您认领了 W-0001")
    await xiaoli.wait_for(lambda: any(m.kind == "photo" for m in xiaoli.messages), what="her photo")
    await xiaoli.wait_for(lambda: any(m.location for m in xiaoli.messages), what="the map pin of her home")
    assert next(m for m in xiaoli.messages if m.kind == "photo").photo_bytes == b"\x89PNG the broken tap"
    await alice.wait_for_text("志愿者 小李 认领了您的心愿 W-0001")

    await xiaoli.send_command("/mytasks")
    await open_from_list(xiaoli, "📋 W-0001")
    await wait_for_button(xiaoli, "✅ 完成了")
    await xiaoli.press("✅ 完成了")
    await xiaoli.wait_for_text("用了多长时间")
    await xiaoli.press("2 小时")
    await xiaoli.wait_for_text("完成后的照片")
    await xiaoli.send_photo(b"\x89PNG proof")
    await xiaoli.wait_for_text("留句话")
    await xiaoli.press("跳过")
    await xiaoli.wait_for_text("辛苦了")
    asked = await alice.wait_for_text("已经办好了")
    assert asked.kind == "photo"
    assert asked.photo_bytes == b"\x89PNG proof"
    assert "留言" not in (asked.text or "")  # no note was left: no "留言：—" line


@pytest.mark.both_databases  # a claim race: one compare-and-set wins on either database
@pytest.mark.both_transports
async def test_twenty_volunteers_press_claim_at_once_and_one_wins(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    alice = sim.person("王阿姨")
    crowd = [sim.person(f"志愿者{n}") for n in range(20)]
    await approved_volunteers(db, crowd)
    wish = await open_wish(db, alice)
    for volunteer in crowd:
        await volunteer.send_command("/tasks")
        await volunteer.wait_for_text("W-0001", timeout=20)
        await volunteer.press("查看 W-0001")
    for volunteer in crowd:
        await wait_for_button(volunteer, "今天认领", timeout=20)

    answered_before = {volunteer.user_id: len(volunteer.callback_answers) for volunteer in crowd}
    await asyncio.gather(*(volunteer.press("今天认领") for volunteer in crowd))
    # Every press gets its answer (the winner's "claimed", everyone else's "just taken"), however loaded the machine.
    await sim.wait_until(
        lambda: all(len(v.callback_answers) > answered_before[v.user_id] for v in crowd),
        timeout=90,
        what="an answer to every claim press",
    )
    await sim.settle(timeout=30)

    async with db.read() as conn:
        stored = await store.get_wish(conn, wish.id)
        events = await store.events_of(conn, wish.id)
    winners = [v for v in crowd if any("您认领了 W-0001" in m.text for m in v.messages)]
    assert len(winners) == 1
    assert stored.claimed_by == await person_id(db, winners[0])
    assert [e.to_status for e in events] == ["open", "claimed"]
    for loser in crowd:
        if loser is winners[0]:
            continue
        assert any("刚刚被其他志愿者认领" in answer for answer in loser.callback_answers)
        assert alice.phone not in everything_sent_to(sim, loser)
    await alice.wait_for_text("认领了您的心愿 W-0001", timeout=20)


async def test_a_forged_done_button_is_refused(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    alice, xiaoli, mallory = sim.person("王阿姨"), sim.person("小李"), sim.person("小马")
    await approved_volunteers(db, [xiaoli, mallory])
    wish = await open_wish(db, alice)
    await claim_from_tasks(xiaoli)
    await xiaoli.wait_for_text("您认领了")

    # Mallory crafts the callback data of xiaoli's Done button and presses it on some message of hers.
    await mallory.send_command("/mytasks")
    any_message = await mallory.next_message()
    sim.callback_query(mallory, any_message, f"task:done:{wish.id}")
    await mallory.wait_for(lambda: any("不在您名下" in a for a in mallory.callback_answers))
    # …and the release, and the resident's confirm.
    sim.callback_query(mallory, any_message, f"task:release:{wish.id}")
    sim.callback_query(mallory, any_message, f"wish:confirm:{wish.id}")
    await sim.settle()
    assert sum("不在您名下" in a for a in mallory.callback_answers) == 2
    assert sum("没有权限" in a for a in mallory.callback_answers) == 1
    assert not any("状态" in a for a in mallory.callback_answers)  # a forged press learns nothing of the wish
    async with db.read() as conn:
        stored = await store.get_wish(conn, wish.id)
    assert (stored.status, stored.claimed_by) == ("claimed", await person_id(db, xiaoli))
    assert "幸福路" not in everything_sent_to(sim, mallory)


async def test_a_resident_cannot_claim_and_a_stale_claim_is_explained(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await approved_volunteers(db, [xiaoli])
    await open_wish(db, alice)
    await xiaoli.send_command("/tasks")
    await xiaoli.wait_for_text("W-0001")
    await xiaoli.press("查看 W-0001")
    await wait_for_button(xiaoli, "今天认领")

    # Meanwhile the resident cancels the wish from /mywishes.
    await alice.send_command("/mywishes")
    await wait_for_button(alice, "📋 W-0001")
    await alice.press("📋 W-0001")
    await wait_for_button(alice, "取消这个心愿")
    await alice.press("取消这个心愿")
    await alice.wait_for_text("状态：已取消")

    await xiaoli.press("今天认领")
    await xiaoli.wait_for(lambda: any("已取消" in a for a in xiaoli.callback_answers))
    assert not any("您认领了" in m.text for m in xiaoli.messages)

    # A resident without the volunteer role cannot use /tasks at all.
    await alice.send_command("/tasks")
    assert "没有权限" in (await alice.wait_for_text("没有权限")).text


def shanghai(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


async def test_what_the_night_made_untrue_is_not_said_in_the_morning(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    alice, admin, zhou, xiaoli = (
        sim.person("王阿姨"),
        sim.person("李主任", user_id=ADMIN_ID),
        sim.person("周协调员"),
        sim.person("小李"),
    )
    await approved_volunteers(db, [xiaoli])
    for coordinator in (admin, zhou):
        await coordinator.send_command("/start")
        await coordinator.wait_for_text("您好")
    async with db.write() as conn:
        admin_id, zhou_id = await person_id(conn, admin), await person_id(conn, zhou)
        await users.grant_role(conn, zhou_id, Role.COORDINATOR, granted_by=admin_id, now=clock.now())

    # 00:40: the resident writes a wish in the night; the coordinators' "waiting for review" is held (quiet hours).
    clock.set(shanghai(27, 0, 40))
    await write_wish(alice)
    await alice.wait_for_text("W-0001")
    async with db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)

    # 00:46: the admin, awake anyway, approves it from /pending; the resident's "approved" is held too.
    clock.set(shanghai(27, 0, 46))
    await admin.send_command("/pending")
    await open_from_list(admin, "📋 W-0001")
    await admin.wait_for_text(ADDRESS)
    await admin.press("✅ 通过")
    await admin.wait_for(lambda: "已通过" in admin.callback_answers)

    # 00:47–00:50: a volunteer claims and does it; the resident confirms and rates it (urgent notices go out).
    clock.set(shanghai(27, 0, 47))
    await claim_from_tasks(xiaoli)
    await xiaoli.wait_for_text("您认领了 W-0001")
    await alice.wait_for_text("认领了您的心愿 W-0001")
    clock.set(shanghai(27, 0, 48))
    await xiaoli.send_command("/mytasks")
    await wait_for_button(xiaoli, "📋 W-0001")
    await xiaoli.press("📋 W-0001")
    await xiaoli.wait_for_text(ADDRESS)
    await xiaoli.press("✅ 完成了")
    await xiaoli.wait_for_text("用了多长时间")
    await xiaoli.press("2 小时")
    await xiaoli.wait_for_text("完成后的照片")
    await xiaoli.press("跳过")
    await xiaoli.wait_for_text("留句话")
    await xiaoli.press("跳过")
    await xiaoli.wait_for_text("辛苦了")
    await alice.wait_for_text("已经办好了")
    clock.set(shanghai(27, 0, 50))
    await alice.press("已完成，谢谢！")
    await alice.wait_for_text("打分")
    await alice.press("5⭐")
    await alice.wait_for_text("谢谢您的评价")
    await sim.settle()
    assert "已通过审核" not in everything_sent_to(sim, alice)
    assert "2 小时已计入" not in everything_sent_to(sim, xiaoli)  # normal lane: held until the morning

    # 07:59 nothing normal goes out; 08:00 the quiet hours end and the sender goes through what was held.
    clock.set(shanghai(27, 7, 59))
    await sweep.run_once(bot)
    await sim.settle()
    assert "2 小时已计入" not in everything_sent_to(sim, xiaoli)
    clock.set(shanghai(27, 8, 0))
    await sweep.run_once(bot)
    await xiaoli.wait_for_text("2 小时已计入")  # still true: the volunteer is thanked
    await xiaoli.wait_for_text("打了 5 星")
    await sweep.run_once(bot)
    await sim.settle()

    # No stale "approved, volunteers can claim now" for the resident, no "waiting for review" for anyone.
    assert "已通过审核" not in everything_sent_to(sim, alice)
    for coordinator in (admin, zhou):
        assert "等待审核" not in everything_sent_to(sim, coordinator)
    reason = f"wish {wish.id} is confirmed"
    async with db.read() as conn:
        alices = {row["dedupe_key"]: row for row in await outbox.messages_for(conn, await person_id(conn, alice))}
        held = [alices[f"wish-approved:{wish.id}"]]
        for coordinator in (admin, zhou):
            coordinator_id = await person_id(conn, coordinator)
            [row] = [
                row
                for row in await outbox.messages_for(conn, coordinator_id)
                if row["dedupe_key"] == f"wish-pending:{wish.id}:{coordinator_id}"
            ]
            held.append(row)
        stored = await store.get_wish(conn, wish.id)
    assert [(row["status"], row["last_error"], row["sent_at"]) for row in held] == [("superseded", reason, None)] * 3
    assert {row["status"] for key, row in alices.items() if key != f"wish-approved:{wish.id}"} == {"sent"}
    assert (stored.status, stored.rating, stored.hours) == ("confirmed", 5, 2.0)


async def test_a_garbled_forged_or_stale_wish_button_is_answered(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    alice, admin = sim.person("王阿姨"), sim.person("李主任", user_id=ADMIN_ID)
    wish = await open_wish(db, alice)
    await alice.send_command("/mywishes")
    card = await alice.wait_for_text("W-0001")
    await admin.send_command("/start")
    greeting = await admin.wait_for_text("您好")

    for data in ("wish:rate:1:9", "wish:cancel:99999999999", "wish:confirm:x", "wish:cat:Bad-Key"):
        sim.callback_query(alice, card, data)
    sim.callback_query(alice, card, "wish:cancel:4242")  # well formed, but no such wish
    for data in ("pending:approve:", "pending:setcat:1:Bad-Key", "pending:cat:1:2"):
        sim.callback_query(admin, greeting, data)
    sim.callback_query(admin, greeting, f"pending:approve:{wish.id}")  # already open: approved by nobody twice
    await sim.settle()
    assert sum("按钮已经失效" in answer for answer in alice.callback_answers) == 4
    assert any("没有权限" in answer for answer in alice.callback_answers)  # no such wish: the same refusal
    assert sum("按钮已经失效" in answer for answer in admin.callback_answers) == 3
    assert any("已开放" in answer or "状态" in answer for answer in admin.callback_answers)
    async with db.read() as conn:
        stored = await store.get_wish(conn, wish.id)
        events = await store.events_of(conn, wish.id)
    assert (stored.status, stored.category) == ("open", "elderly_disabled")
    assert [e.to_status for e in events] == ["open"]
