"""Stories of staff administration: an admin grants and revokes roles, staff block a troublemaker,
and every action lands in the audit log."""

from __future__ import annotations

import re
from typing import Any

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.people import Person
from storage import staff, users
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

    # A bare number is the person's Telegram user id (what the usage text's example shows).
    await admin.send_command("/grant", "coordinator", str(li.user_id))
    li_ref = f"P-{await person_id(bot.bot_data.db, li)}"
    assert f"已授予 李协调（{li_ref}）「协调员」" in (await admin.next_message()).text
    assert "协调员" in (await li.next_message()).text
    await sim.settle()
    assert "whistle" in menu_of(sim, li)
    assert "grant" not in menu_of(sim, li)
    async with bot.bot_data.db.read() as conn:
        assert "coordinator" in (await users.get_user(conn, await person_id(conn, li))).roles

    # An internal person is written as cards and /staff show them: P-12.
    await admin.send_command("/revoke", "coordinator", li_ref)
    assert "已收回" in (await admin.next_message()).text
    await sim.settle()
    assert "whistle" not in menu_of(sim, li)


async def test_admin_grants_by_replying_to_a_forwarded_message(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("管理员", user_id=ADMIN_ID)
    zhou = sim.person("周编辑")
    await meet(admin)
    await meet(zhou)

    await reply_to_forward(admin, "/grant editor", zhou)
    granted = (await admin.next_message()).text
    assert "周编辑（P-" in granted
    assert "「编辑」" in granted
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
    # Characters that are "digits" to str.isdigit but not numbers to int(): a superscript, a circled one.
    for word in ("²", "①", "P-²"):
        await admin.send_command("/grant", "editor", word)
        assert "数字" in (await admin.next_message()).text
    await admin.send_command("/grant", "editor")
    assert "Telegram 用户 ID" in (await admin.next_message()).text
    await admin.send_command("/grant", "editor", "424242")
    assert "找不到 424242：数字是 Telegram 用户 ID" in (await admin.next_message()).text
    await admin.send_command("/grant", "editor", "P-424242")
    assert "找不到 P-424242" in (await admin.next_message()).text


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
    await admin.send_command("/grant", "coordinator", f"P-{await person_id(bot.bot_data.db, li)}")
    await admin.next_message()

    await li.next_message()  # told of the new role
    await li.send_command("/staff")
    listing = (await li.next_message()).text
    assert "李协调" in listing
    assert "协调员" in listing
    assert f"管理员 · P-{await person_id(bot.bot_data.db, admin)}" in listing

    await li.send_command("/block", str(troll.user_id))
    assert "已限制 捣乱者" in (await li.next_message()).text
    await troll.send_command("/help")
    assert "限制" in (await troll.next_message()).text

    await li.send_command("/block", str(admin.user_id))
    assert "不能限制管理员" in (await li.next_message()).text
    await li.send_command("/block", f"P-{await person_id(bot.bot_data.db, li)}")
    assert "不能限制您自己" in (await li.next_message()).text

    await li.send_command("/unblock", f"p{await person_id(bot.bot_data.db, troll)}")
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


async def test_a_number_is_a_telegram_id_never_a_person_id(bot: TongxinApp, sim: BotApiSimulator) -> None:
    """The attack's confusion: `/grant coordinator 50002` with a Telegram id answered "never written" (it read the
    number as an internal id), and a number that is one person's internal id and another's Telegram id named the
    wrong one. A bare number now always names a Telegram user; an internal person is P-n."""
    admin = sim.person("管理员", user_id=ADMIN_ID)
    await meet(admin)
    early = sim.person("老用户")
    await meet(early)
    early_id = await person_id(bot.bot_data.db, early)
    # A Telegram account whose id is 老用户's internal id.
    decoy = sim.person("同号的人", user_id=early_id)
    await meet(decoy)
    await admin.send_command("/grant", "monitor", str(early_id))
    assert "已授予 同号的人" in (await admin.next_message()).text
    async with bot.bot_data.db.read() as conn:
        assert "monitor" not in (await users.get_user(conn, early_id)).roles
        assert "monitor" in (await users.get_user(conn, await person_id(conn, decoy))).roles


async def test_a_single_use_staff_invite_makes_a_coordinator_without_any_id(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    admin = sim.person("管理员", user_id=ADMIN_ID)
    li, late = sim.person("李协调"), sim.person("晚到的人")
    await meet(admin)
    await admin.send_command("/invite", "coordinator")
    created = (await admin.wait_for_text("邀请链接已生成")).text or ""
    assert "只能用一次" in created
    match = re.search(r"start=(sinv_\S+)", created)
    assert match is not None
    await li.send_command("/start", match.group(1))
    assert "您现在是「协调员」了" in (await li.wait_for_text("欢迎")).text
    await admin.wait_for_text("李协调 打开了您的「协调员」邀请链接")
    await sim.settle()
    assert "whistle" in menu_of(sim, li)
    # Used once: the next person who opens it gets nothing.
    await late.send_command("/start", match.group(1))
    await late.wait_for_text("链接")
    async with bot.bot_data.db.read() as conn:
        assert "coordinator" not in (await users.get_user(conn, await person_id(conn, late))).roles
        log = await staff.recent_audit(conn, 10)
    assert {"invite.create", "invite.use", "role.grant"} <= {entry.action for entry in log}
    # Only admins make staff invites.
    await li.send_command("/invite", "editor")
    assert "没有权限" in (await li.wait_for_text("权限")).text
