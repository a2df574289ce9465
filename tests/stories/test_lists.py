"""Long lists are one message with pages: /pending and /mywishes reach every item page by page (no cut-off
at ten), each reply is a single message, and a tap on an item shows its card with its buttons."""

from __future__ import annotations

import re

from bot.app import TongxinApp
from rules import wishes as lifecycle
from rules.wishes import WishDraft
from simulator import BotApiSimulator
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.wishflow import given_person, wait_for_button

WISHES = 12


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
    await admin.press("下一页 ▶", message=second)
    third = await admin.wait_for_text("（第 3/3 页）")
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
