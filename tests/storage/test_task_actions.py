"""The volunteer's actions on the database (SQLite, and PostgreSQL with TEST_POSTGRES_URL): a claim writes
every notice it owes in its own transaction — resident, followers, the whistling coordinator's summary
edit and notice — each under the condition it is true in; a refused claim writes nothing; a whistle
queues its calls with itself; finishing and releasing tell the resident."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from actions import tasks, whistles
from actions.env import Env
from core.clock import ManualClock
from core.settings import Settings, load_settings
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from storage import followers, media, users, volunteers
from storage import outbox as store_outbox
from storage.db import Database
from storage.errors import AlreadyClaimed, NotAllowed
from storage.schema import outbox
from storage.schema import whistles as whistle_rows

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
RESIDENT, NEIGHBOUR, VOLUNTEER, OTHER_VOLUNTEER, COORDINATOR = 1, 2, 3, 4, 5
ADMIN = 900


def _settings(db: Database) -> Settings:
    return load_settings(bot_token="123456:TEST-TOKEN", database_url=str(db.url), admin_ids=[ADMIN], _env_file=None)


def _actor(user_id: int, *roles: Role) -> Actor:
    return Actor(user_id, frozenset({Role.RESIDENT, *roles}))


@pytest.fixture
async def env(db: Database) -> Env:
    """A resident's open wish that a neighbour follows, two volunteers who can take it, a coordinator."""
    async with db.write() as conn:
        for user_id in (RESIDENT, NEIGHBOUR, VOLUNTEER, OTHER_VOLUNTEER, COORDINATOR):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"张{user_id}号",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )
        for user_id in (VOLUNTEER, OTHER_VOLUNTEER):
            await volunteers.save_volunteer(
                conn,
                user_id=user_id,
                name=f"志愿者{user_id}",
                phone=None,
                skills=["elderly_disabled"],
                area="东城社区",
                location=None,
                now=NOW,
            )
            await users.grant_role(conn, user_id, "volunteer", granted_by=ADMIN, now=NOW)
        await users.grant_role(conn, COORDINATOR, "coordinator", granted_by=ADMIN, now=NOW)
        wish = await lifecycle.submit_wish(
            conn,
            WishDraft("elderly_disabled", "家里老人行动不便，想请人帮忙买菜", area="东城社区"),
            resident_id=RESIDENT,
            now=NOW,
            review=False,
            daily_limit=100,
        )
        await followers.follow(conn, wish.id, NEIGHBOUR, now=NOW)
    return Env(db=db, clock=ManualClock(NOW), settings=_settings(db))


async def _rows(db: Database) -> dict[str, dict[str, Any]]:
    """Every outbox row by dedupe key."""
    async with db.read() as conn:
        return {row["dedupe_key"]: dict(row) for row in (await conn.execute(select(outbox))).mappings()}


def _by_prefix(rows: dict[str, dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [row for key, row in rows.items() if key.startswith(prefix)]


async def test_a_claim_after_a_whistle_writes_every_notice_it_owes(env: Env, db: Database) -> None:
    whistled = await whistles.whistle(env, _actor(COORDINATOR, Role.COORDINATOR), 1)
    assert whistled.whistle.sent_count == 2
    called = _by_prefix(await _rows(db), "whistle:")
    assert sorted(row["recipient_id"] for row in called) == [VOLUNTEER, OTHER_VOLUNTEER]
    assert {row["lane"] for row in called} == {"urgent"}
    await whistles.remember_summary(env, whistled.whistle.id, 77)

    env.clock.advance(dt.timedelta(minutes=12))  # type: ignore[attr-defined]
    claimed = await tasks.claim(env, _actor(VOLUNTEER, Role.VOLUNTEER), 1, "today")
    assert (claimed.wish.status, claimed.wish.claimed_by) == ("claimed", VOLUNTEER)
    assert env.queued.is_set()

    rows = await _rows(db)
    (resident,) = _by_prefix(rows, "wish-claimed:")
    assert (resident["recipient_id"], resident["lane"]) == (RESIDENT, "urgent")
    assert resident["payload"]["values"]["name"] == "志愿者3"  # the name he registered with, not his account's
    assert resident["condition"] == [{"claimed": 1, "by": VOLUNTEER}]
    (neighbour,) = _by_prefix(rows, "follow:")
    assert (neighbour["recipient_id"], neighbour["condition"]) == (NEIGHBOUR, [{"wish": 1, "in": ["claimed"]}])
    (summary,) = _by_prefix(rows, "whistle-summary:")
    assert summary["recipient_id"] == COORDINATOR
    assert summary["payload"]["replaces"] == 77
    assert summary["payload"]["values"] | {"after_key": "wish.age.minutes", "n": 12} == summary["payload"]["values"]
    (told,) = _by_prefix(rows, "whistle-claimed:")
    assert (told["recipient_id"], told["payload"]["key"]) == (COORDINATOR, "whistle.notice_claimed")
    async with db.read() as conn:
        closed = (await conn.execute(select(whistle_rows.c.claimed_by, whistle_rows.c.claimed_at))).one()
        # The other volunteer's call is no longer true: the sender will drop it as superseded.
        other_call = next(row for row in called if row["recipient_id"] == OTHER_VOLUNTEER)
        reason = await store_outbox.unmet_condition(conn, other_call["condition"], OTHER_VOLUNTEER, admin_ids=[])
    assert closed == (VOLUNTEER, NOW + dt.timedelta(minutes=12))
    assert reason == "wish 1 is claimed"


async def test_two_volunteers_claiming_at_once_one_wins_and_one_set_of_notices_is_written(
    env: Env, db: Database
) -> None:
    async def claim(volunteer: int) -> str:
        try:
            await tasks.claim(env, _actor(volunteer, Role.VOLUNTEER), 1, "week")
        except AlreadyClaimed:
            return "too late"
        return "claimed"

    outcomes = await asyncio.gather(claim(VOLUNTEER), claim(OTHER_VOLUNTEER))
    assert sorted(outcomes) == ["claimed", "too late"]
    rows = await _rows(db)
    assert len(_by_prefix(rows, "wish-claimed:")) == 1
    assert len(_by_prefix(rows, "follow:")) == 1


async def test_a_refused_claim_writes_nothing(env: Env, db: Database) -> None:
    with pytest.raises(NotAllowed):
        await tasks.claim(env, _actor(RESIDENT), 1, "today")  # not a volunteer
    with pytest.raises(NotAllowed):
        await whistles.whistle(env, _actor(VOLUNTEER, Role.VOLUNTEER), 1)  # not a coordinator
    assert await _rows(db) == {}


async def test_the_resident_is_not_told_of_a_claim_that_was_given_back(env: Env, db: Database) -> None:
    await tasks.claim(env, _actor(VOLUNTEER, Role.VOLUNTEER), 1, "today")
    await tasks.release(env, _actor(VOLUNTEER, Role.VOLUNTEER), 1, "临时出差")
    rows = await _rows(db)
    (claimed,) = _by_prefix(rows, "wish-claimed:")
    (released,) = _by_prefix(rows, "wish-released:")
    async with db.read() as conn:
        stale = await store_outbox.unmet_condition(conn, claimed["condition"], RESIDENT, admin_ids=[])
        true = await store_outbox.unmet_condition(conn, released["condition"], RESIDENT, admin_ids=[])
        # Claimed again by someone else: still not the claim the first notice was about.
        await tasks.claim(env, _actor(OTHER_VOLUNTEER, Role.VOLUNTEER), 1, "today")
    async with db.read() as conn:
        still_stale = await store_outbox.unmet_condition(conn, claimed["condition"], RESIDENT, admin_ids=[])
    assert stale == "wish 1 is no longer claimed by 3"
    assert true is None
    assert still_stale == "wish 1 is no longer claimed by 3"


async def test_a_summary_stored_after_the_claim_is_edited_at_once(env: Env, db: Database) -> None:
    whistled = await whistles.whistle(env, _actor(COORDINATOR, Role.COORDINATOR), 1)
    await tasks.claim(env, _actor(VOLUNTEER, Role.VOLUNTEER), 1, "today")  # quicker than the summary
    assert _by_prefix(await _rows(db), "whistle-summary:") == []
    await whistles.remember_summary(env, whistled.whistle.id, 78)
    await whistles.remember_summary(env, whistled.whistle.id, 78)  # told twice: still one edit
    (summary,) = _by_prefix(await _rows(db), "whistle-summary:")
    assert summary["payload"]["replaces"] == 78


async def test_finishing_asks_the_resident_to_confirm_while_it_is_done(env: Env, db: Database) -> None:
    volunteer = _actor(VOLUNTEER, Role.VOLUNTEER)
    await tasks.claim(env, volunteer, 1, "today")
    finished = await tasks.finish(env, volunteer, 1, hours=1.5, proof="photo-1", note="菜已经买好")
    assert (finished.wish.status, finished.wish.hours) == ("done", 1.5)
    rows = await _rows(db)
    (asked,) = _by_prefix(rows, "wish-done:")
    payload = asked["payload"]
    assert (asked["recipient_id"], asked["lane"], asked["condition"]) == (
        RESIDENT,
        "urgent",
        [{"wish": 1, "in": ["done"]}],
    )
    # The proof photo travels as its media id; the sender shows the channel's reference to it.
    assert payload["media"] == finished.wish.proof_media_id
    async with db.read() as conn:
        proof = await media.file_ref(conn, payload["media"], media.TELEGRAM)
    assert (payload["values"]["hours"], payload["values"]["note"], proof) == ("1.5", "菜已经买好", "photo-1")
    assert [[button[1] for button in row] for row in payload["buttons"]] == [["wish:confirm", "wish:notyet"]]
    assert {row["dedupe_key"].split(":")[2] for row in _by_prefix(rows, "follow:")} == {"claimed", "done"}
