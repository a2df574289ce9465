"""A coordinator broadcasts from WeCom (issue 28: broadcasts are staff work there too), through the broadcast written
once (`conversations/broadcast.py`) that Telegram's /broadcast runs: the audiences numbered, the message typed, the
preview with the audience's size, 1 to confirm; the volunteers on Telegram get it, and the coordinator the totals."""

from __future__ import annotations

import pytest

from actions.env import Env
from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from simulator.wecom import Received, WeComMember, WeComSimulator
from storage import wecom
from tests.stories.test_broadcast import enrol_volunteers
from tests.wecom.helpers import wecom_coordinator
from tests.wecom.test_wecom_desk import plain_member

pytestmark = pytest.mark.both_databases  # the kept conversation and the broadcast's SQL on each database


async def coordinator_asked(env: Env, wc: WeComSimulator, word: str) -> tuple[WeComMember, Received]:
    """陈主任, a coordinator on WeCom, has typed `word` and been asked whom to send to."""
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    await chen.send_text(word)
    return chen, await chen.wait_for_text("要群发给谁")


async def test_a_coordinator_broadcasts_from_wecom_to_the_volunteers_on_telegram(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wecom_bot.bot_data.env
    ids = await enrol_volunteers(sim, env.db, clock, 3)
    chen, asked = await coordinator_asked(env, wc, "群发")
    assert "1. 志愿者" in asked.text
    assert "回复前面的数字选择" in asked.text
    await chen.send_image(b"\x89PNG poster")  # not a choice: the numbers are asked for again, nothing chosen
    await chen.wait_for_text("请点选上面的一项，或回复它前面的数字")
    await chen.send_text("1")
    await chen.wait_for_text("发给：志愿者")
    await chen.send_image(b"\x89PNG poster")  # no photo from WeCom yet: said so, the step waits
    await chen.wait_for_text("这里暂不能群发图片）。")
    await chen.send_text("周六上午九点，桃园村义诊，请有空的志愿者报名。")
    preview = await chen.wait_for_text("共 3 人")
    assert preview.text.startswith("📢 周六上午九点")
    assert "1. 确认发送" in preview.text
    assert "2. 取消" in preview.text
    await chen.send_text("1")
    await chen.wait_for_text("群发已开始：共 3 人")
    final = await chen.wait_for_text("群发完成", timeout=30)
    assert "送达 3 人" in final.text
    for user_id in ids:
        assert [m.text for m in sim.sent_to(user_id) if "桃园村义诊" in (m.text or "")] == [
            "📢 周六上午九点，桃园村义诊，请有空的志愿者报名。"
        ]
    async with env.db.read() as conn:
        assert await wecom.question(conn, "chenzr") is None  # the conversation is over


async def test_a_wecom_broadcast_can_be_left_and_needs_the_coordinator_role(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wecom_bot.bot_data.env
    ids = await enrol_volunteers(sim, env.db, clock, 2)
    xiaowu = await plain_member(wecom_bot, wc, "小吴", "xiaowu")
    await xiaowu.send_text("帮助")
    await xiaowu.wait_for_text("· 群发：向志愿者、流动记者、工作人员或所有人群发文字（协调员）")
    await xiaowu.send_text("群发")
    await xiaowu.wait_for_text("这一项需要“协调员”的角色")

    chen, _ = await coordinator_asked(env, wc, "/broadcast")
    await chen.send_text("1")
    await chen.send_text("明天停水。")
    await chen.wait_for_text("共 2 人")
    await chen.send_text("取消")
    await chen.wait_for_text("已取消")
    async with env.db.read() as conn:
        assert await wecom.question(conn, "chenzr") is None
    await chen.send_text("1")  # the conversation is over: a number is any message now
    await chen.wait_for_text("同心工作台")
    assert not any("停水" in (m.text or "") for uid in ids for m in sim.sent_to(uid))
