"""The volunteer's journey, one story on every channel: 小李 registers through a coordinator's invite, finds a wish
in 任务, claims it, finishes it with hours and a proof photo, and sees the hours once the resident (on the other
channel) confirms; 小赵, who only looked, never sees the resident's phone or address."""

from __future__ import annotations

import pytest

from rules.roles import Role
from storage import media, users, volunteers
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.journeys.people import INDIRECT, JOURNEY, Town, journey_runs, volunteer_invite
from tests.stories.wishflow import ADDRESS

HOME = (39.9011, 116.4012)
PHONE = "13800001234"


@pytest.mark.parametrize(JOURNEY, journey_runs(telegram_on="postgresql"), indirect=INDIRECT)
async def test_a_volunteer_registers_by_invite_claims_finishes_and_sees_the_hours(town: Town) -> None:
    db = town.env.db
    admin = town.sim.person("李主任", user_id=ADMIN_ID)
    invite = await volunteer_invite(admin)
    wang = town.person("王阿姨", on=town.other)
    await wang.say("你好")  # she has written to the bot (on WeChat, that opens the window for its notices)
    await wang.sees("您好")
    wish = await town.given_wish(wang, phone=PHONE)

    # 小李 opens the invite and fills in the profile; the invite approves her at once.
    xiaoli = town.person("小李")
    await xiaoli.open_invite(invite)
    await xiaoli.sees("欢迎加入志愿者队伍")
    await xiaoli.sees("请输入您希望显示的姓名")
    await xiaoli.say("李小梅")
    await xiaoli.sees("留个电话")
    await xiaoli.say("跳过")
    await xiaoli.sees("您能提供哪些服务")
    await xiaoli.choose("助老助残")
    await xiaoli.sees("✅ 助老助残")
    await xiaoli.choose("选好了")
    await xiaoli.sees("哪个镇")
    await xiaoli.choose("东城社区")
    await xiaoli.sees("分享一下您的位置")
    await xiaoli.send_location(*HOME, "幸福路")
    await xiaoli.sees("欢迎成为志愿者")
    async with db.read() as conn:
        person = await users.get_user(conn, await xiaoli.person_id(db))
        profile = await volunteers.get_volunteer(conn, person.id)
    assert Role.VOLUNTEER.value in person.roles
    assert (profile.name, profile.phone, profile.area) == ("李小梅", None, "东城社区")
    assert profile.skills == frozenset({"elderly_disabled"})
    assert (profile.latitude, profile.longitude) == HOME

    # Another volunteer looks at the same list and does not claim.
    xiaozhao = await town.volunteer("小赵")
    await xiaozhao.menu("tasks")
    await xiaozhao.sees("W-0001", "助老助残", "东城社区", "已等待")

    # 任务 lists the wish; she claims it for today and sees the resident's address and phone while it is hers.
    await xiaoli.menu("tasks")
    listed = await xiaoli.sees("W-0001")
    assert PHONE not in listed.screen
    await xiaoli.choose("W-0001")
    await xiaoli.sees("什么时候")
    await xiaoli.choose("今天认领")
    await xiaoli.sees("您认领了 W-0001")
    await wang.sees("志愿者 李小梅 认领了您的心愿 W-0001")
    await xiaoli.sees(ADDRESS, PHONE)
    async with db.read() as conn:
        claimed = await store.get_wish(conn, wish.id)
    assert (claimed.status, claimed.claimed_by) == ("claimed", await xiaoli.person_id(db))

    # Done from 我的任务: 2 hours, a proof photo, no note.
    await xiaoli.menu("mytasks")
    await xiaoli.choose("W-0001")
    await xiaoli.choose("完成了")
    await xiaoli.sees("用了多长时间")
    await xiaoli.choose("2 小时")
    await xiaoli.sees("完成后的照片")
    await xiaoli.send_photo(b"\xff\xd8\xff\xe0 the groceries put away")
    await xiaoli.sees("留句话")
    await xiaoli.choose("跳过")
    await xiaoli.sees("辛苦了")

    # 王阿姨 sees his proof photo, confirms and gives 5 stars; 小李's hours count from then on.
    asked = await wang.sees("志愿者 李小梅 说您的心愿 W-0001 已经办好了")  # the name she registered with
    assert "留言" not in asked.text  # no note was left: no "留言：—" line
    assert await wang.sees_photo() == b"\xff\xd8\xff\xe0 the groceries put away"
    await wang.choose("已完成，谢谢！")
    await wang.sees("打分")
    await wang.choose("5")
    await wang.sees("谢谢您的评价")
    await xiaoli.sees("2 小时已计入")
    await xiaoli.menu("hours")
    await xiaoli.sees("累计服务 2 小时", "排名第 1")

    async with db.read() as conn:
        done = await store.get_wish(conn, wish.id)
    assert (done.status, done.hours, done.rating, done.done_note) == ("confirmed", 2.0, 5, None)
    assert done.proof_media_id is not None
    async with db.read() as conn:  # shown on Telegram (taken there, or uploaded once): its reference is kept
        assert await media.file_ref(conn, done.proof_media_id, "telegram")
    # The volunteer who only looked never saw her phone number or her address.
    seen = xiaozhao.everything_seen()
    assert PHONE not in seen
    assert "幸福路" not in seen
