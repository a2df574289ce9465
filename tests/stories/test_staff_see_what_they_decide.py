"""Staff see what they decide on, and every staff notice opens its item (issue 27, item 8): the coordinator
reviewing a wish gets its photo, not "（附有照片）" alone; the editors' new-tip notice carries a button to the tip
(the coordinators' notices had one, the editors' none)."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from tests.stories.test_departments import coordinator_named
from tests.stories.test_tips import finish_tip, make_role
from tests.stories.wishflow import write_wish


async def test_the_coordinator_reviewing_a_wish_sees_its_photo(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await write_wish(alice)  # with a photo
    await alice.wait_for_text("已提交")
    zhou = await coordinator_named(bot, sim, "周协调")
    await zhou.send_command("/pending")
    listed = await zhou.wait_for_text("待审核：1 个心愿")
    await zhou.press("📋 W-0001", message=listed)
    card = await zhou.wait_for_text("提交时间")
    photos = [m for m in zhou.messages if m.kind == "photo"]
    assert [m.text for m in photos] == ["W-0001"]
    assert photos[0].message_id < card.message_id  # seen before the decision buttons
    assert "见上图" in (card.text or "")


async def test_the_editors_new_tip_notice_opens_the_tip(bot: TongxinApp, sim: BotApiSimulator) -> None:
    li, editor = sim.person("李记者"), sim.person("周编辑")
    await make_role(bot, li, "reporter")
    await make_role(bot, editor, "editor")
    await li.send_command("/tip")
    await li.wait_for_text("请发送现场照片")
    await li.send_text("河口镇的橘子丰收了，果农忙着采摘装车")
    await li.wait_for_text("分享位置")
    await finish_tip(li)  # 跳过 the place, 民生, 提交
    notice = await editor.wait_for_text("新线索 T-0001")
    assert notice.inline_buttons == [["📋 T-0001"]]
    await editor.press("📋 T-0001", message=notice)
    card = await editor.wait_for_text("橘子丰收")
    assert card.inline_buttons == [["采用", "不采用"], ["请补充", "已发布"]]
