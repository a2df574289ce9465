"""Stories of spoken wishes: a voice message is the description; the coordinator and, after the claim, the
volunteer get it as voice, and the cards say "（语音 0:25）"."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.people import Person
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import approved_volunteers, open_from_list, person_id, review_tip, wait_for_button


async def finish_wish(wang: Person) -> None:
    await wang.wait_for_text("哪个镇")
    await wang.press("东城社区")
    await wang.wait_for_text("具体在哪里")
    await wang.send_text("幸福路12号")
    await wang.wait_for_text("照片")
    await wang.press_reply_button("跳过")
    await wang.wait_for_text("留个电话")
    await wang.press_reply_button("跳过")
    await wait_for_button(wang, "✅ 提交")


async def test_a_spoken_wish_reaches_the_coordinator_and_the_claimer_as_voice(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    wang = sim.person("王阿姨")
    xiaozhou = sim.person("小周")
    admin = sim.person("陈主任", user_id=ADMIN_ID)
    await approved_volunteers(bot.bot_data.db, [xiaozhou])
    await wang.send_command("/wish")
    await wang.wait_for_text("请选择")
    await wang.press("助老助残")
    await wang.wait_for_text("也可以直接发一段语音")
    await wang.send_voice(duration=25)
    await wang.wait_for_text("收到您的语音（0:25）")
    await finish_wish(wang)
    assert "（语音 0:25）" in (wang.messages[-1].text or "")
    await wang.press("✅ 提交")
    await wang.wait_for_text("已提交")
    async with bot.bot_data.db.read() as conn:
        wish = (await store.wishes_of_resident(conn, await person_id(conn, wang)))[0]
    assert (wish.description, wish.voice_seconds) == ("", 25)
    assert wish.voice_file_id is not None

    await admin.send_command("/pending")
    await open_from_list(admin, "📋 W-0001")  # /pending is one list; a tap brings the voice, then the card
    card = await admin.wait_for_text("（语音 0:25）")
    voices = [m for m in admin.messages if m.kind == "voice"]
    assert len(voices) == 1
    assert voices[0].voice_duration == 25
    assert voices[0].message_id < card.message_id  # heard before the card's buttons
    # No text: the coordinator writes one line for the volunteers' list; the voice message stays.
    await admin.press("✍️ 写一句摘要")
    await admin.wait_for_text("请用一句话概括这段语音")
    await admin.send_text("东城社区独居老人想请人每周帮忙买菜")
    await wait_for_button(admin, "✅ 通过")
    await admin.wait_for_text("东城社区独居老人想请人每周帮忙买菜")
    await admin.press("✅ 通过")
    await wang.wait_for_text("已通过审核")

    await xiaozhou.send_command("/tasks")
    listing = await xiaozhou.wait_for_text("（语音 0:25）")
    assert "东城社区独居老人想请人每周帮忙买菜" in (listing.text or "")
    await xiaozhou.press("查看 W-0001")
    await wait_for_button(xiaozhou, "今天认领")
    await xiaozhou.press("今天认领")
    await xiaozhou.wait_for_text("您认领了 W-0001")
    await xiaozhou.wait_for(lambda: any(m.kind == "voice" for m in xiaozhou.messages))
    assert [m.voice_duration for m in xiaozhou.messages if m.kind == "voice"] == [25]


async def test_a_voice_message_outside_any_conversation_is_offered_as_a_wish(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    wang = sim.person("王阿姨")
    await wang.send_voice(duration=12)
    await wang.wait_for_text("收到您的语音")
    await wang.press("🙋 提交为微心愿")
    await wang.wait_for_text("请选择")
    await wang.press("助老助残")
    await finish_wish(wang)
    await wang.press("✅ 提交")
    await wang.wait_for_text("已提交")
    async with bot.bot_data.db.read() as conn:
        wish = (await store.wishes_of_resident(conn, await person_id(conn, wang)))[0]
    assert (wish.category, wish.voice_seconds) == ("elderly_disabled", 12)


async def test_a_voice_message_over_three_minutes_is_refused(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/wish")
    await wang.wait_for_text("请选择")
    await wang.press("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_voice(duration=200)
    await wang.wait_for_text("这段语音太长了")
    await wang.send_text("想请人帮忙买菜")
    await wang.wait_for_text("哪个镇")


async def test_a_spoken_tip_reaches_the_editor_as_voice(bot: TongxinApp, sim: BotApiSimulator) -> None:
    zhang = sim.person("张记者")
    admin = sim.person("陈主任", user_id=ADMIN_ID)
    await zhang.send_command("/tip")
    await zhang.wait_for_text("照片")
    await zhang.send_voice(duration=30)
    await zhang.wait_for_text("分享位置")
    await zhang.press_reply_button("跳过")
    await zhang.wait_for_text("请选择线索类别")
    await zhang.press("民生")
    summary = await zhang.wait_for_text("请确认线索内容")
    assert "（语音 0:30）" in (summary.text or "")
    await zhang.press("提交")
    await zhang.wait_for_text("线索已提交")
    card = await review_tip(admin, "T-0001")
    assert "（语音 0:30）" in (card.text or "")
    assert [m.voice_duration for m in admin.messages if m.kind == "voice"] == [30]
