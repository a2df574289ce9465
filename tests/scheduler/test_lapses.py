"""The system's own actions on lapsed wishes, on SQLite and PostgreSQL: each moves the wish and writes every
notice in one transaction, each notice under the condition that keeps it true, and does nothing when the
wish moved on meanwhile."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any, cast

from actions import lapses
from actions.env import Env
from core.clock import ManualClock
from core.settings import load_settings
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import Actor
from simulator import Person
from storage import holds, outbox
from storage import wishes as store
from storage.db import Database
from tests.conftest import TEST_TOKEN
from tests.stories.wishflow import START_TIME, approved_volunteers, open_wish, person_id


def person(user_id: int, name: str) -> Person:
    """What the set-up helpers read of a person, without a simulator."""
    return cast(Person, SimpleNamespace(user_id=user_id, first_name=name, phone=None))


def env_at(db: Database, now: dt.datetime) -> Env:
    settings = load_settings(bot_token=TEST_TOKEN, database_url=str(db.url), _env_file=None)
    return Env(db, ManualClock(now), settings)


async def rows(db: Database, *people: Person) -> dict[str, dict[str, Any]]:
    """Every outbox row to these people by dedupe key (recipient, lane and condition)."""
    async with db.read() as conn:
        found = [row for who in people for row in await outbox.messages_for(conn, await person_id(conn, who))]
    return {str(row["dedupe_key"]): row for row in found}


async def test_an_overdue_claim_is_released_once_and_offered_under_a_hold(db: Database) -> None:
    # Telegram ids; the database knows them by person id.
    alice, xiaoli, wang = person(1_000_001, "王阿姨"), person(1_000_002, "小李"), person(1_000_003, "王师傅")
    await approved_volunteers(db, [xiaoli, wang])
    wish = await open_wish(db, alice)
    alice_id, xiaoli_id, wang_id = [await person_id(db, who) for who in (alice, xiaoli, wang)]
    assert not {alice_id, xiaoli_id, wang_id} & {1_000_001, 1_000_002, 1_000_003}  # person ids are not Telegram ids
    async with db.write() as conn:
        claimed = await lifecycle.claim_wish(
            conn, wish.id, actor=Actor(xiaoli_id, frozenset({Role.VOLUNTEER})), now=START_TIME, due_at=START_TIME
        )
    assert claimed.claimed_at is not None
    env = env_at(db, START_TIME + dt.timedelta(hours=47, minutes=59))
    assert await lapses.auto_release(env, wish.id, now=env.now()) is None  # not yet
    env = env_at(db, START_TIME + dt.timedelta(hours=48))
    released = await lapses.auto_release(env, wish.id, now=env.now())
    assert released is not None
    assert (released.wish.status, released.wish.claimed_by, released.queued) == ("open", None, 3)
    assert env.queued.is_set()
    assert await lapses.auto_release(env, wish.id, now=env.now()) is None  # a second sweep changes nothing

    async with db.read() as conn:
        assert await holds.is_holder(conn, wish.id, wang_id)
        assert not await holds.is_holder(conn, wish.id, xiaoli_id)
        assert (await store.get_wish(conn, wish.id)).held_until is not None
    written = await rows(db, alice, xiaoli, wang)
    claim = f"{wish.id}:{claimed.claimed_at.isoformat()}"
    offer = written[f"remind:offer:{claim}:{wang_id}"]
    assert (offer["recipient_id"], offer["lane"]) == (wang_id, "urgent")
    assert offer["condition"] == [{"wish": wish.id, "in": ["open"]}]
    assert written[f"remind:released:{claim}"]["recipient_id"] == xiaoli_id
    [resident] = [row for key, row in written.items() if key.startswith("wish-released:")]
    assert (resident["recipient_id"], resident["condition"]) == (alice_id, [{"wish": wish.id, "in": ["open"]}])


async def test_an_open_wish_expires_once_and_a_claimed_one_does_not(db: Database) -> None:
    alice, xiaoli = person(1_000_001, "王阿姨"), person(1_000_002, "小李")  # Telegram ids
    await approved_volunteers(db, [xiaoli])
    wish = await open_wish(db, alice)
    alice_id, xiaoli_id = await person_id(db, alice), await person_id(db, xiaoli)
    volunteer = Actor(xiaoli_id, frozenset({Role.VOLUNTEER}))
    env = env_at(db, START_TIME + dt.timedelta(days=30))
    async with db.write() as conn:
        await lifecycle.claim_wish(conn, wish.id, actor=volunteer, now=START_TIME, due_at=START_TIME)
    assert await lapses.expire(env, wish.id, now=env.now()) is None  # claimed meanwhile
    async with db.write() as conn:
        await lifecycle.release_wish(conn, wish.id, actor=volunteer, now=START_TIME)
    expired = await lapses.expire(env, wish.id, now=env.now())
    assert expired is not None
    assert expired.wish.status == "expired"
    assert await lapses.expire(env, wish.id, now=env.now()) is None
    told = (await rows(db, alice, xiaoli))[f"remind:expired:{wish.id}"]
    assert (told["recipient_id"], told["condition"]) == (alice_id, [{"wish": wish.id, "in": ["expired"]}])
