"""People are not Telegram ids: a person id is what the database keeps, a Telegram id is only where to reach them.

The simulator's Telegram ids start at 1,000,001 and person ids at 1. Decoy Telegram accounts whose ids equal the
person ids of the people in the story show it end to end: anything sent to a person id as if it were a chat lands
with a decoy, and the story checks they got nothing.
"""

from __future__ import annotations

import asyncio

from actions.messages import Notice
from bot.app import TongxinApp
from simulator import BotApiSimulator
from storage import outbox, people
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import approved_volunteers, claim_from_tasks, open_wish, person_id, write_wish


async def test_a_wish_and_its_claim_keep_person_ids_and_chats_apart(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    decoys = [sim.person(f"诱饵{i}", user_id=i) for i in (1, 2, 3)]
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await alice.send_command("/start")
    await alice.wait_for_text("您好")
    await approved_volunteers(db, [xiaoli])
    alice_id, xiaoli_id = await person_id(db, alice), await person_id(db, xiaoli)
    assert (alice_id, xiaoli_id) == (1, 2)
    assert alice_id != alice.user_id
    assert xiaoli_id != xiaoli.user_id

    wish = await open_wish(db, alice)
    assert wish.resident_id == alice_id
    await claim_from_tasks(xiaoli)
    await xiaoli.wait_for_text("您认领了 W-0001")
    await alice.wait_for_text("志愿者 小李 认领了您的心愿 W-0001")
    await sim.settle()

    async with db.read() as conn:
        stored = await store.get_wish(conn, wish.id)
        told = await outbox.messages_for(conn, alice_id)
        assert await people.telegram_id_of(conn, alice_id) == alice.user_id
    assert (stored.status, stored.claimed_by) == ("claimed", xiaoli_id)
    assert [(row["payload"]["key"], row["status"]) for row in told] == [("wish.notice_claimed", "sent")]
    for decoy in decoys:
        assert sim.sent_to(decoy.user_id) == [], f"something meant for person {decoy.user_id} went to chat"


async def test_the_admin_is_recognised_by_telegram_id_and_told_under_their_person_id(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    db = bot.bot_data.db
    decoy = sim.person("诱饵", user_id=1)
    admin, alice = sim.person("李主任", user_id=ADMIN_ID), sim.person("王阿姨")
    await admin.send_command("/start")
    await admin.wait_for_text("您好")
    admin_id = await person_id(db, admin)
    assert admin_id == 1
    await write_wish(alice)
    await alice.wait_for_text("W-0001")
    # ADMIN_IDS name the Telegram account; the review notice is queued for the admin's person and reaches their chat.
    await admin.wait_for_text("W-0001")
    async with db.read() as conn:
        keys = [row["payload"]["key"] for row in await outbox.messages_for(conn, admin_id)]
    assert "pending.notice_new_wish" in keys
    await sim.settle()
    assert sim.sent_to(decoy.user_id) == []


async def test_a_person_without_a_telegram_identity_is_not_sent_to(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    decoy = sim.person("诱饵", user_id=1)
    async with db.write() as conn:
        elsewhere = await people.person_for_identity(
            conn, "wechat", "o-6_bmasdasd", first_name="微信用户", language="zh-CN", now=bot.bot_data.clock.now()
        )
    assert elsewhere.id == 1
    await bot.bot_data.notifier.notify(elsewhere.id, Notice("digest.now_on"), lane="urgent", dedupe_key="nowhere:1")
    row: dict[str, object] = {}
    for _ in range(100):
        async with db.read() as conn:
            [row] = await outbox.messages_for(conn, elsewhere.id)
        if row["status"] != "pending":
            break
        await asyncio.sleep(0.05)
    assert row["status"] == "failed"
    assert row["last_error"] == "the recipient has no Telegram identity"
    await sim.settle()
    assert sim.sent_to(decoy.user_id) == []
