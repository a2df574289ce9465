"""The reporter's journey, one story on every channel: 张记者 sends a photo lead (a photo, what happened, the place
skipped, a category), 周编辑 (on Telegram) sees it with its photos and takes it, and 张记者 is told."""

from __future__ import annotations

import pytest

from rules.roles import Role
from storage import tips
from tests.journeys.people import INDIRECT, JOURNEY, Town, journey_runs
from tests.stories.wishflow import review_tip

PHOTO = b"\xff\xd8\xff\xe0 water main, north side"
WHAT = "人民路口水管爆裂，水漫到路面，抢修队已经到场"


@pytest.mark.parametrize(JOURNEY, journey_runs(telegram_on="sqlite"), indirect=INDIRECT)
async def test_a_reporter_sends_a_photo_lead_and_hears_it_was_taken(town: Town) -> None:
    db = town.env.db
    editor = await town.staff("周编辑", Role.EDITOR)
    zhang = await town.with_role(town.person("张记者"), Role.REPORTER)

    await zhang.menu("tip")
    await zhang.sees("照片")
    await zhang.send_photo(PHOTO)
    await zhang.sees()
    await zhang.say(WHAT)
    await zhang.sees("位置")
    await zhang.say("跳过")
    await zhang.sees("请选择线索类别")
    await zhang.choose("民生")
    await zhang.sees("请确认线索内容", "照片/视频：1", WHAT)
    await zhang.choose("提交")
    await zhang.sees("T-0001")
    async with db.read() as conn:
        [tip] = await tips.review_queue(conn, 10)
    assert tip.reporter_id == await zhang.person_id(db)
    assert tip.by_reporter
    assert (tip.description, tip.category, tip.location) == (WHAT, "livelihood", None)
    assert [m.kind for m in tip.media] == ["photo"]

    # The editor sees the lead with its photo and takes it; the reporter is told.
    await editor.wait_for_text("新线索 T-0001")
    card = await review_tip(editor, "T-0001")
    assert WHAT in (card.text or "")
    assert [m.photo_bytes for m in editor.messages if m.kind == "photo"] == [PHOTO]
    await editor.press("采用", message=card)
    await zhang.sees("您的线索 T-0001 已被编辑采用")
    async with db.read() as conn:
        assert (await tips.get_tip(conn, tip.id)).status == "accepted"
