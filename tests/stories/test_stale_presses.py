"""Stories of buttons pressed too late, twice, by the wrong person, or forged: the person always gets an
answer, and nothing changes."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.people import Person
from storage import applications, users
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import open_from_list, person_id, wait_for_button

STALE = "这个按钮已经失效了"


async def hello(person: Person) -> None:
    await person.send_command("/start")
    await person.wait_for_text("您好")


async def answered(person: Person, text: str) -> None:
    await person.wait_for(lambda: any(text in answer for answer in person.callback_answers))


async def register(person: Person) -> None:
    """A volunteer application, pending."""
    await person.send_command("/volunteer")
    await wait_for_button(person, f"使用“{person.first_name}”")
    await person.press(f"使用“{person.first_name}”")
    await person.wait_for_text("留个电话")
    await person.press_reply_button("跳过")
    await person.wait_for_text("您能提供哪些服务")
    await person.press("其他")
    await wait_for_button(person, "✅ 其他")
    await person.press("选好了")
    await person.wait_for_text("哪个镇")
    await person.press("桃园村")
    await person.wait_for_text("分享一下您的位置")
    await person.press_reply_button("跳过")
    await person.wait_for_text("报名已提交")


async def test_forged_language_and_erase_presses_are_answered_and_change_nothing(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    wang = sim.person("王阿姨")
    await hello(wang)
    message = wang.messages[-1]
    sim.callback_query(wang, message, "lang:xx")
    await answered(wang, STALE)
    sim.callback_query(wang, message, "privacy:erase:yes:12345")
    await answered(wang, STALE)
    async with bot.bot_data.db.read() as conn:
        person = await users.get_user(conn, await person_id(conn, wang))
    assert person.language == "zh-CN"
    assert person.first_name == "王阿姨"


async def test_a_registration_button_after_the_conversation_ended_says_it_no_longer_works(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    xiaoli = sim.person("小李")
    await register(xiaoli)
    # The skills message of the finished registration: "Done" and a skill once more, and a forged skill.
    skills_card = next(m for m in xiaoli.messages if "服务类别" in m.text)
    sim.callback_query(xiaoli, skills_card, "vreg:skills_done")
    await answered(xiaoli, STALE)
    sim.callback_query(xiaoli, skills_card, "vreg:skill:other")
    await wait_for_count(xiaoli, 2)
    sim.callback_query(xiaoli, skills_card, "vreg:skill:../../etc")
    await wait_for_count(xiaoli, 3)


async def wait_for_count(person: Person, count: int) -> None:
    await person.wait_for(lambda: sum(STALE in answer for answer in person.callback_answers) >= count)


async def test_application_buttons_pressed_by_a_resident_twice_or_forged(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await hello(admin)
    xiaoli = sim.person("小李")
    await register(xiaoli)
    async with bot.bot_data.db.read() as conn:
        application = await applications.find_application(conn, await person_id(conn, xiaoli), "volunteer")
    assert application is not None

    # A resident forging the coordinator's button is refused.
    mallory = sim.person("马洛")
    await hello(mallory)
    sim.callback_query(mallory, mallory.messages[-1], f"pending:vapprove:{application.id}")
    await answered(mallory, "没有权限")
    sim.callback_query(admin, admin.messages[-1], "pending:vapprove:notanumber")
    await answered(admin, STALE)

    await admin.send_command("/pending")
    await open_from_list(admin, "🙋")
    await wait_for_button(admin, "✅ 通过")
    card = next(m for m in admin.messages if m.find_inline_button("✅ 通过") is not None)
    await admin.press("✅ 通过", message=card)
    await xiaoli.wait_for_text("申请已通过")
    # The same card pressed again (or Reject on it): already decided, nothing changes.
    sim.callback_query(admin, card, f"pending:vreject:{application.id}")
    await answered(admin, "已经处理过了")
    async with bot.bot_data.db.read() as conn:
        decided = await applications.get_application(conn, application.id)
    assert decided.status == "approved"
    assert not any("申请未通过" in m.text for m in xiaoli.messages)


@pytest.mark.both_databases  # ids beyond PostgreSQL's integer types must never reach a query
async def test_review_list_buttons_forged_or_out_of_range_are_answered(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin, mallory = sim.person("陈主任", user_id=ADMIN_ID), sim.person("马洛")
    await hello(admin)
    await hello(mallory)
    # A resident forging an editor's list buttons is refused, and sees no tip.
    for data in ("tiprev:view:1", "tiprev:page:1", "tiprev:apage:0"):
        sim.callback_query(mallory, mallory.messages[-1], data)
    await mallory.wait_for(lambda: sum("没有权限" in answer for answer in mallory.callback_answers) == 3)
    # An editor's press of a tip that does not exist, or of a malformed one, is answered; a page past the end
    # shows the last page (here: the empty queue).
    sim.callback_query(admin, admin.messages[-1], "tiprev:view:999")
    await answered(admin, "找不到这条线索")
    sim.callback_query(admin, admin.messages[-1], "tiprev:view:notanumber")
    await answered(admin, "这个按钮已过期或无效")
    await admin.send_command("/review")
    empty = await admin.wait_for_text("目前没有待审核的线索")
    sim.callback_query(admin, empty, "tiprev:page:7")
    await admin.wait_for(lambda: len(admin.callback_answers) == 3)
    assert sim.unanswered_callback_queries() == []
