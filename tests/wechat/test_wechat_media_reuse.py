"""A photo sent to many WeChat followers is uploaded once and its id reused while WeChat keeps it (temporary media
live 3 days), then uploaded again (issue 26: every image message uploaded the photo anew)."""

from __future__ import annotations

import datetime as dt

from actions import notices
from actions.messages import Notice
from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import media, people

PHOTO = b"\x89PNG the clinic's poster"


async def announce(bot: TongxinApp, clock: ManualClock, followers: list[WeChatPerson], photo: int, n: int) -> None:
    async with bot.bot_data.db.write() as conn:
        for person in followers:
            found = await people.find_person(conn, "wechat", person.openid)
            assert found is not None
            notice = Notice("broadcast.message", {"text": f"义诊通知 {n}"}, media=photo)
            await notices.queue(conn, found.id, notice, now=clock.now(), dedupe_key=f"poster:{n}:{found.id}")
    bot.bot_data.env.wake()


async def test_a_photo_for_many_followers_is_uploaded_once_and_again_after_three_days(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator, clock: ManualClock
) -> None:
    wang, li = wx.person("王阿姨"), wx.person("李大爷")
    for person in (wang, li):
        await person.send_text("你好")
        await person.wait_for_text("许心愿")
    stored = sim.files.add(PHOTO, kind="photo", mime_type="image/png")
    async with wechat_bot.bot_data.db.write() as conn:
        photo = await media.add_media(
            conn, kind="photo", channel=media.TELEGRAM, file_ref=stored.file_id, now=clock.now()
        )

    await announce(wechat_bot, clock, [wang, li], photo, 1)
    first = [await person.wait_for(lambda r: r.kind == "image") for person in (wang, li)]
    assert first[0].text == first[1].text  # one WeChat media id for both
    assert [content for content, _ in wx.media.values()] == [PHOTO]  # uploaded once

    # Should WeChat forget the upload early, its refusal (40007) is answered with one fresh upload.
    wx.media.clear()
    count = len(li.inbox)
    await announce(wechat_bot, clock, [li], photo, 3)
    resent = await li.wait_for(lambda r: r.kind == "image", after=count)
    assert resent.text != first[0].text
    assert [refusal.errcode for refusal in wx.refusals] == [40007]
    wx.refusals.clear()

    clock.advance(dt.timedelta(days=3))  # WeChat has forgotten that upload
    count = len(wang.inbox)
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿", after=count)
    await announce(wechat_bot, clock, [wang], photo, 2)
    again = await wang.wait_for(lambda r: r.kind == "image", after=count)
    assert again.text != resent.text
    assert [content for content, _ in wx.media.values()] == [PHOTO, PHOTO]
