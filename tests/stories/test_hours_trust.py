"""Hours people can trust. The attack: a team leader certified 24 hours for himself on a 30-minute activity he never
checked in to (48 presses of +½ on his own line, then Confirm all), and got a certificate for 29 hours; a volunteer
2 km away checked in with the venue's forwarded pin.

Now nobody corrects, enters or confirms their own hours; hours without a check-in are entered after the fact (补录)
only with a reason, audited, at most the planned length; hours count no further than the planned end unless a
coordinator extends it with a reason; and a check-in's location must be sent now, from where the person is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from actions import activities as activity_actions
from actions import projects as project_actions
from actions.buttons import Act
from bot.app import TongxinApp
from channels.telegram import callbacks
from core.clock import ManualClock
from rules.roles import Role
from rules.wishes import Actor
from simulator import BotApiSimulator, Person
from storage import activities as activity_store
from storage import staff
from storage.activities import NewActivity
from tests.conftest import ADMIN_ID
from tests.stories.test_activities import qr_code, shanghai
from tests.stories.wishflow import approved_volunteers, person_id

# Both databases: the sums and the audit are SQL.
pytestmark = pytest.mark.both_databases

COORDINATOR = frozenset({Role.RESIDENT, Role.ADMIN})
VOLUNTEER = frozenset({Role.RESIDENT, Role.VOLUNTEER})
PLACE = (30.2741, 120.1551)
NEAR = (30.2745, 120.1555)
FAR = (30.2900, 120.1700)  # about 2 km away


async def a_leaders_half_hour_activity(bot: TongxinApp, admin_id: int, leader_id: int) -> int:
    """A team led by the leader, its project, and a 30-minute activity the leader organizes (at the station)."""
    env = bot.bot_data.env
    admin = Actor(admin_id, COORDINATOR)
    team = await project_actions.create_team(env, admin, "东城服务队", leader_id)
    project = await project_actions.create_project(env, admin, "文明实践进社区", "", ("elderly_disabled",), team.id)
    activity, _ = await activity_actions.create(
        env,
        Actor(leader_id, VOLUNTEER),
        NewActivity(
            project_id=project.id,
            team_id=team.id,
            title="社区助老",
            starts_at=shanghai(27, 9).astimezone(dt.UTC),
            duration_minutes=30,
            place="东城社区服务站",
            location=PLACE,
            headcount=5,
            skills=("elderly_disabled",),
            notes="",
        ),
    )
    return activity.id


@dataclass
class Cast:
    """The admin, a team leader who organizes the activity, a volunteer, their person ids and the activity."""

    admin: Person
    leader: Person
    xiaoli: Person
    admin_id: int
    leader_id: int
    li: int
    activity_id: int


async def cast_of(bot: TongxinApp, sim: BotApiSimulator) -> Cast:
    db = bot.bot_data.db
    admin, leader, xiaoli = sim.person("李主任", user_id=ADMIN_ID), sim.person("队长老周"), sim.person("小李")
    await admin.send_command("/start")
    await admin.next_message()
    await approved_volunteers(db, [leader, xiaoli])
    admin_id, leader_id, li = [await person_id(db, p) for p in (admin, leader, xiaoli)]
    activity_id = await a_leaders_half_hour_activity(bot, admin_id, leader_id)
    return Cast(admin, leader, xiaoli, admin_id, leader_id, li, activity_id)


async def test_a_team_leader_cannot_certify_his_own_hours(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env, db = bot.bot_data.env, bot.bot_data.db
    cast = await cast_of(bot, sim)
    leader, xiaoli, leader_id, li, activity_id = cast.leader, cast.xiaoli, cast.leader_id, cast.li, cast.activity_id
    for person in (leader_id, li):
        await activity_actions.sign_up(env, Actor(person, VOLUNTEER), activity_id)
    clock.set(shanghai(27, 10))  # it is over; neither of them checked in

    # His own line has no buttons; a press made anyway (a forged one) is refused, and so is 补录 for himself.
    roster = await activity_actions.roster(env, Actor(leader_id, VOLUNTEER), activity_id)
    own = next(s for s in roster.people if s.user_id == leader_id)
    await qr_code(leader)  # the organizer's check-in screen, with the list
    await leader.press("📋 A-0001 名单与时长")
    shown = await leader.wait_for_text("📋 A-0001 社区助老")
    assert [row for row in shown.inline_buttons if row[0].startswith("1.")] == []  # line 1 is his own
    sim.callback_query(leader, shown, callbacks.encode(Act.ROSTER_MORE, own.id))
    await leader.wait_for(lambda: any("不能修改、补录或确认自己的时长" in a for a in leader.callback_answers))
    await leader.send_command("/addhours", f"A-0001 P-{leader_id} 24 我全程都在")
    await leader.wait_for_text("不能修改、补录或确认自己的时长")

    # 小李 never checked in: +½ is refused; 补录 needs a reason, and is capped at the planned half hour.
    await leader.press("2. +½", message=shown)
    await leader.wait_for(lambda: any("没有签到记录" in a for a in leader.callback_answers))
    await leader.send_command("/addhours", f"A-0001 {xiaoli.user_id} 24")
    await leader.wait_for_text("请写明原因")
    await leader.send_command("/addhours", f"A-0001 {xiaoli.user_id} 24 手机没电没能签到，现场有照片")
    await leader.wait_for_text("小李 — 未签到 — 0.5 小时")

    # He confirms: 小李's hours, not his own; those wait for another organizer or a coordinator.
    confirmed = await activity_actions.confirm(env, Actor(leader_id, VOLUNTEER), activity_id)
    assert {s.user_id: s.confirmed_at is not None for s in confirmed.people} == {leader_id: False, li: True}
    async with db.read() as conn:
        signups = {s.user_id: s for s in await activity_store.signups_of(conn, activity_id)}
        audit = [(e.action, e.detail) for e in await staff.recent_audit(conn, 20)]
    assert signups[li].hours == 0.5
    assert signups[leader_id].hours is None
    assert ("activity.hours_recorded", f"P-{li} 0.5: 手机没电没能签到，现场有照片") in audit
    # A coordinator confirms the rest: he never checked in and entered nothing, so he is a no-show; no certificate.
    await activity_actions.confirm(env, Actor(cast.admin_id, COORDINATOR), activity_id)
    async with db.read() as conn:
        mine = next(s for s in await activity_store.signups_of(conn, activity_id) if s.user_id == leader_id)
    assert (mine.no_show, mine.hours) == (True, None)
    await leader.send_command("/certificate")
    await leader.wait_for_text("还没有经过确认的服务时长")


async def test_a_check_in_needs_a_location_sent_now_and_hours_stop_at_the_planned_end(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env, db = bot.bot_data.env, bot.bot_data.db
    cast = await cast_of(bot, sim)
    admin, leader, xiaoli, li, activity_id = cast.admin, cast.leader, cast.xiaoli, cast.li, cast.activity_id
    await activity_actions.sign_up(env, Actor(li, VOLUNTEER), activity_id)

    clock.set(shanghai(27, 8, 55))
    code = await qr_code(leader)
    await xiaoli.send_command("/checkin", code)
    await xiaoli.wait_for_text("请发送您现在的位置")
    # From 2 km away: the venue picked from the map's list, the organizer's pin forwarded, an old pin forwarded.
    for send in (
        lambda: xiaoli.send_venue(*PLACE, "东城社区服务站"),
        lambda: xiaoli.forward_location(*PLACE, from_person=leader, sent_at=int(clock.now().timestamp())),
    ):
        seen = len(xiaoli.messages)
        await send()
        await xiaoli.wait_for(lambda seen=seen: len(xiaoli.messages) > seen, what="the refusal")
        assert "转发的位置、从列表选的地点" in (xiaoli.messages[-1].text or "")
    async with db.read() as conn:
        assert (await activity_store.find_signup(conn, activity_id, li)).checked_in_at is None  # type: ignore[union-attr]
    xiaoli.location = NEAR
    await xiaoli.press_reply_button("📍 发送我的位置")
    await xiaoli.wait_for_text("签到成功")

    # She checks out at 10:30, an hour after the planned end: the half hour counts, not the two.
    clock.set(shanghai(27, 10, 30))
    code = await qr_code(leader)
    await xiaoli.send_command("/checkin", code)
    await xiaoli.wait_for_text("请发送您现在的位置")
    await xiaoli.press_reply_button("📍 发送我的位置")
    assert "本次时长 0.5 小时" in ((await xiaoli.wait_for_text("签退成功")).text or "")
    # Past the end counts only once a coordinator extends it, with a reason; a team leader may not.
    await leader.send_command("/extend", "A-0001 1 活动延长了")
    await leader.wait_for_text("没有权限")
    await admin.send_command("/extend", "A-0001 1")
    await admin.wait_for_text("请写明原因")
    await admin.send_command("/extend", "A-0001 1 老人多，服务延长一小时")
    await admin.wait_for_text("延长 1 小时")
    async with db.read() as conn:
        activity = await activity_store.get_activity(conn, activity_id)
        audit = [(e.action, e.detail) for e in await staff.recent_audit(conn, 5)]
    assert (activity.extended_minutes, activity.extension_reason) == (60, "老人多，服务延长一小时")
    assert ("activity.extend", "1: 老人多，服务延长一小时") in audit
