"""Every tap gets an answer: each step button of each conversation is pressed twice in a row (an impatient thumb:
the second press is queued before the first is handled), and afterwards every button on every message the person
ever got is pressed once more (an old message scrolled up to). The simulator records each answerCallbackQuery;
none may be missing, or the phone's spinner runs until it gives up."""

from __future__ import annotations

import contextlib

import pytest

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.state import BotMessage
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import approved_volunteers, open_from_list, open_wish, wait_for_button


def latest_with(person: Person, label: str) -> BotMessage:
    for message in reversed(person.messages):
        if message.find_inline_button(label) is not None:
            return message
    raise AssertionError(f"{person.first_name} sees no button {label!r}:\n{person.transcript()}")


async def twice(sim: BotApiSimulator, person: Person, label: str) -> None:
    """Press `label` (on the latest message showing it) twice in a row."""
    await wait_for_button(person, label)
    message = latest_with(person, label)
    button = message.find_inline_button(label)
    assert button is not None
    data = str(button["callback_data"])
    before = len(person.callback_answers)
    sim.callback_query(person, message, data)
    sim.callback_query(person, message, data)
    person._last_action_seq = sim.seq  # what the bot says next counts as an answer to these presses
    await person.wait_for(lambda: len(person.callback_answers) >= before + 2, what=f"both presses of {label!r}")


async def every_old_button(sim: BotApiSimulator, person: Person) -> None:
    """Press every callback button on every message the person has, once; each press must be answered."""
    for message in list(person.messages):
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if "callback_data" in button:
                    sim.callback_query(person, message, str(button["callback_data"]))
    await sim.settle(quiet=0.5, timeout=30)
    # A press whose answer waits behind the chat's earlier replies (one message a second) is still answered.
    with contextlib.suppress(TimeoutError):  # the assertion below lists the unanswered ones
        await person.wait_for(lambda: not sim.unanswered_callback_queries(), timeout=30)
    assert sim.unanswered_callback_queries() == []


async def test_the_wish_conversation_tapped_twice_at_every_step(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/wish")
    await twice(sim, wang, "助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text("家里老人行动不便，想请人帮忙买菜")
    await twice(sim, wang, "东城社区")
    await wang.wait_for_text("具体在哪里")
    await wang.press_reply_button("跳过")
    await wang.wait_for_text("照片")
    await wang.press_reply_button("跳过")
    await wang.wait_for_text("留个电话")
    await wang.press_reply_button("跳过")
    await twice(sim, wang, "✏️ 修改")
    await twice(sim, wang, "类别")
    await twice(sim, wang, "环境整治")
    await twice(sim, wang, "✅ 提交")
    await wang.wait_for_text("已提交")
    assert any("这一步已经完成" in answer for answer in wang.callback_answers)
    assert sim.unanswered_callback_queries() == []
    await every_old_button(sim, wang)

    admin = sim.person("陈主任", user_id=ADMIN_ID)
    await admin.send_command("/pending")
    await open_from_list(admin, "📋 W-0001")
    await twice(sim, admin, "✅ 通过")
    await wang.wait_for_text("已通过审核")
    await every_old_button(sim, admin)


async def test_the_volunteer_registration_tapped_twice(bot: TongxinApp, sim: BotApiSimulator) -> None:
    xiaoli = sim.person("小李")
    await xiaoli.send_command("/volunteer")
    await twice(sim, xiaoli, "使用“小李”")
    await xiaoli.wait_for_text("留个电话")
    await xiaoli.press_reply_button("跳过")
    await xiaoli.wait_for_text("您能提供哪些服务")
    await xiaoli.press("其他")
    await wait_for_button(xiaoli, "✅ 其他")
    await twice(sim, xiaoli, "选好了")
    await twice(sim, xiaoli, "桃园村")
    await xiaoli.wait_for_text("分享一下您的位置")
    await xiaoli.press_reply_button("跳过")
    await xiaoli.wait_for_text("报名已提交")
    assert sim.unanswered_callback_queries() == []
    await every_old_button(sim, xiaoli)


async def test_a_tip_tapped_twice(bot: TongxinApp, sim: BotApiSimulator) -> None:
    zhang = sim.person("张记者")
    await zhang.send_command("/tip")
    await zhang.wait_for_text("照片")
    await zhang.send_text("城关镇桥头今天上午有人组织义务理发，很多老人排队")
    await zhang.wait_for_text("分享位置")
    await zhang.press_reply_button("跳过")
    await twice(sim, zhang, "民生")
    await twice(sim, zhang, "提交")
    await zhang.wait_for_text("线索已提交")
    assert sim.unanswered_callback_queries() == []
    await every_old_button(sim, zhang)

    admin = sim.person("陈主任", user_id=ADMIN_ID)
    await admin.send_command("/review")
    await twice(sim, admin, "📋 T-0001")
    await twice(sim, admin, "采用")
    await zhang.wait_for_text("T-0001 已被编辑采用")
    await every_old_button(sim, admin)


@pytest.mark.both_databases  # a repeated claim, done and confirm: compare-and-set on either database
async def test_claim_done_and_confirm_tapped_twice(bot: TongxinApp, sim: BotApiSimulator) -> None:
    xiaozhou = sim.person("小周")
    wang = sim.person("王阿姨")
    await approved_volunteers(bot.bot_data.db, [xiaozhou])
    await open_wish(bot.bot_data.db, wang)
    await xiaozhou.send_command("/tasks")
    await twice(sim, xiaozhou, "查看 W-0001")
    await twice(sim, xiaozhou, "今天认领")
    await xiaozhou.wait_for_text("您认领了 W-0001")
    # The second press of Claim is the claimer's own: never "someone else was quicker".
    await xiaozhou.wait_for(lambda: any("您已经认领了这个任务" in answer for answer in xiaozhou.callback_answers))
    assert not any("手慢了一步" in answer for answer in xiaozhou.callback_answers)
    await xiaozhou.send_command("/mytasks")
    await open_from_list(xiaozhou, "📋 W-0001")
    await twice(sim, xiaozhou, "✅ 完成了")
    await twice(sim, xiaozhou, "2 小时")
    await xiaozhou.wait_for_text("完成后的照片")
    await twice(sim, xiaozhou, "跳过")
    await xiaozhou.wait_for_text("留句话")
    await twice(sim, xiaozhou, "跳过")
    await xiaozhou.wait_for_text("辛苦了")
    await twice(sim, wang, "已完成，谢谢！")
    await twice(sim, wang, "5⭐")
    await xiaozhou.wait_for_text("2 小时已计入")
    assert sim.unanswered_callback_queries() == []
    await every_old_button(sim, xiaozhou)
    await every_old_button(sim, wang)


async def test_a_broadcast_tapped_twice(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("陈主任", user_id=ADMIN_ID)
    xiaozhou = sim.person("小周")
    await approved_volunteers(bot.bot_data.db, [xiaozhou])
    await admin.send_command("/broadcast")
    await twice(sim, admin, "志愿者")
    await admin.wait_for_text("请发送要群发的文字")
    await admin.send_text("周六上午九点，桃园村义诊，请有空的志愿者报名。")
    await admin.wait_for_text("共 1 人")
    await twice(sim, admin, "确认发送")
    await admin.wait_for_text("群发完成", timeout=30)
    await xiaozhou.wait_for_text("桃园村义诊")
    assert sim.unanswered_callback_queries() == []
    await every_old_button(sim, admin)
