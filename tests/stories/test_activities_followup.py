"""Follow-up stories of activities (issue 14): the hours a volunteer sees in /hours, /top and /export agree
with the certificate; an organizer moves an activity (everyone on it is told, reminders follow the new time)
and cancels it (everyone is told, invitations and reminders not yet sent are dropped); a team leader's menu
has the organizer's commands; the check-in QR image decodes to the deep link."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import zxingcpp
from PIL import Image
from sqlalchemy import select

from actions import activities as activity_actions
from actions import projects as project_actions
from actions.env import Env
from bot.app import TongxinApp
from core.clock import ManualClock
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import Actor
from simulator import BotApiSimulator, Person
from storage.activities import NewActivity
from storage.schema import outbox
from tests.conftest import ADMIN_ID
from tests.stories.test_activities import delivered, having, qr_code, shanghai, sweep_at
from tests.stories.wishflow import approved_volunteers, open_wish, person_id

COORDINATOR = frozenset({Role.RESIDENT, Role.ADMIN})
VOLUNTEER = frozenset({Role.RESIDENT, Role.VOLUNTEER})


async def an_activity(
    env: Env, admin: int, *, starts: dt.datetime, headcount: int = 2, location: tuple[float, float] | None = None
) -> int:
    """Given a team, a project and a published activity (set up through the actions, not replayed), at `location`
    when the check-in asks for one."""
    actor = Actor(admin, COORDINATOR)
    team = await project_actions.create_team(env, actor, f"东城队{starts:%d%H}", admin)
    project = await project_actions.create_project(
        env, actor, f"文明实践{starts:%d%H}", "", ("elderly_disabled",), team.id
    )
    activity, _ = await activity_actions.create(
        env,
        actor,
        NewActivity(
            project_id=project.id,
            team_id=None,
            title="敬老院助老服务",
            starts_at=starts.astimezone(dt.UTC),
            duration_minutes=120,
            place="幸福里敬老院",
            location=location,
            headcount=headcount,
            skills=("elderly_disabled",),
            notes="",
            area=None,
        ),
    )
    return activity.id


async def start_as_admin(sim: BotApiSimulator, bot: TongxinApp) -> tuple[Person, int]:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.next_message()
    return admin, await person_id(bot.bot_data.db, admin)


async def test_activity_hours_count_in_hours_top_and_export_as_on_the_certificate(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env, db = bot.bot_data.env, bot.bot_data.db
    admin, admin_id = await start_as_admin(sim, bot)
    xiaoli, wang, resident = sim.person("小李"), sim.person("王师傅"), sim.person("张奶奶")
    await approved_volunteers(db, [xiaoli, wang])
    li, wang_id = await person_id(db, xiaoli), await person_id(db, wang)

    # 小李 checks in at 09:00 and out at 11:10 at an activity (2 hours, rounded down), confirmed by the organizer.
    activity_id = await an_activity(env, admin_id, starts=shanghai(27, 9))
    await activity_actions.sign_up(env, Actor(li, VOLUNTEER), activity_id)
    clock.set(shanghai(27, 8, 55))
    code = await activity_actions.show_code(env, Actor(admin_id, COORDINATOR), activity_id)
    await activity_actions.use_code(env, Actor(li, VOLUNTEER), code.code, None)
    clock.set(shanghai(27, 11, 10))
    code = await activity_actions.show_code(env, Actor(admin_id, COORDINATOR), activity_id)
    await activity_actions.use_code(env, Actor(li, VOLUNTEER), code.code, None)
    await activity_actions.confirm(env, Actor(admin_id, COORDINATOR), activity_id)
    # She also did a wish (1.5 hours, self-reported, confirmed by the resident); 王师傅 one of 3 hours.
    for volunteer, hours in ((li, 1.5), (wang_id, 3.0)):
        wish = await open_wish(db, resident)
        async with db.write() as conn:
            helper = Actor(volunteer, VOLUNTEER)
            now = clock.now()
            await lifecycle.claim_wish(conn, wish.id, actor=helper, now=now, due_at=now + dt.timedelta(days=1))
            await lifecycle.finish_wish(conn, wish.id, actor=helper, now=now, hours=hours)
            await lifecycle.confirm_wish(conn, wish.id, actor=Actor(wish.resident_id), now=now, rating=5)
    await delivered(bot, sim)

    # /hours: 3.5 hours in all, 2 of them verified by check-in; first this month (王师傅 has 3).
    await xiaoli.send_command("/hours")
    mine = (await xiaoli.wait_for_text("您累计服务")).text or ""
    assert "您累计服务 3.5 小时，完成 1 个任务。" in mine
    assert "其中活动签到核实 2 小时（1 场活动），心愿服务自报 1.5 小时。" in mine
    assert "本月 3.5 小时，排名第 1。" in mine
    # /top: the activity counts, and says so.
    await wang.send_command("/top")
    board = (await wang.wait_for_text("本月志愿服务排行")).text or ""
    assert "1. 小李 — 3.5 小时（1 个任务 · 1 场活动）" in board
    assert "2. 王师傅 — 3 小时（1 个任务）" in board
    # /export hours: the same figures, with the verified part in its own column.
    await admin.send_command("/export", "hours", "2026-11-01", "2026-11-30")
    await admin.wait_for(lambda: any(m.kind == "document" for m in admin.messages), what="the CSV")
    document = next(m for m in admin.messages if m.kind == "document")
    assert document.document_bytes is not None
    rows = list(csv.DictReader(io.StringIO(document.document_bytes.decode("utf-8-sig"))))
    assert [(r["name"], r["tasks"], r["activities"], float(r["hours"]), float(r["verified_hours"])) for r in rows] == [
        ("小李", "1", "1", 3.5, 2.0),
        ("王师傅", "1", "0", 3.0, 0.0),
    ]
    # The certificate says the same 3.5 hours.
    await xiaoli.send_command("/certificate")
    # A PDF with CJK fonts: seconds of CPU on a loaded 2-core machine, hence the longer wait.
    await xiaoli.wait_for(
        lambda: any(m.kind == "document" for m in xiaoli.messages), timeout=20, what="the certificate"
    )
    certificate = next(m for m in xiaoli.messages if m.kind == "document")
    assert "核实 2 小时，自报 1.5 小时" in (certificate.text or "")


async def test_an_organizer_moves_then_cancels_an_activity_and_everyone_on_it_is_told(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env, db = bot.bot_data.env, bot.bot_data.db
    admin, admin_id = await start_as_admin(sim, bot)
    xiaoli, wang, zhao = sim.person("小李"), sim.person("王师傅"), sim.person("赵姐")
    await approved_volunteers(db, [xiaoli, wang, zhao])
    await an_activity(env, admin_id, starts=shanghai(28, 9, 30))
    await delivered(bot, sim)
    for volunteer, answer in ((xiaoli, "报名成功"), (wang, "报名成功"), (zhao, "候补名单")):
        await volunteer.wait_for_text("新的志愿活动 A-0001")
        await volunteer.press("🙋 报名")
        await volunteer.wait_for_text(answer)

    # The day-before reminder goes out for Saturday 09:30.
    await sweep_at(bot, sim, clock, shanghai(27, 18, 0))
    assert len(having(xiaoli, "志愿活动提醒")) == 1

    # Someone not organizing it cannot move it; the organizer moves it to Sunday 14:00.
    await wang.send_command("/editactivity", "A-0001", "地点", "社区活动中心")
    await wang.wait_for_text("没有权限")
    await admin.send_command("/editactivity", "A-0001")
    await admin.wait_for_text("用法")
    await admin.send_command("/editactivity", "A-0001", "时间", "11-29", "14:00")
    done = await admin.wait_for_text("已改为")
    assert "2026-11-29 14:00" in (done.text or "")
    assert "已通知 3 位" in (done.text or "")
    await delivered(bot, sim)
    for volunteer in (xiaoli, wang, zhao):
        moved = (await volunteer.wait_for_text("活动有变")).text or ""
        assert "时间：2026-11-29 14:00（原 2026-11-28 09:30）" in moved

    # Reminders follow the new time: none on Saturday morning, a new day-before one on Saturday at 18:00.
    await sweep_at(bot, sim, clock, shanghai(28, 8, 45))
    assert having(xiaoli, "开始：A-0001") == []
    await sweep_at(bot, sim, clock, shanghai(28, 18, 0))
    again = having(xiaoli, "志愿活动提醒")
    assert len(again) == 2
    assert "2026-11-29 14:00" in again[-1]
    assert having(zhao, "志愿活动提醒") == []  # still waiting: no reminder

    # Rain: the organizer cancels on Sunday morning; the three are told at once (urgent), with the reason.
    clock.set(shanghai(29, 9, 0))
    await admin.send_command("/cancelactivity", "A-0001")
    await admin.wait_for_text("用法")
    await admin.send_command("/cancelactivity", "A-0001", "暴雨预警，改期另行通知")
    assert "已通知 3 位" in ((await admin.wait_for_text("已取消")).text or "")
    await delivered(bot, sim)
    for volunteer in (xiaoli, wang, zhao):
        off = (await volunteer.wait_for_text("活动取消")).text or ""
        assert "原因：暴雨预警，改期另行通知" in off
    # Nothing more about it: no hour-before reminder, not in /activities, and it cannot be cancelled twice.
    await sweep_at(bot, sim, clock, shanghai(29, 13, 15))
    assert having(xiaoli, "开始：A-0001") == []
    await xiaoli.send_command("/activities")
    await xiaoli.wait_for_text("近期没有志愿活动")
    await admin.send_command("/cancelactivity", "A-0001", "再取消一次")
    await admin.wait_for_text("无法取消")


async def test_invitations_held_for_the_night_are_dropped_when_the_activity_is_cancelled(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env, db = bot.bot_data.env, bot.bot_data.db
    admin, admin_id = await start_as_admin(sim, bot)
    xiaoli, wang = sim.person("小李"), sim.person("王师傅")
    await approved_volunteers(db, [xiaoli, wang])
    # Published at 23:00: the invitations wait for the morning (bulk lane, quiet hours).
    clock.set(shanghai(26, 23, 0))
    await an_activity(env, admin_id, starts=shanghai(29, 9, 30))
    await sim.settle(quiet=0.2)
    assert having(xiaoli, "新的志愿活动") == []
    await admin.send_command("/cancelactivity", "A-0001", "场地临时有变")
    assert "已通知 0 位" in ((await admin.wait_for_text("已取消")).text or "")
    # Morning: the sender drops them as superseded; nobody hears of it.
    await sweep_at(bot, sim, clock, shanghai(27, 8, 30))
    await sweep_at(bot, sim, clock, shanghai(27, 9, 0))
    assert having(xiaoli, "A-0001") == []
    assert having(wang, "A-0001") == []
    async with db.read() as conn:
        statuses = (
            await conn.execute(select(outbox.c.status).where(outbox.c.dedupe_key.like("activity:invite:%")))
        ).scalars()
        assert sorted(statuses) == ["superseded", "superseded"]


async def test_invitations_held_for_the_night_show_the_new_time_when_the_activity_is_moved(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env, db = bot.bot_data.env, bot.bot_data.db
    admin, admin_id = await start_as_admin(sim, bot)
    xiaoli = sim.person("小李")
    await approved_volunteers(db, [xiaoli])
    clock.set(shanghai(26, 23, 0))
    await an_activity(env, admin_id, starts=shanghai(29, 9, 30))
    await admin.send_command("/editactivity", "A-0001", "地点", "社区活动中心")
    await admin.wait_for_text("已改为")
    await sweep_at(bot, sim, clock, shanghai(27, 8, 30))
    await sweep_at(bot, sim, clock, shanghai(27, 9, 0))
    invitations = having(xiaoli, "新的志愿活动 A-0001")
    assert len(invitations) == 1
    assert "地点：社区活动中心" in invitations[0]


async def test_a_team_leader_sees_the_organizers_commands_in_the_menu(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    admin, _ = await start_as_admin(sim, bot)
    zhou = sim.person("小周")
    await approved_volunteers(db, [zhou])
    await zhou.send_command("/start")
    await zhou.next_message()
    assert "newactivity" not in menu_of(sim, zhou)
    await admin.send_command("/newteam", "东城志愿服务队", "|", str(await person_id(db, zhou)))
    await admin.wait_for_text("已新建服务队")
    await sim.settle(quiet=0.05)
    menu = menu_of(sim, zhou)
    assert {"newactivity", "checkin", "cancelactivity", "editactivity"} <= set(menu)
    assert "newproject" not in menu
    # The menu survives a /start (set_personal_menu also knows about teams), and /help lists them too.
    await zhou.send_command("/start")
    await zhou.next_message()
    assert "newactivity" in menu_of(sim, zhou)
    await zhou.send_command("/help")
    assert "/newactivity — 发布志愿活动" in ((await zhou.wait_for_text("/newactivity")).text or "")


def menu_of(sim: BotApiSimulator, person: Person) -> list[str]:
    return [c["command"] for c in sim.commands({"type": "chat", "chat_id": person.user_id})]


async def test_the_check_in_qr_image_decodes_to_the_deep_link(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = bot.bot_data.env
    admin, admin_id = await start_as_admin(sim, bot)
    await an_activity(env, admin_id, starts=shanghai(27, 9))
    clock.set(shanghai(27, 8, 50))
    code = await qr_code(admin)
    photo = [m for m in admin.messages if m.kind == "photo"][-1]
    assert photo.photo_bytes is not None
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(photo.photo_bytes)))
    assert [barcode.format for barcode in found] == [zxingcpp.BarcodeFormat.QRCode]
    link = found[0].text
    assert re.fullmatch(r"https://t\.me/\w+\?start=ck_\d{6}", link), link
    assert link.endswith(f"ck_{code}")
    assert link in (photo.text or "")  # the caption's link is the one in the image
