"""Stories of publishing (issue 15): an editor posts an accepted tip to the district's channel from /review; it
appears there as ONE album post with its caption, the tip is published with the post's link, the card and the
reporter show the link."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from rules.tips import TipStatus
from simulator import BotApiSimulator
from storage import tips
from tests.stories.test_tips import all_tips, finish_tip, make_role
from tests.stories.wishflow import review_tip

CHANNEL = "tongxin_news"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"channel_id": f"@{CHANNEL}"}


async def test_an_accepted_tip_is_posted_to_the_channel_as_one_album_with_its_caption(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    channel = sim.channel("同心融媒", username=CHANNEL)
    li = sim.person("李记者")
    editor = sim.person("周编辑")
    await make_role(bot, li, "reporter")
    await make_role(bot, editor, "editor")
    await li.send_command("/tip")
    await li.wait_for_text("请发送现场照片")
    await li.send_album([bytes([i]) * 50 for i in range(3)], caption="东城社区志愿者为老人义诊，现场排起长队")
    await li.wait_for_text("分享位置")
    await sim.settle()
    await finish_tip(li)
    [tip] = await all_tips(bot)

    card = await review_tip(editor, "T-0001")
    await editor.press("采用", message=card)
    await li.wait_for_text("T-0001 已被编辑采用")
    accepted = await editor.wait_for_text("T-0001 · 已采用")
    assert ["📢 发布到频道"] in accepted.inline_buttons
    await editor.press("📢 发布到频道", message=accepted)
    done = await editor.wait_for_text("T-0001 已发布到频道")
    link = f"https://t.me/{CHANNEL}/1"
    assert link in (done.text or "")

    # One album of three photos in the channel, the caption on its first photo, nothing else.
    await sim.settle()
    posts = channel.bot_messages
    assert [m.kind for m in posts] == ["photo", "photo", "photo"]
    assert len({m.media_group_id for m in posts}) == 1
    assert posts[0].media_group_id is not None
    assert "东城社区志愿者为老人义诊，现场排起长队" in (posts[0].text or "")
    assert "#民生" in (posts[0].text or "")
    assert [m.text for m in posts[1:]] == [None, None]
    assert "sender_chat" in posts[0].raw

    told = await li.wait_for_text("T-0001")
    async with bot.bot_data.db.read() as conn:
        stored = await tips.get_tip(conn, tip.id)
    assert stored.status == TipStatus.PUBLISHED
    assert stored.published_url == link
    assert any(link in (m.text or "") for m in li.messages), told.text
    # The tip's card now shows it published, with the link.
    card_now = next(m for m in editor.messages if m.message_id == accepted.message_id)
    assert "已发布" in (card_now.text or "")
    assert link in (card_now.text or "")
    assert ["📢 发布到频道"] not in card_now.inline_buttons
