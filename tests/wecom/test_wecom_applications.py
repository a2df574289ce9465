"""Volunteer applications decided from WeCom cards: a person who applies on Telegram reaches the coordinators who
work in WeCom as a card with their profile and 通过 / 退回; a decision runs the action Telegram's button runs (the
applicant is told), every coordinator's card then says who decided, and a press after that is told who. A decision
taken on Telegram updates the WeCom cards too."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from rules.applications import ApplicationStatus
from rules.wishes import NOTE_MAX
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.wecom import Card, WeComMember, WeComSimulator
from storage import applications, people
from tests.conftest import ADMIN_ID
from tests.stories.test_stale_presses import register
from tests.stories.wishflow import open_from_list, person_id, wait_for_button
from tests.wecom.helpers import wecom_coordinator

TITLE = "志愿者申请等待审核"


async def applicant_and_cards(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> tuple[Person, WeComMember, WeComMember, Card, Card]:
    """小李 applies on Telegram; 陈主任 and 李干事 (coordinators on WeCom) each get the application's card."""
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    li = await wecom_coordinator(env, wc, "李干事", "lgs")
    xiaoli = sim.person("小李")
    await xiaoli.send_command("/start")
    await xiaoli.wait_for_text("您好")
    await register(xiaoli)
    chen_card = await chen.wait_for_card(TITLE)
    li_card = await li.wait_for_card(TITLE)
    return xiaoli, chen, li, chen_card, li_card


async def application_of(wecom_bot: TongxinApp, person: Person) -> applications.Application:
    async with wecom_bot.bot_data.env.db.read() as conn:
        found = await applications.find_application(conn, await person_id(conn, person), "volunteer")
    assert found is not None
    return found


@pytest.mark.both_databases  # two presses on one decision: the compare-and-set on each database
async def test_a_coordinator_approves_an_application_from_the_card(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    xiaoli, chen, li, chen_card, li_card = await applicant_and_cards(wecom_bot, wc, sim)
    assert [text for text, _key in chen_card.buttons] == ["通过", "退回"]
    assert "姓名：小李" in chen_card.body
    assert "技能：其他" in chen_card.body
    li_press = li.press_xml(li_card, "通过")  # pressed at the same moment; arrives second

    await chen.press(chen_card, "通过")
    await chen.wait_for_text("已通过 小李 的志愿者申请")
    await xiaoli.wait_for_text("申请已通过")
    await chen.wait_for(lambda _r: chen_card.replaced is not None and li_card.replaced is not None)
    assert chen_card.replaced == li_card.replaced == "已由陈主任通过"

    assert (await wc.post(*wc.signed(li_press)))[0] == 200
    await li.wait_for_text("这份志愿者申请已由陈主任处理")
    application = await application_of(wecom_bot, xiaoli)
    async with wecom_bot.bot_data.env.db.read() as conn:
        chen_person = await people.find_person(conn, "wecom", "chenzr")
    assert application.status == ApplicationStatus.APPROVED
    assert chen_person is not None
    assert application.decided_by == chen_person.id


@pytest.mark.both_databases
async def test_sending_an_application_back_from_the_card_asks_why_and_the_applicant_reads_it(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    xiaoli, chen, li, chen_card, li_card = await applicant_and_cards(wecom_bot, wc, sim)
    late_press = li.press_xml(li_card, "退回")
    await chen.press(chen_card, "退回")
    await chen.wait_for_text("请写明不通过的原因")  # the layer's rejection (conversations/rejection.py) asks
    await chen.send_text("太" * (NOTE_MAX + 1))  # past the bound: asked again, nothing changes
    await chen.wait_for_text(f"太长了，请控制在 {NOTE_MAX} 字以内")
    assert (await application_of(wecom_bot, xiaoli)).status == ApplicationStatus.PENDING
    await chen.send_text("请先补充联系电话，方便安排服务")
    await chen.wait_for_text("已处理，原因已发送给对方")
    await xiaoli.wait_for_text("请先补充联系电话，方便安排服务")
    assert (await application_of(wecom_bot, xiaoli)).status == ApplicationStatus.REJECTED
    await li.wait_for(lambda _r: li_card.replaced is not None)
    assert li_card.replaced == chen_card.replaced == "已由陈主任退回"
    assert (await wc.post(*wc.signed(late_press)))[0] == 200  # li's 退回 pressed before the card changed
    await li.wait_for_text("这份志愿者申请已由陈主任处理")


@pytest.mark.both_databases
async def test_an_application_decided_while_its_reason_is_asked_is_not_sent_back(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    """退回 asks why; 取消 changes nothing; decided by another coordinator meanwhile, the reason is refused."""
    xiaoli, chen, li, chen_card, li_card = await applicant_and_cards(wecom_bot, wc, sim)
    await chen.press(chen_card, "退回")
    await chen.wait_for_text("请写明不通过的原因")
    await chen.send_text("取消")
    await chen.wait_for_text("已取消")
    assert (await application_of(wecom_bot, xiaoli)).status == ApplicationStatus.PENDING

    await chen.press(chen_card, "退回")
    await chen.wait_for_text("请写明不通过的原因")
    await li.press(li_card, "通过")
    await li.wait_for_text("已通过 小李 的志愿者申请")
    await chen.send_text("请先补充联系电话")
    await chen.wait_for_text("这份申请已经处理过了")
    assert (await application_of(wecom_bot, xiaoli)).status == ApplicationStatus.APPROVED
    assert chen_card.replaced == li_card.replaced == "已由李干事通过"


@pytest.mark.both_databases
async def test_an_application_approved_on_telegram_updates_the_wecom_cards(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    admin = sim.person("周主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.wait_for_text("您好")
    xiaoli, chen, _li, chen_card, li_card = await applicant_and_cards(wecom_bot, wc, sim)
    late_press = chen.press_xml(chen_card, "通过")

    await admin.send_command("/pending")
    await open_from_list(admin, "🙋")
    await wait_for_button(admin, "✅ 通过")
    await admin.press("✅ 通过")
    await xiaoli.wait_for_text("申请已通过")
    # The WeCom cards learn of it within the sweep's 30 seconds (virtual time passes while everything waits).
    await chen.wait_for(lambda _r: chen_card.replaced is not None and li_card.replaced is not None, timeout=20)
    assert chen_card.replaced == li_card.replaced == "已由周主任通过"

    assert (await wc.post(*wc.signed(late_press)))[0] == 200
    await chen.wait_for_text("这份志愿者申请已由周主任处理")
    assert (await application_of(wecom_bot, xiaoli)).status == ApplicationStatus.APPROVED
