"""Stories of abuse and its limits (issue 12, item 4): blocked people keep their privacy rights, a flood of button
presses is slowed down like a flood of messages, forged ids are bounded, a forged press by someone without the
right learns nothing, and a button whose result is already shown is answered quietly."""

from __future__ import annotations

import logging

import pytest

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.people import Person
from storage import staff, users
from storage.db import Database
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import approved_volunteers, open_wish, person_id

NOT_ALLOWED = "没有权限"


async def hello(person: Person) -> None:
    await person.send_command("/start")
    await person.wait_for_text("您好")


async def answers(person: Person, count: int) -> list[str]:
    await person.wait_for(lambda: len(person.callback_answers) >= count, timeout=20)
    return person.callback_answers


async def test_a_blocked_person_can_still_read_download_and_erase_their_data(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    wang = sim.person("王秀英", username="wangxy")
    await hello(wang)
    async with story_db.write() as conn:
        wang_id = await person_id(conn, wang)
        await staff.set_blocked(conn, actor_id=None, user_id=wang_id, blocked=True, now=bot.bot_data.clock.now())
    await wang.send_command("/wish")
    await wang.wait_for_text("限制使用")
    await wang.send_command("/privacy")
    await wang.wait_for_text("我们保存什么")
    await wang.send_command("/mydata")
    await wang.wait_for(lambda: any(m.document_name for m in wang.messages))
    assert any(m.document_name == f"tongxin-mydata-{wang_id}.json" for m in wang.messages)
    await wang.send_command("/deleteme")
    await wang.wait_for_text("无法恢复")
    await wang.press("确认删除")
    await wang.wait_for_text("已删除您的个人信息")
    async with story_db.read() as conn:
        erased = await users.get_user(conn, await person_id(conn, wang))
    assert erased.first_name == ""
    assert erased.username is None


async def test_a_flood_of_button_presses_is_slowed_down(bot: TongxinApp, sim: BotApiSimulator) -> None:
    mallory = sim.person("马洛")
    await hello(mallory)
    anchor = mallory.messages[-1]
    presses = 60
    for _ in range(presses):
        sim.callback_query(mallory, anchor, "task:page:0:0")
    answered = await answers(mallory, presses)
    assert sum(NOT_ALLOWED in answer for answer in answered) <= 30
    assert sum("太快" in answer for answer in answered) == 1


@pytest.mark.both_databases  # ids beyond PostgreSQL's integer types must never reach a query
@pytest.mark.parametrize("subject", ["99999999999999999999999999", str(2**31), "-1"])
async def test_forged_ids_out_of_range_are_refused_as_stale(
    bot: TongxinApp, sim: BotApiSimulator, subject: str
) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await hello(admin)
    anchor = admin.messages[-1]
    forged = [
        f"task:claim:{subject}:today",
        f"wish:cancel:{subject}",
        f"pending:approve:{subject}",
        f"whistle:{subject}",
    ]
    for data in forged:
        sim.callback_query(admin, anchor, data)
    answered = await answers(admin, len(forged))
    assert all("失效" in answer for answer in answered), answered


async def test_a_forged_press_without_the_right_learns_nothing(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    resident = sim.person("王阿姨")
    wish = await open_wish(story_db, resident)
    mallory = sim.person("马洛")
    await hello(mallory)
    anchor = mallory.messages[-1]
    # Someone else's open wish, and a wish that does not exist: the same refusal, no status.
    for data in (f"wish:confirm:{wish.id}", "wish:confirm:424242", f"wish:cancel:{wish.id}", "wish:cancel:424242"):
        sim.callback_query(mallory, anchor, data)
    answered = await answers(mallory, 4)
    assert len(set(answered)) == 1, answered
    assert NOT_ALLOWED in answered[0]
    assert "待认领" not in answered[0]


async def test_a_button_whose_result_is_shown_is_answered_quietly(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    xiaoli = sim.person("小李")
    await approved_volunteers(story_db, [xiaoli])
    await open_wish(story_db, sim.person("王阿姨"))
    await xiaoli.send_command("/tasks")
    listing = await xiaoli.wait_for_text("W-0001")
    for _ in range(2):
        sim.callback_query(xiaoli, listing, "task:page:0:0")
    answered = await answers(xiaoli, 2)
    await sim.settle()
    assert not any("出了点问题" in answer for answer in answered)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
