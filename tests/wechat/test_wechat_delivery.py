"""Notices on WeChat beyond text: a held bulk notice expires after 7 days (marked so) instead of waiting forever;
the volunteer's proof photo taken on Telegram reaches 王阿姨 as a WeChat image, and her photo from WeChat reaches the
volunteer on Telegram; a notice's map pin becomes text."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from actions import notices
from actions import wishes as wish_actions
from actions.messages import Notice
from bot.app import TongxinApp
from channels.wechat.transport import HELD_FOR
from core.clock import ManualClock, Timer
from rules.roles import Role
from rules.wishes import Actor
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from storage import media, people
from storage import wishes as store
from storage.schema import outbox as outbox_table
from tests.stories.wishflow import approved_volunteers, claim_from_tasks
from tests.wechat.journey import claimed_wechat_wish, report_done_with_photo, start_wechat_wish

PROOF = b"\x89PNG proof: the tap is fixed"
HER_PHOTO = b"\xff\xd8 the dripping tap"


async def _person_of(bot: TongxinApp, openid: str) -> int:
    async with bot.bot_data.db.read() as conn:
        found = await people.find_person(conn, "wechat", openid)
    assert found is not None
    return found.id


async def _row(bot: TongxinApp, key: str) -> tuple[str, str | None]:
    async with bot.bot_data.db.read() as conn:
        row = (
            await conn.execute(
                select(outbox_table.c.status, outbox_table.c.last_error).where(outbox_table.c.dedupe_key == key)
            )
        ).one()
    return row.status, row.last_error


async def _wait_row(bot: TongxinApp, key: str, status: str) -> tuple[str, str | None]:
    for _ in range(200):
        found = await _row(bot, key)
        if found[0] == status:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox row {key} is {found}, not {status}")


async def test_a_held_bulk_notice_expires_after_7_days_and_is_marked_so(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock, timer: Timer
) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    person = await _person_of(wechat_bot, wang.openid)

    # Two days of silence: her window is closed, so a bulk notice waits for her.
    clock.advance(dt.timedelta(hours=49))
    async with db.write() as conn:
        await notices.queue(
            conn,
            person,
            Notice("broadcast.message", {"text": "周六社区义诊"}),
            now=clock.now(),
            lane="bulk",
            dedupe_key="bulk:clinic",
        )
    wechat_bot.bot_data.env.wake()
    status, error = await _wait_row(wechat_bot, "bulk:clinic", "pending")
    for _ in range(100):
        status, error = await _row(wechat_bot, "bulk:clinic")
        if error:
            break
        await asyncio.sleep(0.05)
    assert status == "pending"
    assert error is not None
    assert error.startswith("outside the WeChat")

    # Six days later it still waits; a week after it was queued it is given up, marked expired.
    clock.advance(dt.timedelta(days=6))
    wechat_bot.bot_data.env.wake()
    await timer.sleep(0.5)
    assert (await _row(wechat_bot, "bulk:clinic"))[0] == "pending"
    clock.advance(HELD_FOR - dt.timedelta(days=6))
    wechat_bot.bot_data.env.wake()
    status, error = await _wait_row(wechat_bot, "bulk:clinic", "dropped")
    assert error is not None
    assert error.startswith("expired: outside the WeChat customer-service window")

    # When she writes again, the stale notice does not arrive.
    count = len(wang.inbox)
    await wang.send_text("我的心愿")
    await wang.wait_for_text("还没有提交过心愿", after=count)
    await timer.sleep(0.5)
    assert all("义诊" not in r.text for r in wang.inbox)


async def test_the_proof_photo_from_telegram_reaches_her_on_wechat_as_an_image(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    xiaozhou = sim.person("小周")
    await claimed_wechat_wish(env, wang, xiaozhou, "家里的水龙头坏了，想请人帮忙修一下")
    await wang.wait_for_text("认领了您的心愿")

    # 小周 reports it done on Telegram, with a photo.
    await report_done_with_photo(xiaozhou, PROOF)

    # 王阿姨 gets the done notice with its choices, then the photo as an image uploaded to WeChat.
    done = await wang.wait_for_text("已经办好了")
    assert done.kind == "msgmenu"
    image = await wang.wait_for(lambda r: r.kind == "image")
    assert wang.inbox.index(image) == wang.inbox.index(done) + 1
    assert wx.media[image.text][0] == PROOF
    # Typing "1" still means the notice's first choice (the image carries none).
    await wang.send_text("1")
    await wang.wait_for_text("打分")


async def test_her_photo_from_wechat_reaches_the_telegram_volunteer_who_claims(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    """Her photo is downloaded from WeChat at once and uploaded to Telegram for the volunteer who claims, and its
    Telegram reference kept (the journeys of tests/journeys cover the rest of her wish on both channels)."""
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    xiaozhou = sim.person("小周")
    await approved_volunteers(env.db, [xiaozhou])
    await start_wechat_wish(wang, "助老助残", "家里的水龙头坏了，想请人帮忙修一下")
    await wang.tap("东城社区")
    await wang.wait_for_text("具体在哪里")
    await wang.send_text("跳过")
    await wang.wait_for_text("照片")
    await wang.send_photo(HER_PHOTO)
    await wang.wait_for_text("留个电话")
    await wang.send_text("跳过")
    await wang.wait_for_text("请核对")
    await wang.tap("提交")
    await wang.wait_for_text("W-0001")
    async with env.db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    await wish_actions.approve(env, Actor(None, frozenset({Role.COORDINATOR})), wish.id)

    await claim_from_tasks(xiaozhou)
    await xiaozhou.wait_for_text("您认领了 W-0001")
    await xiaozhou.wait_for(lambda: any(m.kind == "photo" for m in xiaozhou.messages), what="her photo")
    assert next(m for m in xiaozhou.messages if m.kind == "photo").photo_bytes == HER_PHOTO
    assert wish.photo_media_id is not None
    await sim.settle(quiet=0.3)  # the Telegram reference is kept once the upload's answer is back
    async with env.db.read() as conn:
        assert await media.file_ref(conn, wish.photo_media_id, "wechat")
        assert await media.file_ref(conn, wish.photo_media_id, "file")
        assert await media.file_ref(conn, wish.photo_media_id, "telegram")
    # Nothing for 王阿姨 went to Telegram.
    assert all(str(record.chat_id) != wang.openid for record in sim.records)


async def test_a_notice_with_a_pin_shows_the_place_as_text_on_wechat(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock
) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    person = await _person_of(wechat_bot, wang.openid)
    async with db.write() as conn:
        await notices.queue(
            conn,
            person,
            Notice("broadcast.message", {"text": "周六上午社区义诊，地点：文化广场"}, location=(30.2741, 120.1551)),
            now=clock.now(),
        )
    wechat_bot.bot_data.env.wake()
    shown = await wang.wait_for_text("文化广场")
    assert shown.kind == "text"
    assert "30.27410, 120.15510" in shown.text
    assert "位置" in shown.text
