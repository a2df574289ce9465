"""Stories of the basics: a person meets the bot, asks for help, changes language, cancels."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from storage import users
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import person_id


async def test_new_person_is_welcomed_in_chinese(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨", language_code="zh-hans")
    await alice.send_command("/start")
    reply = await alice.next_message()
    assert "您好，王阿姨" in reply.text
    assert "同心" in reply.text
    async with bot.bot_data.db.read() as conn:
        stored = await users.get_user(conn, await person_id(conn, alice))
    assert stored.first_name == "王阿姨"
    assert stored.language == "zh-CN"


async def test_new_person_with_english_telegram_is_welcomed_in_english(bot: TongxinApp, sim: BotApiSimulator) -> None:
    bob = sim.person("Bob", language_code="en")
    await bob.send_command("/start")
    reply = await bob.next_message()
    assert reply.text.startswith("Hello, Bob!")


async def test_language_choice_is_remembered(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨", language_code="zh-hans")
    await alice.send_command("/language")
    await alice.next_message()
    await alice.press("English")
    await alice.wait_for_text("English from now on")
    await alice.send_command("/help")
    reply = await alice.next_message()
    assert reply.text.startswith("Commands you can use:")
    # The person's own menu follows their choice.
    assert any(
        c["command"] == "help" and c["description"].startswith("Show")
        for c in sim.commands({"type": "chat", "chat_id": alice.user_id})
    )


async def test_help_lists_only_the_persons_commands(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await alice.send_command("/help")
    reply = await alice.next_message()
    assert "/start" in reply.text
    assert "/language" in reply.text


async def test_cancel_outside_a_conversation(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await alice.send_command("/cancel")
    assert "没有进行中的操作" in (await alice.next_message()).text


async def test_unknown_deep_link_still_welcomes(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await alice.send_command("/start", "inv_doesnotexist")
    first = await alice.next_message()
    assert "无效" in first.text
    assert "您好" in (await alice.next_message()).text


async def test_default_menus_are_set_per_language(bot: TongxinApp, sim: BotApiSimulator) -> None:
    zh = sim.commands(None, "zh")
    en = sim.commands(None, "en")
    assert [c["command"] for c in zh] == [c["command"] for c in en]
    assert zh[0]["description"] != en[0]["description"]


async def test_blocked_person_is_told_and_nothing_else_happens(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await alice.send_command("/start")
    await alice.next_message()
    async with bot.bot_data.db.write() as conn:
        await users.set_blocked(conn, await person_id(conn, alice), True)
    await alice.send_command("/help")
    reply = await alice.next_message()
    assert "限制" in reply.text
    await sim.settle()
    assert len(alice.messages) == 2


async def test_admin_gets_a_personal_menu(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("管理员", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.next_message()
    await sim.settle()
    assert sim.commands({"type": "chat", "chat_id": ADMIN_ID}, "")
