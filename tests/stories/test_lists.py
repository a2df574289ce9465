"""Long lists are one message with pages: /pending, /mywishes and /review reach every item page by page (no
cut-off at ten), each reply is a single message, and a tap on an item shows its card with its buttons."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.app import TongxinApp
from rules import tips as tip_rules
from rules import wishes as lifecycle
from rules.roles import Role
from rules.tips import TipAction
from rules.wishes import WishDraft
from simulator import BotApiSimulator
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.wishflow import button_data, given_person, press_again_quietly, wait_for_button

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

WISHES = 12
TIPS = 7


async def test_pending_and_mywishes_page_through_every_item_in_one_message(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    db = bot.bot_data.db
    alice, admin = sim.person("王阿姨"), sim.person("管理员", user_id=ADMIN_ID)
    async with db.write() as conn:
        resident = await given_person(conn, alice)
        for n in range(1, WISHES + 1):
            await lifecycle.submit_wish(
                conn,
                WishDraft(category="elderly_disabled", description=f"第{n}号心愿需要帮忙", area="东城社区"),
                resident_id=resident,
                now=START_TIME,
                review=True,
                daily_limit=100,
            )

    await admin.send_command("/start")
    await admin.next_message()
    await admin.send_command("/pending")
    first = await admin.wait_for_text("（第 1/3 页）")
    assert f"待审核：{WISHES} 个心愿" in (first.text or "")
    seen = re.findall(r"W-(\d{4})", first.text or "")
    await admin.press("下一页 ▶", message=first)
    second = await admin.wait_for_text("（第 2/3 页）")
    seen += re.findall(r"W-(\d{4})", second.text or "")
    forward = button_data(second, "下一页 ▶")
    await admin.press("下一页 ▶", message=second)
    third = await admin.wait_for_text("（第 3/3 页）")
    # The last ▶ pressed again (a double tap): page 3 is already shown, so it is answered quietly.
    await press_again_quietly(sim, admin, third, forward)
    seen += re.findall(r"W-(\d{4})", third.text or "")
    assert sorted(set(seen)) == [f"{n:04d}" for n in range(1, WISHES + 1)]
    # Paging edits the one message in place.
    assert first.message_id == second.message_id == third.message_id
    await admin.press("📋 W-0012")
    await wait_for_button(admin, "✅ 通过")
    await admin.press("✅ 通过")
    await alice.wait_for_text("W-0012")

    # The resident sees every one of her twelve wishes, newest first, in one message with pages.
    before = len(alice.messages)
    await alice.send_command("/mywishes")
    mine = await alice.wait_for_text("您的 12 个心愿")
    assert "（第 1/3 页）" in (mine.text or "")
    assert (mine.text or "").index("W-0012") < (mine.text or "").index("W-0011")
    await alice.press("下一页 ▶", message=mine)
    await alice.press("下一页 ▶", message=await alice.wait_for_text("（第 2/3 页）"))
    last = await alice.wait_for_text("（第 3/3 页）")
    assert "W-0001" in (last.text or "")
    assert len(alice.messages) == before + 1
    await alice.press("📋 W-0001")
    card = await alice.wait_for_text("状态")
    assert "第1号心愿" in (card.text or "")
    assert card.inline_buttons == [["取消这个心愿"]]


async def test_review_pages_through_every_new_tip_in_one_message(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    reporter, admin = sim.person("李记者"), sim.person("管理员", user_id=ADMIN_ID)
    async with db.write() as conn:
        reporter_id = await given_person(conn, reporter)
        made = [
            await tip_rules.create_tip(
                conn,
                reporter_id=reporter_id,
                by_reporter=False,
                category="livelihood",
                description=f"第{n}条线索：路灯坏了",
                location=None,
                media=[],
                now=START_TIME + dt.timedelta(minutes=n),
            )
            for n in range(1, TIPS + 2)
        ]
        # The last one is already accepted: it waits for publication, on the other list.
        await tip_rules.transition(
            conn, made[-1].id, TipAction.ACCEPT, actor_id=reporter_id, actor_roles=[Role.EDITOR], now=START_TIME
        )

    await admin.send_command("/start")
    await admin.next_message()
    before = len(admin.messages)
    await admin.send_command("/review")
    first = await admin.wait_for_text("（第 1/2 页）")
    assert f"待审核线索 {TIPS} 条" in (first.text or "")
    assert "1. T-0001 · 民生 · 第1条线索：路灯坏了" in (first.text or "")
    assert first.inline_buttons == [
        ["📋 T-0001", "📋 T-0002"],
        ["📋 T-0003", "📋 T-0004"],
        ["📋 T-0005"],
        ["下一页 ▶"],
        ["已采用待发布（1）"],
    ]
    seen = re.findall(r"T-(\d{4})", first.text or "")
    await admin.press("下一页 ▶", message=first)
    second = await admin.wait_for_text("（第 2/2 页）")
    seen += re.findall(r"T-(\d{4})", second.text or "")
    assert seen == [f"{n:04d}" for n in range(1, TIPS + 1)]  # every new tip, oldest first, none accepted
    assert first.message_id == second.message_id  # paging edits the one message in place
    assert len(admin.messages) == before + 1

    # A tap shows the tip's card with its decisions; the accepted list is one message too.
    await admin.press("📋 T-0007", message=second)
    card = await admin.wait_for_text("类别：民生")
    assert "第7条线索" in (card.text or "")
    assert card.inline_buttons == [["采用", "不采用"], ["请补充", "已发布"]]
    await admin.press("已采用待发布（1）", message=second)
    accepted = await admin.wait_for_text("已采用待发布的线索 1 条")
    assert "1. T-0008 · 民生 · 第8条线索" in (accepted.text or "")
    await admin.press("📋 T-0008", message=accepted)
    accepted_card = await admin.wait_for_text("T-0008 · 已采用")
    assert "第8条线索" in (accepted_card.text or "")
    assert sim.unanswered_callback_queries() == []
