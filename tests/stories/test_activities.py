"""Stories of projects, teams and activities: a coordinator sets up a team and a project and plans an activity;
volunteers sign up (one waits, moves up when another cancels), are reminded the day before and an hour before,
check in and out on the spot by the QR's deep link or a typed code (refused when too far away or with an expired
code), the organizer corrects and confirms the hours, photos reach the editors as one lead, and a volunteer gets
a certificate PDF (verified in tests/journeys/test_activities.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from scheduler import sweep
from simulator import BotApiSimulator, Person
from storage import activities as activity_store
from storage import outbox
from storage.schema import signups
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import approved_volunteers, wait_for_button

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The activity's place, and two spots: 100 m away (inside the 500 m radius) and about 2.2 km away.
PLACE = (26.6470, 106.6300)
NEAR = (26.6479, 106.6300)
FAR = (26.6670, 106.6300)


def shanghai(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def having(person: Person, text: str) -> list[str]:
    """The texts of the bot's messages to the person containing `text`."""
    return [m.text or "" for m in person.messages if text in (m.text or "")]


async def delivered(bot: TongxinApp, sim: BotApiSimulator) -> None:
    """Until the outbox holds nothing pending or on the wire."""
    while True:
        await sim.settle(quiet=0.05)
        async with bot.bot_data.db.read() as conn:
            counts = await outbox.count_by_status(conn)
        if not counts.get("pending") and not counts.get("sending"):
            return
        answered = len(sim.records)
        await sim.wait_until(lambda n=answered: len(sim.records) > n, timeout=10, what=f"the sender ({counts})")


async def sweep_at(bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, moment: dt.datetime) -> None:
    """Move the clock, sweep twice (as a restart would), and let the sender deliver what is due."""
    clock.set(moment)
    await sweep.run_once(bot)
    await sweep.run_once(bot)
    await delivered(bot, sim)


async def set_up_team_and_project(admin: Person) -> str:
    """The admin (a coordinator) creates the team 戎耀西秀 and the project 好邻居; returns the team's link payload."""
    await admin.send_command("/start")
    await admin.next_message()
    await admin.send_command("/newteam", "戎耀西秀")
    created = await admin.wait_for_text("已新建服务队")
    match = re.search(r"start=(team_\S+)", created.text or "")
    assert match is not None
    await admin.send_command("/newproject", "好邻居", "|", "社区助老服务", "|", "助老助残", "|", "戎耀西秀")
    await admin.wait_for_text("已新建项目")
    return match.group(1)


async def plan_activity(admin: Person, *, headcount: str = "2") -> None:
    """/newactivity through every step: project, title, Saturday 09:30, 2 hours, place and its location, …"""
    admin.location = PLACE
    await admin.send_command("/newactivity")
    await admin.wait_for_text("属于哪个项目")
    await admin.press("好邻居")
    await admin.wait_for_text("活动名称")
    await admin.send_text("敬老院义诊")
    await admin.wait_for_text("什么时候开始")
    await admin.send_text("11-28 09:30")
    await admin.wait_for_text("多长时间")
    await admin.send_text("2")
    await admin.wait_for_text("在哪里")
    await admin.send_text("幸福里敬老院")
    await admin.wait_for_text("发送活动地点的位置")
    await admin.press_reply_button("📍 发送地点位置")
    await admin.wait_for_text("需要多少名志愿者")
    await admin.send_text(headcount)
    await admin.wait_for_text("哪个镇（社区）")
    await admin.press("东城社区")
    await admin.wait_for_text("需要哪些方面")
    await admin.press("助老助残")
    await wait_for_button(admin, "✅ 助老助残")
    await admin.press("选好了")
    await admin.wait_for_text("还有什么要告诉")
    await admin.press("跳过")
    await admin.wait_for_text("请确认活动信息")
    await admin.press("📣 发布")


async def check_code(person: Person, code: str, *, where: tuple[float, float], by_link: bool) -> str:
    """The volunteer opens the QR's link (or types the code) and shares a location; returns the answer."""
    seen = len(person.messages)
    if by_link:
        await person.send_command("/start", f"ck_{code}")
    else:
        await person.send_command("/checkin", code)
    await person.wait_for_text("请发送您现在的位置")
    person.location = where
    await person.press_reply_button("📍 发送我的位置")
    await person.wait_for(lambda: len(person.messages) > seen + 1, what="the check-in answer")
    return person.messages[-1].text or ""


async def qr_code(admin: Person, *, press_new: bool = False) -> str:
    """The organizer's /checkin (or 🔄 New code): the QR image arrives; returns the code in its caption."""
    seen = len([m for m in admin.messages if m.kind == "photo"])
    if press_new:
        await admin.press("🔄 换新码")
    else:
        await admin.send_command("/checkin")
    await admin.wait_for(lambda: len([m for m in admin.messages if m.kind == "photo"]) > seen, what="the QR image")
    qr = [m for m in admin.messages if m.kind == "photo"][-1]
    assert qr.photo_bytes is not None
    assert qr.photo_bytes.startswith(b"\x89PNG")
    match = re.search(r"start=ck_(\d{6})", qr.text or "")
    assert match is not None, qr.text
    return match.group(1)


def pdf_text(pdf: Path) -> str:
    """The PDF's text as `pdftotext` (poppler-utils) reads it."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None, "the certificate test needs poppler-utils (pdftotext)"
    return subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, check=True, text=True).stdout


async def test_the_whole_activity_loop_from_team_to_certificate(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, tmp_path: Path
) -> None:
    db = bot.bot_data.db
    admin = sim.person("李主任", user_id=ADMIN_ID)
    xiaoli, wang, zhao = sim.person("小李"), sim.person("王师傅"), sim.person("赵姐")
    await approved_volunteers(db, [xiaoli, wang, zhao])
    payload = await set_up_team_and_project(admin)

    # 小李 follows the team's invite link; 王师傅 asks from /teams and the leader approves.
    await xiaoli.send_command("/start", payload)
    await xiaoli.wait_for_text("欢迎加入服务队")
    await wang.send_command("/teams")
    await wang.wait_for_text("戎耀西秀")
    await wang.press("申请加入 戎耀西秀")
    await wang.wait_for(lambda: any("已向" in a for a in wang.callback_answers), what="the request answer")
    await delivered(bot, sim)
    await admin.wait_for_text("申请加入服务队")
    await admin.press("✅ 同意")
    await delivered(bot, sim)
    await wang.wait_for_text("您已加入服务队")

    # The activity: two places; every matching volunteer is invited.
    await plan_activity(admin)
    await admin.wait_for_text("活动 A-0001 已发布，已邀请 3 位志愿者")
    await delivered(bot, sim)
    for volunteer in (xiaoli, wang, zhao):
        await volunteer.wait_for_text("新的志愿活动 A-0001")

    # Two take the places, the third waits; 王师傅 cancels and 赵姐 moves up and is told.
    await xiaoli.press("🙋 报名")
    await xiaoli.wait_for_text("报名成功")
    # The invitation no longer offers 报名 for what she signed up to (issue 27, item 7): it offers to cancel.
    invitation = next(m for m in xiaoli.messages if "新的志愿活动 A-0001" in (m.text or ""))
    assert invitation.inline_buttons == [["取消报名 A-0001"]]
    await wang.press("🙋 报名")
    await wang.wait_for_text("报名成功")
    await zhao.press("🙋 报名")
    await zhao.wait_for_text("候补名单")
    await wang.send_command("/activities")
    await wang.wait_for_text("您已报名")
    await wang.press("取消报名 A-0001")
    await wang.wait_for_text("已取消 A-0001 的报名")
    await delivered(bot, sim)
    await zhao.wait_for_text("已从候补递补")

    # Reminders at 18:00 the day before and at 08:30, to those holding a place only.
    await sweep_at(bot, sim, clock, shanghai(27, 17, 59))
    assert having(xiaoli, "志愿活动提醒") == []
    await sweep_at(bot, sim, clock, shanghai(27, 18, 0))
    assert len(having(xiaoli, "志愿活动提醒")) == 1
    assert len(having(zhao, "志愿活动提醒")) == 1
    assert having(wang, "志愿活动提醒") == []
    await sweep_at(bot, sim, clock, shanghai(28, 8, 29))
    assert having(xiaoli, "09:30 开始") == []
    # The bot was down from 08:29 to 09:06: the hour-before reminder arrives 24 minutes before the start and
    # names the start's time instead of claiming "in an hour".
    await sweep_at(bot, sim, clock, shanghai(28, 9, 6))
    await sweep_at(bot, sim, clock, shanghai(28, 9, 10))
    for volunteer in (xiaoli, zhao):
        (reminder,) = having(volunteer, "09:30 开始")
        assert reminder.startswith("⏰ 09:30 开始：A-0001")
        assert "小时后" not in reminder
    assert len(having(xiaoli, "志愿活动提醒")) == 1

    # On the spot: 小李 scans the QR (its deep link) from 2 km away and is refused, then from the gate.
    clock.set(shanghai(28, 9, 25))
    code = await qr_code(admin)
    assert "您离活动地点约" in await check_code(xiaoli, code, where=FAR, by_link=True)
    assert "签到成功" in await check_code(xiaoli, code, where=NEAR, by_link=True)
    # 赵姐 types the code eleven minutes later: expired; with the new one she is in.
    clock.set(shanghai(28, 9, 36))
    assert "已过期" in await check_code(zhao, code, where=NEAR, by_link=False)
    code = await qr_code(admin, press_new=True)
    assert "签到成功" in await check_code(zhao, code, where=NEAR, by_link=False)

    # Check-out at 11:40; hours count from the 09:30 start to the planned 11:30 end: 2 hours, and 1 h 54 min for
    # 赵姐 (she came at 09:36), rounded down to 1.5 hours.
    clock.set(shanghai(28, 11, 40))
    code = await qr_code(admin)
    assert "本次时长 2 小时" in await check_code(xiaoli, code, where=NEAR, by_link=True)
    assert "本次时长 1.5 小时" in await check_code(zhao, code, where=NEAR, by_link=False)

    # 赵姐 stayed to tidy up: past the planned end, that counts only once a coordinator extends the activity, with
    # a reason; then the organizer gives her half an hour more and confirms everyone's hours.
    await admin.press("📋 A-0001 名单与时长")
    await admin.wait_for_text("📋 A-0001 敬老院义诊")
    await admin.press("2. +½")
    await admin.wait_for(lambda: any("计划结束时间" in a for a in admin.callback_answers), what="the cap explained")
    await admin.send_command("/extend", "A-0001 0.5 赵姐留下整理场地")
    await admin.wait_for_text("时长可计算到 11-28 12:00（延长 0.5 小时）")
    await admin.press("📋 A-0001 名单与时长")
    roster = await admin.wait_for_text("赵姐 — 09:36 签到")
    await admin.press("2. +½", message=roster)
    await admin.wait_for_text("赵姐 — 09:36 签到，11:40 签退 — 2 小时")
    await admin.press("✅ 确认全部时长")
    await admin.wait_for_text("时长已确认")
    await delivered(bot, sim)
    assert "服务时长：2 小时" in (await xiaoli.wait_for_text("组织者已确认")).text
    assert "服务时长：2 小时" in (await zhao.wait_for_text("组织者已确认")).text
    async with db.read() as conn:
        activity = await activity_store.get_activity_by_ref(conn, 1)
        assert activity.status == "held"
        kinds = await activity_store.event_kinds(conn, activity.id)
        rows = (await conn.execute(signups.select().order_by(signups.c.id))).all()
    assert kinds[:4] == ["created", "signed_up", "signed_up", "waitlisted"]
    assert {"cancelled", "promoted", "checked_in", "checked_out", "hours_corrected", "confirmed"} <= set(kinds)
    assert [(r.status, r.hours) for r in rows] == [("signed_up", 2.0), ("cancelled", None), ("signed_up", 2.0)]

    # /stats counts it next to the wishes: one project run, one activity held, two people, 4.5 verified hours.
    await admin.send_command("/stats")
    figures = await admin.wait_for_text("志愿活动：")
    assert "项目 1 个 · 举办 1 场 · 参与 2 人 · 核实时长 4 小时（心愿自报 0 小时）" in (figures.text or "")

    # Photos from the activity reach the editors as one lead, with 小李's consent.
    await xiaoli.press("📷 发送活动照片")
    await xiaoli.wait_for_text("现场照片")
    await xiaoli.send_photo(b"\x89PNG activity photo")
    await xiaoli.wait_for_text("收到第 1 张")
    await xiaoli.press("发完了")
    await xiaoli.wait_for_text("同意把这 1 张照片")
    await xiaoli.press("同意")
    await xiaoli.wait_for_text("照片已交给融媒体中心")
    await delivered(bot, sim)
    await admin.wait_for_text("来自活动 A-0001")

    # 小李's certificate: a PDF with her name, hours and number (its verification, by code and by the QR's link, is
    # the volunteer's activities journey: tests/journeys/test_activities.py).
    await xiaoli.send_command("/certificate")
    # A PDF with CJK fonts: seconds of CPU on a loaded 2-core machine, hence the longer wait.
    await xiaoli.wait_for(
        lambda: any(m.kind == "document" for m in xiaoli.messages), timeout=20, what="the certificate"
    )
    document = next(m for m in xiaoli.messages if m.kind == "document")
    assert document.document_bytes is not None
    assert document.document_bytes.startswith(b"%PDF")
    number = re.search(r"TX-2026-\d{6}", document.text or "")
    assert number is not None, document.text
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(document.document_bytes)
    # poppler-utils (Debian) reads the PDF back as text: the embedded font maps back to the Chinese characters.
    text = await asyncio.to_thread(pdf_text, pdf)
    assert "小李" in text
    assert "2 小时" in text
    assert number.group(0) in text
    assert "志愿服务记录证明" in text


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Defaults, stated: quiet hours 22:00–08:00, codes valid for 10 minutes, a 500 m radius."""
    return {"checkin_code_minutes": 10, "checkin_radius_m": 500, "checkin_round_minutes": 30}
