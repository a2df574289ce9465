"""Stories of writing a wish: mistakes at every step are explained and nothing typed is lost, Edit
changes one field, a restart in the middle continues, and it all works in English too."""

from __future__ import annotations

from bot.app import TongxinApp, running
from core.clock import ManualClock, Timer
from core.settings import Settings
from simulator import BotApiSimulator
from storage import wishes as store
from storage.db import Database
from tests.stories.wishflow import ADDRESS, DESCRIPTION, person_id, wait_for_button, write_wish


async def test_wrong_input_at_every_step_is_explained_and_kept(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await alice.send_command("/wish")
    await alice.wait_for_text("请选择")
    await alice.send_text("我要帮忙")
    await alice.wait_for_text("请点击上面的按钮")
    await alice.press("助老助残")
    await alice.wait_for_text("请用文字描述")

    await alice.send_sticker()
    await alice.wait_for_text("不支持贴纸")
    await alice.send_text("长" * 2000)
    await alice.wait_for_text("描述太长了")
    await alice.send_text("帮忙")
    await alice.wait_for_text("描述太短了")
    await alice.send_text(DESCRIPTION)
    await alice.wait_for_text("哪个镇")

    await alice.send_sticker()
    await alice.wait_for_text("请点击上面的按钮")
    await alice.press("东城社区")
    await alice.wait_for_text("具体在哪里")
    await alice.send_sticker()
    await alice.wait_for_text("请发送位置")
    await alice.send_text("路" * 300)
    await alice.wait_for_text("地址太长了")
    await alice.send_text(ADDRESS)
    await alice.wait_for_text("照片")

    await alice.send_document(b"%PDF-1.4", filename="photo.pdf")
    await alice.wait_for_text("以“照片”方式发送")
    await alice.send_sticker()
    await alice.wait_for_text("请发送一张照片")
    await alice.press_reply_button("跳过")
    await alice.wait_for_text("留个电话")

    await alice.send_contact(phone_number="+86 139 0000 0000")  # someone else's card
    await alice.wait_for_text("分享您自己的号码")
    await alice.send_text("打电话给我")
    await alice.wait_for_text("不像电话号码")
    await alice.send_text("13912345678")
    await wait_for_button(alice, "✅ 提交")

    summary = alice.last_message
    assert summary is not None
    assert DESCRIPTION in summary.text
    assert ADDRESS in summary.text
    assert "13912345678" in summary.text
    await alice.send_text("好了")
    await alice.wait_for_text("请使用摘要下方的按钮")
    await alice.press("✅ 提交")
    await alice.wait_for_text("W-0001")
    async with bot.bot_data.db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    assert (wish.description, wish.address, wish.phone, wish.photo_file_id) == (
        DESCRIPTION,
        ADDRESS,
        "13912345678",
        None,
    )


async def test_edit_changes_one_field_and_keeps_the_others(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await write_wish(alice, submit=False)
    await alice.press("✏️ 修改")
    await wait_for_button(alice, "描述")
    await alice.press("描述")
    await alice.wait_for_text("请用文字描述")
    await alice.send_text("想请人帮忙修一下漏水的水龙头")
    await wait_for_button(alice, "✅ 提交")
    summary = alice.last_message
    assert summary is not None
    assert "漏水的水龙头" in summary.text
    assert ADDRESS in summary.text
    await alice.press("✏️ 修改")
    await wait_for_button(alice, "地址")
    await alice.press("地址")
    await alice.wait_for_text("具体在哪里")
    await alice.press_reply_button("📍 发送我的位置")
    await wait_for_button(alice, "✅ 提交")
    await alice.press("✅ 提交")
    await alice.wait_for_text("W-0001")
    async with bot.bot_data.db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    assert wish.description == "想请人帮忙修一下漏水的水龙头"
    assert (wish.category, wish.area, wish.address, wish.phone) == (
        "elderly_disabled",
        "东城社区",
        ADDRESS,
        alice.phone,
    )
    assert wish.location == alice.location
    assert wish.photo_file_id


async def test_cancel_leaves_nothing_behind(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await write_wish(alice, submit=False)
    await alice.press("✖️ 取消")
    await alice.wait_for_text("已取消")
    await alice.send_command("/wish")
    await alice.wait_for_text("请选择")
    await alice.send_command("/cancel")
    await alice.wait_for_text("已取消")
    async with bot.bot_data.db.read() as conn:
        assert await store.wishes_of_resident(conn, await person_id(conn, alice)) == []


async def test_restart_in_the_middle_of_a_wish_continues(
    sim: BotApiSimulator, story_db: Database, settings: Settings, clock: ManualClock, timer: Timer
) -> None:
    alice = sim.person("王阿姨")
    async with running(settings, db=story_db, clock=clock, poll_timeout=1, timer=timer):
        await alice.send_command("/wish")
        await alice.wait_for_text("请选择")
        await alice.press("助老助残")
        await alice.wait_for_text("请用文字描述")
        await alice.send_text(DESCRIPTION)
        await alice.wait_for_text("哪个镇")
        await sim.settle()

    # The bot is stopped and started again on the same database; she goes on where she was.
    async with running(settings, db=story_db, clock=clock, poll_timeout=1, timer=timer):
        await alice.press("东城社区")
        await alice.wait_for_text("具体在哪里")
        await alice.press_reply_button("跳过")
        await alice.wait_for_text("照片")
        await alice.press_reply_button("跳过")
        await alice.wait_for_text("留个电话")
        await alice.press_reply_button("跳过")
        await wait_for_button(alice, "✅ 提交")
        await alice.press("✅ 提交")
        reply = await alice.wait_for_text("W-0001")
        async with story_db.read() as conn:
            wish = await store.get_wish_by_ref(conn, 1)
        assert (wish.description, wish.category, wish.area) == (DESCRIPTION, "elderly_disabled", "东城社区")
        assert "W-0001" in reply.text
    assert sim.invalid_requests == []


async def test_a_wish_in_english(bot: TongxinApp, sim: BotApiSimulator) -> None:
    bob = sim.person("Bob", language_code="en")
    await bob.send_command("/start")
    await wait_for_button(bob, "🙏 Ask for help (micro-wish)")
    await bob.press("🙏 Ask for help (micro-wish)")
    await bob.wait_for_text("What kind of help")
    await bob.press("Environment clean-up")
    await bob.wait_for_text("describe")
    await bob.send_document(b"x", filename="a.txt", mime_type="text/plain")
    await bob.wait_for_text("in text")
    await bob.send_text("Rubbish piling up behind the market")
    await bob.wait_for_text("town or community")
    await bob.press("Skip")
    await bob.wait_for_text("Where exactly")
    await bob.press_reply_button("📍 Share my location")
    await bob.wait_for_text("photo")
    await bob.send_photo()
    await bob.wait_for_text("phone")
    await bob.press_reply_button("Skip")
    await wait_for_button(bob, "✅ Submit")
    summary = bob.last_message
    assert summary is not None
    assert "Rubbish piling up" in summary.text
    assert "location shared" in summary.text
    await bob.press("✅ Submit")
    reply = await bob.wait_for_text("W-0001")
    assert reply.text.startswith("Submitted!")
    await bob.send_command("/mywishes")
    await wait_for_button(bob, "📋 W-0001")
    await bob.press("📋 W-0001")
    card = await bob.wait_for_text("Status")
    assert "waiting for the centre's review" in card.text
