"""A finished task's cards lose their buttons, a step's question loses its 跳过 once answered, and a press on a
finished task is answered in the volunteer's words (issue 27, item 7: the finished card kept ✅ 完成了 / ↩️ 放弃 and
跳过, and pressing ✅ 完成了 again told the volunteer "…等您确认", the resident's wording)."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from storage.db import Database
from tests.stories.wishflow import approved_volunteers, button_data, claim_from_tasks, open_wish, wait_for_button

TASK_BUTTONS = ["✅ 完成了", "↩️ 放弃"]


async def test_a_finished_task_loses_its_buttons_and_a_late_press_speaks_to_the_volunteer(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await open_wish(story_db, alice)
    await approved_volunteers(story_db, [xiaoli])
    await claim_from_tasks(xiaoli)
    await xiaoli.wait_for_text("您认领了 W-0001")
    await xiaoli.send_command("/mytasks")
    await wait_for_button(xiaoli, "📋 W-0001")
    await xiaoli.press("📋 W-0001")
    await wait_for_button(xiaoli, "✅ 完成了")
    cards = [m for m in xiaoli.messages if TASK_BUTTONS in m.inline_buttons]
    assert cards
    card = cards[-1]
    done_data = button_data(card, "✅ 完成了")
    await xiaoli.press("✅ 完成了", message=card)
    first_hours = await xiaoli.wait_for_text("用了多长时间")
    # 帮助 at this step: where she is, and the hours question again; the first one loses its buttons.
    await xiaoli.send_text("帮助")
    await xiaoli.wait_for_text("您正在提交任务完成情况")
    await xiaoli.wait_for(lambda: sum("用了多长时间" in (m.text or "") for m in xiaoli.messages) == 2, what="again")
    await sim.settle()
    assert first_hours.inline_buttons == []
    await xiaoli.press("2 小时")
    proof = await xiaoli.wait_for_text("完成后的照片")
    assert proof.inline_buttons == [["跳过"]]
    await xiaoli.send_photo(b"\x89PNG proof")  # answered by a photo, not by 跳过
    await xiaoli.wait_for_text("留句话")
    await xiaoli.press("跳过")
    await xiaoli.wait_for_text("辛苦了")
    await sim.settle()
    assert proof.inline_buttons == []
    # Every card of the task now says it is done, without buttons.
    for shown in cards:
        assert shown.inline_buttons == []
        assert "W-0001 已标记完成（2 小时），等居民确认" in (shown.text or "")
    assert not any(TASK_BUTTONS in m.inline_buttons for m in xiaoli.messages)
    assert sim.invalid_requests == []

    # A press that was on its way (or an old client's copy) is answered in her words, not the resident's.
    before = len(xiaoli.callback_answers)
    sim.callback_query(xiaoli, card, done_data)
    await xiaoli.wait_for(lambda: any(xiaoli.callback_answers[before:]), what="the answer to the late press")
    answer = next(a for a in xiaoli.callback_answers[before:] if a)
    assert "已提交完成，等居民确认" in answer
    assert "等您确认" not in answer
    # Her list says the same: the task waits for the resident, not for her ("等您确认" is the resident's wording).
    await xiaoli.send_command("/mytasks")
    listed = await xiaoli.wait_for_text("W-0001 · 助老助残 · 已完成，等居民确认")
    assert "等您确认" not in (listed.text or "")
