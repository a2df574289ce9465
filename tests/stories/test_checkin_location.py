"""Check-in on Telegram runs the check-in written once (`conversations.activities.CheckIn`, WeChat's too): a location
that does not say where the volunteer is now — a forwarded pin, a venue picked from the map's list — is refused and
asked for again, nothing recorded; her own location checks her in; 跳过 on the keyboard leaves without checking in."""

from __future__ import annotations

from actions import activities as activity_actions
from bot.app import TongxinApp
from core.clock import ManualClock
from rules.wishes import Actor
from simulator import BotApiSimulator
from storage import activities as activity_store
from tests.stories.test_activities import NEAR, PLACE, qr_code, shanghai
from tests.stories.test_activities_followup import VOLUNTEER, an_activity, start_as_admin
from tests.stories.wishflow import approved_volunteers, person_id


async def test_a_forwarded_pin_or_a_venue_does_not_check_in_her_own_location_does(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env, db = bot.bot_data.env, bot.bot_data.db
    admin, admin_id = await start_as_admin(sim, bot)
    xiaoli, zhao = sim.person("小李"), sim.person("赵姐")
    await approved_volunteers(db, [xiaoli, zhao])
    li = await person_id(db, xiaoli)
    activity_id = await an_activity(env, admin_id, starts=shanghai(27, 9), location=PLACE)
    await activity_actions.sign_up(env, Actor(li, VOLUNTEER), activity_id)
    clock.set(shanghai(27, 8, 50))
    code = await qr_code(admin)

    await xiaoli.send_command("/checkin", code)
    await xiaoli.wait_for_text("请发送您现在的位置")
    # 赵姐 sent the gate's pin to the group an hour ago; 小李 forwards it from 2 km away.
    seen = len(xiaoli.messages)
    sent_an_hour_ago = int(shanghai(27, 7, 50).timestamp())
    await xiaoli.forward_location(*NEAR, from_person=zhao, sent_at=sent_an_hour_ago)
    await xiaoli.wait_for(lambda: len(xiaoli.messages) > seen, what="the refusal")
    assert "转发的位置" in (xiaoli.messages[-1].text or "")
    seen = len(xiaoli.messages)
    await xiaoli.send_venue(*NEAR, "幸福里敬老院")
    await xiaoli.wait_for(lambda: len(xiaoli.messages) > seen, what="the refusal")
    assert "从列表选的地点" in (xiaoli.messages[-1].text or "")
    async with db.read() as conn:
        signup = await activity_store.find_signup(conn, activity_id, li)
    assert signup is not None
    assert signup.checked_in_at is None

    # Her own location, still in the same step: checked in.
    xiaoli.location = NEAR
    await xiaoli.press_reply_button("📍 发送我的位置")
    await xiaoli.wait_for_text("签到成功")
    async with db.read() as conn:
        signup = await activity_store.find_signup(conn, activity_id, li)
    assert signup is not None
    assert signup.checked_in_at == shanghai(27, 8, 50)

    # Asked for the location again later, 跳过 leaves: nothing is used, the keyboard goes.
    await xiaoli.send_command("/checkin", code)
    await xiaoli.wait_for_text("请发送您现在的位置")
    seen = len(xiaoli.messages)
    await xiaoli.press_reply_button("跳过")
    await xiaoli.wait_for(lambda: len(xiaoli.messages) > seen, what="the answer")
    assert "已取消" in (xiaoli.messages[-1].text or "")
