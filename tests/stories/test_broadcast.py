"""Stories of /broadcast: a coordinator picks an audience, writes, previews, confirms, and watches one
progress message count up to the final tally."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator, Person
from storage import users
from storage.db import Database
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import given_person

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases


async def enrol_volunteers(sim: BotApiSimulator, db: Database, clock: ManualClock, count: int) -> list[int]:
    """`count` volunteers who have talked to the bot before; returns their Telegram ids (their chats)."""
    volunteers = [sim.person(f"志愿者{i}") for i in range(count)]
    async with db.write() as conn:
        for volunteer in volunteers:
            person_id = await given_person(conn, volunteer)
            await users.grant_role(conn, person_id, "volunteer", granted_by=None, now=clock.now())
    return [volunteer.user_id for volunteer in volunteers]


async def coordinator_asked(sim: BotApiSimulator) -> Person:
    """The coordinator has sent /broadcast and been asked whom to send to."""
    coordinator = sim.person("李协调", user_id=ADMIN_ID)
    await coordinator.send_command("/broadcast")
    await coordinator.wait_for_text("要群发给谁")
    return coordinator


@pytest.mark.parametrize(("volunteers", "blocked"), [(200, 8), pytest.param(500, 20, marks=pytest.mark.slow)])
async def test_broadcast_to_many_volunteers_some_of_whom_blocked_the_bot(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock, volunteers: int, blocked: int
) -> None:
    ids = await enrol_volunteers(sim, story_db, clock, volunteers)
    for user_id in ids[:blocked]:
        sim.block(user_id)
    coordinator = await coordinator_asked(sim)
    await coordinator.press("志愿者")
    await coordinator.wait_for_text("请发送要群发的文字")
    await coordinator.send_sticker()
    await coordinator.wait_for_text("请发送文字或一张图片")
    await coordinator.send_text("周六上午九点，桃园村义诊，请有空的志愿者报名。")
    preview = await coordinator.wait_for_text(f"共 {volunteers} 人")
    assert "📢 周六上午九点" in coordinator.messages[-2].text
    await coordinator.press("确认发送", message=preview)

    final = await coordinator.wait_for_text("群发完成", timeout=90)
    assert f"送达 {volunteers - blocked} 人" in final.text
    assert f"无法送达 {blocked} 人" in final.text
    progress_messages = [m for m in coordinator.messages if (m.text or "").startswith(("群发中", "群发完成"))]
    assert len(progress_messages) == 1  # one message, edited as it went
    assert final.edited
    reached = [uid for uid in ids[blocked:] if any("桃园村义诊" in m.text for m in sim.sent_to(uid))]
    assert len(reached) == volunteers - blocked


async def test_broadcast_photo_can_be_cancelled(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    ids = await enrol_volunteers(sim, story_db, clock, 3)
    coordinator = await coordinator_asked(sim)
    await coordinator.press("志愿者")
    await coordinator.wait_for_text("请发送要群发的文字")
    await coordinator.send_photo(caption="活动海报")
    preview = await coordinator.wait_for_text("共 3 人")
    await coordinator.press("取消", message=preview)
    await coordinator.wait_for_text("已取消")
    await sim.settle()
    assert not any(m.kind == "photo" for uid in ids for m in sim.sent_to(uid))


async def test_a_photo_broadcast_reaches_each_volunteer_as_the_photo(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    ids = await enrol_volunteers(sim, story_db, clock, 3)
    coordinator = await coordinator_asked(sim)
    await coordinator.press("志愿者")
    await coordinator.wait_for_text("请发送要群发的文字")
    await coordinator.send_photo(caption="活动海报")
    preview = await coordinator.wait_for_text("共 3 人")
    await coordinator.press("确认发送", message=preview)
    final = await coordinator.wait_for_text("群发完成", timeout=30)
    assert "送达 3 人" in (final.text or "")
    await sim.settle()
    # The photo is stored as media and each volunteer's chat gets it by its Telegram reference, once.
    photos = [[m for m in sim.sent_to(uid) if m.kind == "photo"] for uid in ids]
    assert [len(sent) for sent in photos] == [1, 1, 1]
    assert all("活动海报" in (sent[0].text or "") for sent in photos)


async def test_residents_cannot_broadcast(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/broadcast")
    assert "没有权限" in (await wang.next_message()).text


async def test_forged_and_repeated_broadcast_presses_are_answered_and_send_nothing_twice(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    ids = await enrol_volunteers(sim, story_db, clock, 3)
    coordinator = await coordinator_asked(sim)
    question = coordinator.messages[-1]

    sim.callback_query(coordinator, question, "bc:aud:martians")  # well formed, but no such audience
    await coordinator.wait_for(lambda: "这条群发已经发出或已取消。" in coordinator.callback_answers)
    sim.callback_query(coordinator, question, "bc:aud:" + "x" * 60)  # not a press this bot could have sent
    await coordinator.wait_for(lambda: len(coordinator.callback_answers) == 2)
    assert coordinator.callback_answers[-1] == "这条群发已经发出或已取消。"

    await coordinator.press("志愿者", message=question)
    await coordinator.wait_for_text("请发送要群发的文字")
    await coordinator.send_text("明天停水，请提前储水。")
    preview = await coordinator.wait_for_text("共 3 人")
    await coordinator.press("确认发送", message=preview)
    final = await coordinator.wait_for_text("群发完成", timeout=30)
    assert final.message_id == preview.message_id  # the question became the progress message
    assert "送达 3 人" in (final.text or "")
    assert final.inline_buttons == []

    sim.callback_query(coordinator, preview, "bc:send")  # pressed again (an old client still shows it)
    await coordinator.wait_for(lambda: len(coordinator.callback_answers) == 5)  # after 志愿者 and 确认发送
    assert coordinator.callback_answers[-1] == "这条群发已经发出或已取消。"
    await sim.settle()
    assert [len([m for m in sim.sent_to(uid) if "明天停水" in (m.text or "")]) for uid in ids] == [1, 1, 1]


async def test_a_broadcast_is_rewritten_at_the_preview_and_what_is_typed_out_of_turn_is_answered(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    ids = await enrol_volunteers(sim, story_db, clock, 2)
    coordinator = await coordinator_asked(sim)
    await coordinator.send_text("志愿者")  # typed, not pressed: the buttons are asked for again
    await coordinator.wait_for_text("请点击上面的按钮选择")
    await coordinator.press("志愿者")
    await coordinator.wait_for_text("请发送要群发的文字")
    await coordinator.send_text("停" * 3501)
    await coordinator.wait_for_text("最多 3500 个字")
    await coordinator.send_text("周日停水。")
    first = await coordinator.wait_for_text("共 2 人")
    await coordinator.send_text("更正：周一停水，请提前储水。")  # a new message at the preview replaces it
    await coordinator.wait_for(lambda: len([m for m in coordinator.messages if "共 2 人" in (m.text or "")]) == 2)
    second = coordinator.messages[-1]
    assert "共 2 人" in second.text
    assert "📢 更正：周一停水" in coordinator.messages[-2].text
    assert first.inline_buttons == []  # the older preview's 确认发送 is gone: it cannot send the old text
    await coordinator.press("确认发送", message=second)
    await coordinator.wait_for_text("群发完成", timeout=30)
    await sim.settle()
    sent = [[m.text or "" for m in sim.sent_to(uid) if "停水" in (m.text or "")] for uid in ids]
    assert sent == [["📢 更正：周一停水，请提前储水。"]] * 2
