"""A case on WeCom after 签收: the member who took it gets its card with 办结 / 退回. 办结 asks for the note, then a
photo (an image message, downloaded from WeCom's media API and kept where the bot keeps media) or 无, and resolves
the case through the action Telegram's 办结 runs: the resident hears the result, the card says who resolved it, and a
press that comes after is told. 退回 on a new case's card asks why, hands the case back through the same action as
Telegram's, and every member's card says who sent it back. The question waits in the database, not in memory."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import TongxinApp
from rules.cases import CaseStatus
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.wecom import Card, WeComMember, WeComSimulator
from storage import cases, departments, media
from storage.schema import wecom_questions
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.wishflow import open_wish
from tests.wecom.helpers import department_member

PHOTO = b"\xff\xd8\xff\xe0 a photo of the swept road \xff\xd9"


async def case_for_two(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> tuple[Person, Person, WeComMember, WeComMember]:
    """王阿姨's open wish sent to 城管 as C-0001 by 周主任 on Telegram; 城管's two members on WeCom have its card.
    Returns 王阿姨, 周主任, 老张 and 老李."""
    env = wecom_bot.bot_data.env
    wang = sim.person("王阿姨")
    await open_wish(env.db, wang, category="environment")
    async with env.db.write() as conn:
        await departments.create_department(
            conn, name="城管", categories=["environment"], areas=["东城社区"], created_by=None, now=START_TIME
        )
    zhang = await department_member(wecom_bot, wc, "老张", "zhang.l")
    li = await department_member(wecom_bot, wc, "老李", "li.l")
    zhou = sim.person("周主任", user_id=ADMIN_ID)
    await zhou.send_command("/case", "W-0001 城管 urgent")
    await zhou.wait_for_text("已派单 C-0001")
    await zhang.wait_for_card("新案件 C-0001")
    await li.wait_for_card("新案件 C-0001")
    return wang, zhou, zhang, li


async def start_resolving(member: WeComMember) -> Card:
    """The member takes C-0001 from its new card (签收) and presses 办结 on the card of the case they hold; returns
    that card, once the note is asked for."""
    await member.press(member.card("新案件 C-0001"), "签收")
    mine = await member.wait_for_card("我承办的案件 C-0001")
    await member.press(mine, "办结")
    await member.wait_for_text("请简要写一下 C-0001 的办理结果")
    return mine


@pytest.mark.both_databases
async def test_resolving_a_case_from_its_card_with_a_note_and_a_photo(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    wang, _zhou, zhang, _li = await case_for_two(wecom_bot, wc, sim)
    mine = await start_resolving(zhang)
    assert [text for text, _key in mine.buttons] == ["办结", "退回"]
    assert "请于" in mine.body  # the case as Telegram shows its holder, with its deadline
    late_press = zhang.press_xml(mine, "办结")  # a second press, arriving after the case is resolved
    async with env.db.read() as conn:  # the question waits in the database (any instance takes the answer)
        asked = (await conn.execute(select(wecom_questions))).all()
    assert [(row.userid, row.kind) for row in asked] == [("zhang.l", "layer")]  # the form of the layer

    await zhang.send_text("   ")  # an empty note is asked for again, nothing changes
    await zhang.wait_for_text("请用文字写一句")
    await zhang.send_text("路面已清扫干净，垃圾已运走")
    await zhang.wait_for_text("可以发一张办理后的照片")
    assert "1. 不附照片" in zhang.inbox[-1].text  # the step's choice, numbered
    await zhang.send_text("好的")  # neither a photo nor 不附照片
    await zhang.wait_for_text("请发一张照片，或点“不附照片”")
    gone = {"PicUrl": f"{wc.api_url}/pic/gone", "MediaId": "gone", "MsgId": "7"}  # WeCom has no such file
    assert (await wc.post(*wc.signed(zhang.xml("image", gone))))[0] == 200
    await zhang.wait_for_text("照片没有收到，请再发一次")  # not downloaded: the step still waits, nothing changes
    assert [refusal.errcode for refusal in wc.refusals] == [40007]  # the refusal this provoked, and no other
    wc.refusals.clear()
    async with env.db.read() as conn:
        assert (await cases.get_case(conn, 1)).status == CaseStatus.ACKNOWLEDGED
    await zhang.send_image(PHOTO)
    await zhang.wait_for_text("C-0001 已办结，已告知群众并请其评价")

    async with env.db.read() as conn:
        case = await cases.get_case(conn, 1)
        assert case.status == CaseStatus.RESOLVED
        assert case.resolution_note == "路面已清扫干净，垃圾已运走"
        assert case.resolution_media_id is not None
        saved = await media.file_ref(conn, case.resolution_media_id, "file")
        assert (await conn.execute(select(wecom_questions))).all() == []
    assert saved is not None
    assert (wecom_bot.bot_data.settings.media_dir / saved).read_bytes() == PHOTO
    await wang.wait_for_text("路面已清扫干净")  # the resident reads the result (with the photo and stars)
    await zhang.wait_for(lambda _r: mine.replaced is not None)
    assert mine.replaced == "已由老张办结"

    assert (await wc.post(*wc.signed(late_press)))[0] == 200
    await zhang.wait_for_text("案件 C-0001 已办结。")


async def test_resolving_without_a_photo_by_typing_the_choice_the_step_names(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    """The photo step says 不附照片; typed as it says (not only as its number), it is that choice."""
    env = wecom_bot.bot_data.env
    wang, _zhou, zhang, _li = await case_for_two(wecom_bot, wc, sim)
    await start_resolving(zhang)
    await zhang.send_text("井盖已更换")
    await zhang.wait_for_text("可以发一张办理后的照片")
    await zhang.send_text(" 不附照片 ")
    await zhang.wait_for_text("C-0001 已办结，已告知群众并请其评价")
    async with env.db.read() as conn:
        case = await cases.get_case(conn, 1)
    assert case.status == CaseStatus.RESOLVED
    assert case.resolution_note == "井盖已更换"
    assert case.resolution_media_id is None
    await wang.wait_for_text("井盖已更换")


@pytest.mark.both_databases
async def test_handing_a_new_case_back_from_its_card_with_a_reason(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    _wang, zhou, zhang, li = await case_for_two(wecom_bot, wc, sim)
    zhang_press = zhang.press_xml(zhang.card("新案件 C-0001"), "签收")  # 老张 takes it after it went back

    await li.press(li.card("新案件 C-0001"), "退回")
    await li.wait_for_text("请写明退回 C-0001 的原因")
    await li.send_text("取消")  # changes nothing
    await li.wait_for_text("已取消")
    await li.press(li.card("新案件 C-0001"), "退回")
    await li.wait_for(lambda _r: sum("请写明退回" in r.text for r in li.inbox) == 2)
    await li.send_text("不属于城管职责，应由物业处理")
    await li.wait_for_text("C-0001 已退回，协调员会改派")  # the layer's form (conversations/case_forms.py)

    async with env.db.read() as conn:
        case = await cases.get_case(conn, 1)
    assert case.status == CaseStatus.RETURNED
    assert case.return_reason == "不属于城管职责，应由物业处理"
    await zhou.wait_for_text("不属于城管职责")  # the coordinator hears why
    await li.wait_for(lambda _r: zhang.card("新案件 C-0001").replaced is not None)
    assert zhang.card("新案件 C-0001").replaced == li.card("新案件 C-0001").replaced == "已由老李退回"

    assert (await wc.post(*wc.signed(zhang_press)))[0] == 200
    await zhang.wait_for_text("案件 C-0001 已退回。")


async def test_a_reason_typed_after_another_member_handed_the_case_back_changes_nothing(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    """Both press 退回 on the new case; 老李 answers first, 老张's reason is then told where the case stands."""
    env = wecom_bot.bot_data.env
    _wang, _zhou, zhang, li = await case_for_two(wecom_bot, wc, sim)
    await li.press(li.card("新案件 C-0001"), "退回")
    await zhang.press(zhang.card("新案件 C-0001"), "退回")
    await zhang.wait_for_text("请写明退回 C-0001 的原因")
    await li.wait_for_text("请写明退回 C-0001 的原因")
    await li.send_text("不属于城管职责")
    await li.wait_for_text("C-0001 已退回，协调员会改派")
    await zhang.send_text("应由物业处理")
    await zhang.wait_for_text("部门已退回中心")
    async with env.db.read() as conn:
        case = await cases.get_case(conn, 1)
    assert case.return_reason == "不属于城管职责"
