"""Tip review from WeCom cards: a reporter's tip sent on Telegram reaches the editors who work in WeCom as a card with
the decisions Telegram's review card offers (采用 / 不采用 / 请补充 / 已发布); each runs the same action in
`actions.tips` (the reporter is told), every editor's card then says who decided, and a press after that is told.
请补充, 不采用 and 已发布 ask for the question, reason or link first (checked as Telegram's desk checks them). An
accepted tip comes back to the editor who accepted it as a card with 已发布 / 不采用."""

from __future__ import annotations

import pytest

from actions.env import Env
from bot.app import TongxinApp
from rules.roles import Role
from rules.tips import TipStatus
from simulator import BotApiSimulator
from simulator.wecom import WeComMember, WeComSimulator
from storage import people, tips, users
from storage import wecom as wecom_store
from tests.conftest import START_TIME
from tests.stories.test_tips import finish_tip, make_role

PHOTOS = [b"\xff\xd8\xff\xe0" + bytes([i]) * 50 + b"\xff\xd9" for i in range(1, 3)]  # two JPEGs


async def wecom_editor(env: Env, wc: WeComSimulator, name: str, userid: str) -> WeComMember:
    """A member granted the editor role, known to the bot by their userid."""
    async with env.db.write() as conn:
        person = await people.person_for_identity(
            conn, "wecom", userid, first_name=name, language="zh-CN", now=START_TIME
        )
        await users.grant_role(conn, person.id, Role.EDITOR, granted_by=None, now=START_TIME)
    return wc.member(name, userid)


async def tip_status(env: Env) -> str:
    async with env.db.read() as conn:
        return (await tips.get_tip(conn, 1)).status


@pytest.mark.both_databases
async def test_editors_review_a_tip_from_their_cards(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    zhou = await wecom_editor(env, wc, "周编辑", "zhoubj")
    wu = await wecom_editor(env, wc, "吴编辑", "wubj")
    li = sim.person("李记者")
    await make_role(wecom_bot, li, "reporter")
    await li.send_command("/tip")
    await li.wait_for_text("请发送现场照片")
    await li.send_album(PHOTOS, caption="东城社区志愿者为老人义诊")
    await li.wait_for_text("分享位置")
    await sim.settle()
    assert "T-0001" in await finish_tip(li)

    zhou_card = await zhou.wait_for_card("线索 T-0001 待审核")
    wu_card = await wu.wait_for_card("线索 T-0001 待审核")
    assert [text for text, _key in zhou_card.buttons] == ["采用", "不采用", "请补充", "已发布"]
    assert "照片/视频 2 个" in zhou_card.body
    assert "为老人义诊" in zhou_card.body
    # The photos came first, as image messages the editor can open.
    images = [r for r in zhou.inbox if r.kind == "image"]
    assert [zhou.upload(r).content for r in images] == PHOTOS
    assert zhou.inbox.index(images[-1]) < next(i for i, r in enumerate(zhou.inbox) if r.card is zhou_card)
    wu_late = wu.press_xml(wu_card, "采用")  # 吴编辑 presses as 周编辑 asks; his press arrives after

    # 请补充: the question first; the reporter reads it, every card says who asked.
    await zhou.press(zhou_card, "请补充")
    await zhou.wait_for_text("请输入需要报送人补充的问题（T-0001）")
    async with env.db.read() as conn:  # asked by the layer's note (conversations/tip_note.py), kept in the database
        asked = await wecom_store.question(conn, "zhoubj")
    assert asked is not None
    assert asked.kind == "layer"
    await zhou.send_text("请拍一张义诊现场的全景照片")
    await zhou.wait_for_text("已请报送人补充 T-0001")
    await li.wait_for_text("全景照片")
    await zhou.wait_for(lambda _r: zhou_card.replaced is not None and wu_card.replaced is not None)
    assert zhou_card.replaced == wu_card.replaced == "已由周编辑请补充"
    assert (await wc.post(*wc.signed(wu_late)))[0] == 200
    await wu.wait_for_text("线索 T-0001 已由周编辑处理（待补充）")
    assert await tip_status(env) == TipStatus.MORE_INFO_REQUESTED

    # The reporter answers on Telegram: the tip is back with the editors, as new cards.
    await li.press("回复")
    await li.wait_for_text("请发送对 T-0001 的补充")
    await li.send_text("现场全景：社区中心门口排了二十多位老人")
    await wu.wait_for(lambda _r: sum(r.card is not None and "T-0001 待审核" in r.card.title for r in wu.inbox) == 2)
    again = wu.card("线索 T-0001 待审核")
    await wu.press(again, "采用")
    await wu.wait_for_text("T-0001 已采用，已通知报送人")
    await li.wait_for_text("您的线索 T-0001 已被编辑采用")
    await wu.wait_for(lambda _r: again.replaced is not None and zhou.card("线索 T-0001 待审核").replaced is not None)
    assert again.replaced == zhou.card("线索 T-0001 待审核").replaced == "已由吴编辑采用"

    # The accepted tip comes back to 吴编辑 with what is left: 已发布 (with its link) or 不采用.
    accepted = await wu.wait_for_card("线索 T-0001 已采用，待发布")
    assert [text for text, _key in accepted.buttons] == ["已发布", "不采用"]
    await wu.press(accepted, "已发布")
    await wu.wait_for_text("请发送 T-0001 发布稿件的链接")
    await wu.send_text("在公众号发了")  # not a link: asked again, nothing changes
    await wu.wait_for_text("这不是有效的链接")
    assert await tip_status(env) == TipStatus.ACCEPTED
    await wu.send_text("https://news.example.cn/2026/yizhen")
    await wu.wait_for_text("T-0001 已标记为已发布")
    await li.wait_for_text("https://news.example.cn/2026/yizhen")
    assert await tip_status(env) == TipStatus.PUBLISHED
    await wu.wait_for(lambda _r: accepted.replaced is not None)
    assert accepted.replaced == "已由吴编辑发布"
