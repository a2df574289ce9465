"""Stories of the whistle: a coordinator calls the volunteers who match an open wish — by skill, and by
area or distance — one of them claims it from the whistle with the usual claim button, and the
coordinator's summary says who took it after how long."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from actions.buttons import Act, Button
from actions.messages import Notice
from bot.app import TongxinApp
from core.clock import ManualClock
from rules.applications import register_volunteer
from simulator import BotApiSimulator
from simulator.people import Person
from storage import users
from storage import wishes as store
from storage.db import Database
from storage.schema import audit_log, outbox, whistles
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.wishflow import ADDRESS, approved_volunteers, given_person, open_wish, person_id, wait_for_button

WISH_PLACE = (31.2300, 121.4700)
ONE_KM_NORTH = (31.2400, 121.4700)
FAR_AWAY = (31.5000, 121.0000)


async def coordinator_named(bot: TongxinApp, sim: BotApiSimulator, name: str) -> Person:
    """Someone an admin made a coordinator earlier."""
    person = sim.person(name)
    await person.send_command("/start")
    await person.next_message()
    async with bot.bot_data.db.write() as conn:
        await users.grant_role(conn, await person_id(conn, person), "coordinator", granted_by=None, now=START_TIME)
    return person


async def whistle_recipients(db: Database) -> set[int]:
    """Everyone a whistle notice was queued for."""
    async with db.read() as conn:
        rows = await conn.execute(select(outbox.c.recipient_id).where(outbox.c.dedupe_key.startswith("whistle:")))
        return set(rows.scalars())


async def test_a_whistle_reaches_exactly_the_matching_volunteers_and_one_claims_it(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    alice = sim.person("王阿姨")
    wish = await open_wish(story_db, alice, location=WISH_PLACE)
    same_area = sim.person("小李")
    close_by = sim.person("小张")
    far_away = sim.person("小远")
    other_skill = sim.person("小医")
    not_approved = sim.person("小新")
    blocked = sim.person("小黑")
    await approved_volunteers(story_db, [same_area, blocked], area="东城社区")
    await approved_volunteers(story_db, [close_by], area="西城社区", location=ONE_KM_NORTH)
    await approved_volunteers(story_db, [far_away], area="北山社区", location=FAR_AWAY)
    await approved_volunteers(story_db, [other_skill], skills=("free_clinic",), area="东城社区")
    async with story_db.write() as conn:
        await register_volunteer(
            conn,
            user_id=await given_person(conn, not_approved),
            name="小新",
            phone=None,
            skills=["elderly_disabled"],
            area="东城社区",
            location=None,
            invite_code=None,
            now=START_TIME,
        )
        await users.set_blocked(conn, await person_id(conn, blocked), True)
    zhou = await coordinator_named(bot, sim, "周协调")

    await zhou.send_command("/whistle", "W-0001")
    summary = await zhou.wait_for_text("已为 W-0001 吹哨")
    assert "已紧急通知 2 位匹配的志愿者" in summary.text
    assert "等待认领" in summary.text

    called = await close_by.wait_for_text("中心吹哨")
    assert "W-0001" in called.text
    assert ADDRESS not in called.text
    assert alice.phone not in called.text
    await same_area.wait_for_text("中心吹哨")
    await sim.settle()
    assert await whistle_recipients(story_db) == {
        await person_id(story_db, same_area),
        await person_id(story_db, close_by),
    }
    for person in (far_away, other_skill, not_approved, blocked, alice):
        assert not any("中心吹哨" in (m.text or "") for m in sim.sent_to(person.user_id)), person.first_name

    # Twelve minutes later the volunteer close by claims it with the button on the whistle.
    clock.advance(dt.timedelta(minutes=12))
    await wait_for_button(close_by, "今天认领")
    await close_by.press("今天认领")
    await close_by.wait_for_text("您认领了 W-0001")
    await close_by.wait_for_text(ADDRESS)  # the claimer sees the details, as from /tasks
    await alice.wait_for_text("认领了您的心愿 W-0001")

    await zhou.wait_for(
        lambda: any(m.message_id == summary.message_id and "已由 小张 认领" in m.text for m in zhou.messages)
    )
    edited = next(m for m in zhou.messages if m.message_id == summary.message_id)
    assert edited.edited
    assert "吹哨后 12 分钟" in edited.text
    await zhou.wait_for_text("您吹哨的 W-0001 已由 小张 认领")

    # The other volunteer was a moment too late.
    await wait_for_button(same_area, "今天认领")
    await same_area.press("今天认领")
    await same_area.wait_for(lambda: any("手慢了一步" in a for a in same_area.callback_answers))

    async with story_db.read() as conn:
        claimed = await store.get_wish(conn, wish.id)
        whistle = (await conn.execute(select(whistles))).one()
        audited = (await conn.execute(select(audit_log.c.action, audit_log.c.actor_id))).all()
    assert (claimed.status, claimed.claimed_by) == ("claimed", await person_id(story_db, close_by))
    assert (whistle.wish_id, whistle.coordinator_id, whistle.sent_count) == (
        wish.id,
        await person_id(story_db, zhou),
        2,
    )
    assert (whistle.claimed_by, whistle.claimed_at) == (
        await person_id(story_db, close_by),
        START_TIME + dt.timedelta(minutes=12),
    )
    assert ("wish.whistle", await person_id(story_db, zhou)) in audited


async def test_the_whistle_button_of_the_unclaimed_notice_calls_once(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    wish = await open_wish(story_db, alice)
    xiaoli = sim.person("小李")
    await approved_volunteers(story_db, [xiaoli])
    admin = sim.person("李主任", user_id=ADMIN_ID)  # admins hold the coordinator role too
    await admin.send_command("/start")
    await admin.next_message()
    # What the scheduler sends coordinators about a wish nobody took.
    await bot.bot_data.notifier.notify(
        await person_id(story_db, admin),
        Notice(
            "remind.unclaimed",
            {"ref": "W-0001", "category_key": "category.elderly_disabled", "area": "东城社区", "hours": 24},
            ((Button("remind.button.whistle", Act.WHISTLE, wish.id),),),
        ),
        lane="normal",
    )
    await wait_for_button(admin, "📣 吹哨")
    await admin.press("📣 吹哨")
    await admin.wait_for(lambda: any("通知了 1 位志愿者" in a for a in admin.callback_answers))
    await admin.wait_for_text("已为 W-0001 吹哨")
    await xiaoli.wait_for_text("中心吹哨")

    await admin.press("📣 吹哨")  # a second tap calls nobody twice
    await admin.wait_for(lambda: any("刚为这个心愿吹过哨" in a for a in admin.callback_answers))
    await sim.settle()
    async with story_db.read() as conn:
        assert len((await conn.execute(select(whistles))).all()) == 1
    assert sum("中心吹哨" in (m.text or "") for m in sim.sent_to(xiaoli.user_id)) == 1


async def test_a_whistle_that_cannot_be_blown_is_explained(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    first = await open_wish(story_db, alice)
    clinic = await open_wish(story_db, alice, description="义诊需要帮忙排队", category="free_clinic")
    zhou = await coordinator_named(bot, sim, "周协调")

    await zhou.send_command("/whistle")
    await zhou.wait_for_text("用法：/whistle W-0042")
    await zhou.send_command("/whistle", "你好")
    await zhou.wait_for_text("不是心愿编号")
    await zhou.send_command("/whistle", "W-0099")
    await zhou.wait_for_text("找不到心愿 W-0099")
    await zhou.send_command("/whistle", "W-0001")
    await zhou.wait_for_text("没有找到能接 W-0001 的志愿者")

    xiaoli = sim.person("小李")
    await approved_volunteers(story_db, [xiaoli], skills=("free_clinic",))
    async with story_db.write() as conn:
        await store.move_wish(
            conn, clinic.id, "open", "cancelled", actor_id=await person_id(conn, alice), now=START_TIME
        )
    await zhou.send_command("/whistle", f"W-{clinic.ref_no:04d}")
    await zhou.wait_for_text("现在的状态是：已取消")
    async with story_db.read() as conn:
        assert (await conn.execute(select(whistles))).all() == []
    await sim.settle()
    assert not any("中心吹哨" in (m.text or "") for m in sim.sent_to(xiaoli.user_id))
    # A done wish waits for its resident's confirmation, not the coordinator's.
    async with story_db.write() as conn:
        volunteer = await person_id(conn, xiaoli)
        changes = {"claimed_by": volunteer, "claimed_at": START_TIME}
        await store.move_wish(conn, first.id, "open", "claimed", actor_id=volunteer, now=START_TIME, changes=changes)
        await store.move_wish(conn, first.id, "claimed", "done", actor_id=volunteer, now=START_TIME)
    await zhou.send_command("/whistle", "W-0001")
    refused = await zhou.wait_for_text("现在的状态是：志愿者已完成，等待发起人确认")
    assert "等您确认" not in (refused.text or "")
