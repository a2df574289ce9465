"""People and their channel accounts in storage: identities, the person counter, ADMIN_IDS, channel state on erase."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select

from storage import broadcasts, people, privacy, users
from storage.db import Database
from storage.schema import conversation_states, user_data

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


async def test_first_contact_creates_a_person_and_later_ones_find_them(db: Database) -> None:
    async with db.write() as conn:
        first = await people.person_for_identity(
            conn, people.TELEGRAM, 1_000_001, first_name="王阿姨", language="zh-CN", now=NOW
        )
        await users.set_language(conn, first.id, "en")
        await users.mark_unreachable(conn, first.id)
        again = await people.person_for_identity(
            conn, people.TELEGRAM, "1000001", first_name="王秀英", username="wxy", language="zh-CN", now=NOW
        )
        assert await people.find_person(conn, people.TELEGRAM, 1_000_002) is None
    assert again.id == first.id == 1
    assert (again.first_name, again.username, again.language, again.unreachable) == ("王秀英", "wxy", "en", False)


async def test_new_person_ids_skip_ids_already_taken(db: Database) -> None:
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=5, first_name="seeded", last_name=None, username=None, language="zh-CN", now=NOW
        )
        newcomer = await people.person_for_identity(conn, people.TELEGRAM, 5, first_name="x", language="en", now=NOW)
    assert newcomer.id == 6


async def test_admin_ids_are_telegram_ids_mapped_to_people(db: Database) -> None:
    async with db.write() as conn:
        admin = await people.person_for_identity(
            conn, people.TELEGRAM, 9_000_001, first_name="a", language="en", now=NOW
        )
        other = await people.person_for_identity(
            conn, people.TELEGRAM, 1_000_001, first_name="b", language="en", now=NOW
        )
        assert await people.admin_person_ids(conn, [9_000_001, 9_000_002]) == {admin.id}
        # A person whose id happens to equal an admin's Telegram id is not an admin.
        assert await broadcasts.audience_ids(conn, "staff", admin_ids=[other.id]) == []
        assert await broadcasts.audience_ids(conn, "staff", admin_ids=[9_000_001]) == [admin.id]


async def test_the_sender_finds_a_batch_of_recipients_accounts_at_once(db: Database) -> None:
    async with db.write() as conn:
        wang = await people.person_for_identity(
            conn, people.TELEGRAM, 1_000_001, first_name="王阿姨", language="zh-CN", now=NOW
        )
        elsewhere = await people.person_for_identity(
            conn, "wechat", "o-6_bmasdasd", first_name="微信用户", language="zh-CN", now=NOW
        )
        # A second Telegram account linked later: the first one stays the address (as `identity_of` picks it).
        await people.add_identity(conn, wang.id, people.TELEGRAM, 1_000_009, now=NOW + dt.timedelta(days=1))
        found = await people.identities_of(conn, [wang.id, elsewhere.id, 404], people.TELEGRAM)
        assert found == {wang.id: "1000001"}
        assert await people.identity_of(conn, wang.id, people.TELEGRAM) == "1000001"
        assert await people.identities_of(conn, [elsewhere.id], "wechat") == {elsewhere.id: "o-6_bmasdasd"}
        assert await people.identities_of(conn, [], people.TELEGRAM) == {}


async def test_deleteme_finds_channel_state_through_identities(db: Database) -> None:
    telegram_id = 1_000_001
    async with db.write() as conn:
        person = await people.person_for_identity(
            conn, people.TELEGRAM, telegram_id, first_name="王阿姨", language="zh-CN", now=NOW
        )
        # PTB's scratch data and conversation positions are keyed by the Telegram id, not the person id.
        await conn.execute(insert(user_data).values(user_id=telegram_id, data={"draft": "幸福路12号"}))
        await conn.execute(insert(user_data).values(user_id=person.id, data={"someone": "else"}))
        await conn.execute(
            insert(conversation_states),
            [
                {"name": "wish", "key": f"[{telegram_id}, {telegram_id}]", "state": 3},
                {"name": "wish", "key": f"[{person.id}, {person.id}]", "state": 3},
            ],
        )
        exported = await privacy.collect_personal_data(conn, person.id)
        assert exported["identities"][0]["external_id"] == str(telegram_id)
        assert exported["user_data"] == [{"user_id": telegram_id, "data": {"draft": "幸福路12号"}}]
        await privacy.erase_person(conn, person.id, now=NOW)
        left = (await conn.execute(select(user_data.c.user_id))).scalars().all()
        keys = (await conn.execute(select(conversation_states.c.key))).scalars().all()
        # The person can still be found (writing again is the same person), now erased.
        assert (await people.find_person(conn, people.TELEGRAM, telegram_id)) is not None
    assert left == [person.id]
    assert keys == [f"[{person.id}, {person.id}]"]
