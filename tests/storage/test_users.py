"""People in storage: first contact, updates, roles, flags."""

from __future__ import annotations

import datetime as dt

import pytest

from storage import users
from storage.db import Database
from storage.errors import NotFound

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


async def _touch(db: Database, user_id: int = 1, name: str = "王阿姨", language: str = "zh-CN") -> users.User:
    async with db.write() as conn:
        person, _ = await users.touch_user(
            conn, user_id=user_id, first_name=name, last_name=None, username=None, language=language, now=NOW
        )
    return person


async def test_first_contact_creates_the_person(db: Database) -> None:
    person = await _touch(db)
    assert person.first_name == "王阿姨"
    assert person.language == "zh-CN"
    assert person.created_at == NOW
    assert person.roles == frozenset()


async def test_later_contact_keeps_the_chosen_language(db: Database) -> None:
    await _touch(db)
    async with db.write() as conn:
        await users.set_language(conn, 1, "en")
    person = await _touch(db, name="王阿姨2", language="zh-CN")
    assert person.language == "en"
    assert person.first_name == "王阿姨2"


async def test_unknown_person_is_not_found(db: Database) -> None:
    async with db.read() as conn:
        with pytest.raises(NotFound):
            await users.get_user(conn, 404)


async def test_roles_are_granted_once_and_revoked(db: Database) -> None:
    await _touch(db)
    async with db.write() as conn:
        assert await users.grant_role(conn, 1, "coordinator", granted_by=None, now=NOW)
        assert not await users.grant_role(conn, 1, "coordinator", granted_by=None, now=NOW)
    async with db.read() as conn:
        assert (await users.get_user(conn, 1)).roles == {"coordinator"}
        assert await users.ids_with_role(conn, "coordinator") == [1]
    async with db.write() as conn:
        assert await users.revoke_role(conn, 1, "coordinator")
        assert not await users.revoke_role(conn, 1, "coordinator")


async def test_writing_again_clears_unreachable(db: Database) -> None:
    await _touch(db)
    async with db.write() as conn:
        await users.mark_unreachable(conn, 1)
    async with db.read() as conn:
        assert (await users.get_user(conn, 1)).unreachable
    assert not (await _touch(db)).unreachable


async def test_a_failed_transaction_changes_nothing(db: Database) -> None:
    await _touch(db)
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await users.set_language(conn, 1, "en")
            raise RuntimeError("boom")
    async with db.read() as conn:
        assert (await users.get_user(conn, 1)).language == "zh-CN"


async def test_blocking_an_unknown_person_is_not_found(db: Database) -> None:
    async with db.write() as conn:
        with pytest.raises(NotFound):
            await users.set_blocked(conn, 404, True)


async def test_digest_toggles_back_and_forth(db: Database) -> None:
    from storage.digests import toggle_digest

    await _touch(db)
    async with db.write() as conn:
        assert await toggle_digest(conn, 1, now=NOW) is False
        assert await toggle_digest(conn, 1, now=NOW) is True
        with pytest.raises(NotFound):
            await toggle_digest(conn, 404, now=NOW)
