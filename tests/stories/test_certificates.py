"""A certificate people can trust: it is verified by its random code only (its number is printed on every certificate
and counts up, so a number lists nobody), and it tells the activity hours an organizer verified apart from the
micro-wish hours the volunteer reported."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

from actions import activities as activity_actions
from actions.env import Env
from bot.app import TongxinApp
from core.clock import ManualClock
from rules import wishes as lifecycle
from rules.wishes import Actor
from simulator import BotApiSimulator, Person
from tests.stories.test_activities import delivered, pdf_text, shanghai
from tests.stories.test_activities_followup import COORDINATOR, VOLUNTEER, an_activity, start_as_admin
from tests.stories.wishflow import approved_volunteers, open_wish, person_id


async def two_verified_hours(
    env: Env, clock: ManualClock, admin_id: int, volunteer_id: int, *, starts: dt.datetime
) -> None:
    """The volunteer signs up for a 2-hour activity, checks in five minutes before it starts and out ten minutes
    after it ends, and the organizer confirms: 2 verified hours."""
    activity_id = await an_activity(env, admin_id, starts=starts)
    await activity_actions.sign_up(env, Actor(volunteer_id, VOLUNTEER), activity_id)
    for at in (starts - dt.timedelta(minutes=5), starts + dt.timedelta(hours=2, minutes=10)):
        clock.set(at)
        code = await activity_actions.show_code(env, Actor(admin_id, COORDINATOR), activity_id)
        await activity_actions.use_code(env, Actor(volunteer_id, VOLUNTEER), code.code, None)
    await activity_actions.confirm(env, Actor(admin_id, COORDINATOR), activity_id)


async def two_hours_verified_and_one_and_a_half_reported(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, admin_id: int, volunteer: Person
) -> None:
    """The volunteer checks in and out of a 2-hour activity the organizer confirms, and does a wish of 1.5 hours."""
    env, db = bot.bot_data.env, bot.bot_data.db
    await approved_volunteers(db, [volunteer])
    li = await person_id(db, volunteer)
    await two_verified_hours(env, clock, admin_id, li, starts=shanghai(27, 9))
    wish = await open_wish(db, sim.person("张奶奶"))
    async with db.write() as conn:
        helper, now = Actor(li, VOLUNTEER), clock.now()
        await lifecycle.claim_wish(conn, wish.id, actor=helper, now=now, due_at=now + dt.timedelta(days=1))
        await lifecycle.finish_wish(conn, wish.id, actor=helper, now=now, hours=1.5)
        await lifecycle.confirm_wish(conn, wish.id, actor=Actor(wish.resident_id), now=now, rating=5)
    await delivered(bot, sim)


async def test_a_certificate_is_verified_by_its_code_only_and_tells_verified_from_reported_hours(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, tmp_path: Path
) -> None:
    _admin, admin_id = await start_as_admin(sim, bot)
    xiaoli = sim.person("小李")
    await two_hours_verified_and_one_and_a_half_reported(bot, sim, clock, admin_id, xiaoli)

    await xiaoli.send_command("/certificate")
    # A PDF with CJK fonts: seconds of CPU on a loaded 2-core machine, hence the longer wait.
    await xiaoli.wait_for(
        lambda: any(m.kind == "document" for m in xiaoli.messages), timeout=20, what="the certificate"
    )
    document = next(m for m in xiaoli.messages if m.kind == "document")
    caption = document.text or ""
    assert "核实 2 小时，自报 1.5 小时" in caption
    number = re.search(r"TX-2026-\d{6}", caption)
    code = re.search(r"核验码 ([A-Z0-9]{8})", caption)
    assert number is not None
    assert code is not None
    assert document.document_bytes is not None
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(document.document_bytes)
    text = "".join((await asyncio.to_thread(pdf_text, pdf)).split())
    assert "其中活动服务2小时，经签到签退记录和组织方核实" in text
    assert "心愿服务1.5小时，为志愿者自报、服务对象确认完成，未经组织方核实" in text
    assert "（自报）" in text
    assert "累计志愿服务时长" not in text  # no total claimed as verified

    # A visitor counting certificate numbers learns nothing, not even whether one exists.
    visitor = sim.person("访客")
    for guess in (number.group(0), "TX-2026-000002", "tx-2026-000001"):
        await visitor.send_command("/verify", guess)
        reply = await visitor.next_message()
        assert "证明编号人人可见，不能用来核验" in (reply.text or "")
        assert "小李" not in (reply.text or "")
    # The code shows the name as printed, the period and the two kinds of hours, apart; not the volunteer number.
    await visitor.send_command("/verify", code.group(1))
    verified = (await visitor.wait_for_text("证明有效")).text or ""
    assert "持有人：小李\n" in verified
    assert "经组织方核实的活动时长：2 小时" in verified
    assert "志愿者自报的心愿服务时长：1.5 小时（未经组织方核实）" in verified
    assert "志愿者编号" not in verified
