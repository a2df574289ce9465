"""One case across the centres: a resident confirms a wish done with a proof photo; once its volunteer agrees,
the newsroom gets the photo as a story lead linked to the wish."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from storage import tips, users
from tests.conftest import START_TIME
from tests.stories.wishflow import (
    DESCRIPTION,
    approved_volunteers,
    claim_from_tasks,
    open_wish,
    person_id,
    review_tip,
    wait_for_button,
)


async def test_confirmed_wish_becomes_a_story_lead_with_the_volunteers_consent(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    alice = sim.person("王阿姨")
    xiaoli = sim.person("小李")
    zhou = sim.person("周编辑")
    db = bot.bot_data.db
    await approved_volunteers(db, [xiaoli])
    await open_wish(db, alice)
    await zhou.send_command("/start")
    await zhou.next_message()
    async with db.write() as conn:
        await users.grant_role(conn, await person_id(conn, zhou), "editor", granted_by=None, now=START_TIME)

    # The volunteer claims, does it and sends a proof photo.
    await claim_from_tasks(xiaoli)
    await xiaoli.wait_for_text("您认领了 W-0001")
    await xiaoli.send_command("/mytasks")
    await wait_for_button(xiaoli, "📋 W-0001")
    await xiaoli.press("📋 W-0001")
    await wait_for_button(xiaoli, "✅ 完成了")
    await xiaoli.press("✅ 完成了")
    await xiaoli.wait_for_text("用了多长时间")
    await xiaoli.press("2 小时")
    await xiaoli.wait_for_text("完成后的照片")
    await xiaoli.send_photo(b"\x89PNG proof")
    await xiaoli.wait_for_text("留句话")
    await xiaoli.press("跳过")
    await xiaoli.wait_for_text("辛苦了")

    # The resident confirms; only then is the volunteer asked, with the photo.
    await alice.wait_for_text("已经办好了")
    await sim.settle()
    async with db.read() as conn:
        assert await tips.find_story_lead(conn, 1) is None
    await alice.press("已完成，谢谢！")
    ask = await xiaoli.wait_for_text("融媒体中心可以把您的现场照片作为新闻线索吗")
    assert ask.kind == "photo"
    assert "W-0001" in (ask.text or "")
    async with db.read() as conn:
        assert await tips.review_queue(conn) == []  # nothing reaches the editors before the volunteer agrees

    await xiaoli.press("同意", message=ask)
    await xiaoli.wait_for_text("已作为线索 T-0001")
    await zhou.wait_for_text("新线索 T-0001，来自心愿 W-0001")
    card = await review_tip(zhou, "T-0001")
    assert "T-0001 来自心愿 W-0001" in (card.text or "")
    assert DESCRIPTION in (card.text or "")
    async with db.read() as conn:
        [lead] = await tips.review_queue(conn)
    assert lead.source_wish_ref == 1
    assert lead.reporter_id == await person_id(db, xiaoli)
    assert len(lead.media) == 1
