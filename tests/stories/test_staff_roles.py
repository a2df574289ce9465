"""Stories of staff administration: an admin grants and revokes roles, staff block a troublemaker,
and every action lands in the audit log."""

from __future__ import annotations

from typing import Any

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.people import Person
from storage import users
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import person_id


async def meet(person: Person) -> None:
    """The person says hello first, so the bot knows them."""
    await person.send_command("/start")
    await person.next_message()


def menu_of(sim: BotApiSimulator, person: Person) -> list[str]:
    return [c["command"] for c in sim.commands({"type": "chat", "chat_id": person.user_id})]


async def reply_to_forward(sender: Person, text: str, original: Person) -> None:
    """`sender` replies with `text` to a message they forwarded from `original`."""
    command = text.split()[0]
    forwarded: dict[str, Any] = {
        "message_id": 1,
        "date": 0,
        "chat": dict(sender.chat.chat),
        "from": dict(sender.user),
        "forward_origin": {"type": "user", "date": 0, "sender_user": dict(original.user)},
        "text": "我想当编辑",
    }
    fields = {
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        "reply_to_message": forwarded,
    }
    sender.sim.user_message(sender, sender.chat, fields)


async def test_admin_grants_a_coordinator_who_gets_the_staff_menu(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("管理员", user_id=ADMIN_ID)
    li = sim.person("李协调")
    await meet(admin)
    await meet(li)

    await admin.send_command("/grant", "coordinator", str(await person_id(bot.bot_data.db, li)))
    assert "已授予 李协调「协调员」" in (await admin.next_message()).text
    assert "协调员" in (await li.next_message()).text
    await sim.settle()
    assert "whistle" in menu_of(sim, li)
    assert "grant" not in menu_of(sim, li)
    async with bot.bot_data.db.read() as conn:
        assert "coordinator" in (await users.get_user(conn, await person_id(conn, li))).roles

    await admin.send_command("/revoke", "coordinator", str(await person_id(bot.bot_data.db, li)))
    assert "已收回" in (await admin.next_message()).text
    await sim.settle()
    assert "whistle" not in menu_of(sim, li)


async def test_admin_grants_by_replying_to_a_forwarded_message(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("管理员", user_id=ADMIN_ID)
    zhou = sim.person("周编辑")
    await meet(admin)
    await meet(zhou)

    await reply_to_forward(admin, "/grant editor", zhou)
    assert "周编辑「编辑」" in (await admin.next_message()).text
    async with bot.bot_data.db.read() as conn:
        assert "editor" in (await users.get_user(conn, await person_id(conn, zhou))).roles


async def test_grant_mistakes_get_clear_answers(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("管理员", user_id=ADMIN_ID)
    await meet(admin)
    await admin.send_command("/grant")
    assert "用法" in (await admin.next_message()).text
    await admin.send_command("/grant", "wizard", "123")
    assert "没有这个角色" in (await admin.next_message()).text
    await admin.send_command("/grant", "editor", "abc")
    assert "数字" in (await admin.next_message()).text
    await admin.send_command("/grant", "editor")
    assert "用户ID" in (await admin.next_message()).text
    await admin.send_command("/grant", "editor", "424242")
    assert "还没有和机器人说过话" in (await admin.next_message()).text


async def test_only_admins_grant(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await meet(wang)
    await wang.send_command("/grant", "coordinator", str(await person_id(bot.bot_data.db, wang)))
    assert "没有权限" in (await wang.next_message()).text
    async with bot.bot_data.db.read() as conn:
        assert (await users.get_user(conn, await person_id(conn, wang))).roles == frozenset()


async def test_staff_list_block_unblock_and_audit(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("管理员", user_id=ADMIN_ID)
    li = sim.person("李协调")
    troll = sim.person("捣乱者")
    for person in (admin, li, troll):
        await meet(person)
    await admin.send_command("/grant", "coordinator", str(await person_id(bot.bot_data.db, li)))
    await admin.next_message()

    await li.next_message()  # told of the new role
    await li.send_command("/staff")
    listing = (await li.next_message()).text
    assert "李协调" in listing
    assert "协调员" in listing
    assert f"管理员 · ID {await person_id(bot.bot_data.db, admin)}" in listing

    await li.send_command("/block", str(await person_id(bot.bot_data.db, troll)))
    assert "已限制 捣乱者" in (await li.next_message()).text
    await troll.send_command("/help")
    assert "限制" in (await troll.next_message()).text

    await li.send_command("/block", str(await person_id(bot.bot_data.db, admin)))
    assert "不能限制管理员" in (await li.next_message()).text
    await li.send_command("/block", str(await person_id(bot.bot_data.db, li)))
    assert "不能限制您自己" in (await li.next_message()).text

    await li.send_command("/unblock", str(await person_id(bot.bot_data.db, troll)))
    assert "已解除" in (await li.next_message()).text
    await troll.send_command("/help")
    assert "/start" in (await troll.next_message()).text

    await li.send_command("/audit")
    assert "没有权限" in (await li.next_message()).text
    await admin.send_command("/audit", "10")
    log = (await admin.next_message()).text
    assert "role.grant" in log
    assert "user.block" in log
    assert "user.unblock" in log
    assert log.index("user.unblock") < log.index("user.block")  # newest first
