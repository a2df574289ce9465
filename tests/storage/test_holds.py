"""A time-limited hold after an auto-release: the wish is reserved for the volunteers it was offered to,
who alone may claim it (and see it in /tasks) until the hold ends; then anyone may (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import SYSTEM, Actor, WishDraft
from storage import holds, users
from storage import wishes as store
from storage.db import Database
from storage.errors import Held

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
HOLD = dt.timedelta(minutes=60)
RESIDENT, LAPSED, OFFERED, OTHER = 1, 2, 3, 4


def volunteer(user_id: int) -> Actor:
    return Actor(user_id, frozenset({Role.RESIDENT, Role.VOLUNTEER}))


async def released_with_hold(db: Database) -> store.Wish:
    """A wish claimed by LAPSED, then released by the system and held for OFFERED until NOW + HOLD."""
    async with db.write() as conn:
        for user_id in (RESIDENT, LAPSED, OFFERED, OTHER):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"P{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )
        wish = await lifecycle.submit_wish(
            conn,
            WishDraft(category="elderly_disabled", description="帮忙买菜和打扫卫生", area="东城社区"),
            resident_id=RESIDENT,
            now=NOW,
            review=False,
            daily_limit=5,
        )
        await lifecycle.claim_wish(conn, wish.id, actor=volunteer(LAPSED), now=NOW, due_at=NOW)
        return await lifecycle.release_wish(
            conn,
            wish.id,
            actor=SYSTEM,
            now=NOW,
            reason="auto-release: overdue",
            hold_for=[OFFERED],
            held_until=NOW + HOLD,
        )


async def test_the_release_writes_the_hold_and_says_so_in_the_history(db: Database) -> None:
    wish = await released_with_hold(db)
    assert (wish.status, wish.held_until) == ("open", NOW + HOLD)
    async with db.read() as conn:
        assert await holds.holders_of(conn, wish.id) == [OFFERED]
        [*_, event] = await store.events_of(conn, wish.id)
    assert (event.from_status, event.to_status, event.actor_id) == ("claimed", "open", None)
    assert event.note is not None
    assert "held for 1 offered volunteer(s)" in event.note


async def test_others_are_refused_and_do_not_see_it_until_the_hold_ends(db: Database) -> None:
    wish = await released_with_hold(db)
    during = NOW + HOLD - dt.timedelta(minutes=1)
    async with db.write() as conn:
        with pytest.raises(Held) as refused:
            await lifecycle.claim_wish(conn, wish.id, actor=volunteer(OTHER), now=during, due_at=during)
        assert refused.value.until == NOW + HOLD
        assert [w.id for w in await lifecycle.claimable_wishes(conn, OTHER, during)] == []
        assert [w.id for w in await lifecycle.claimable_wishes(conn, OFFERED, during)] == [wish.id]
        assert (await store.get_wish(conn, wish.id)).status == "open"
        assert len(await store.events_of(conn, wish.id)) == 3  # created, claimed, released: nothing more

    async with db.write() as conn:
        assert [w.id for w in await lifecycle.claimable_wishes(conn, OTHER, NOW + HOLD)] == [wish.id]
        claimed = await lifecycle.claim_wish(conn, wish.id, actor=volunteer(OTHER), now=NOW + HOLD, due_at=NOW)
        assert (claimed.status, claimed.claimed_by, claimed.held_until) == ("claimed", OTHER, None)
        assert await holds.holders_of(conn, wish.id) == []


async def test_an_offered_volunteer_claims_during_the_hold_and_it_ends(db: Database) -> None:
    wish = await released_with_hold(db)
    async with db.write() as conn:
        claimed = await lifecycle.claim_wish(conn, wish.id, actor=volunteer(OFFERED), now=NOW, due_at=NOW + HOLD)
        assert (claimed.claimed_by, claimed.held_until) == (OFFERED, None)
        assert await holds.holders_of(conn, wish.id) == []
        # Given back by hand, it is open to everyone at once.
        released = await lifecycle.release_wish(conn, wish.id, actor=volunteer(OFFERED), now=NOW, reason="病了")
        assert released.held_until is None
        assert [w.id for w in await lifecycle.claimable_wishes(conn, OTHER, NOW)] == [wish.id]


async def test_no_one_to_offer_it_to_means_no_hold(db: Database) -> None:
    async with db.write() as conn:
        for user_id in (RESIDENT, LAPSED):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"P{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )
        wish = await lifecycle.submit_wish(
            conn,
            WishDraft(category="elderly_disabled", description="帮忙买菜和打扫卫生"),
            resident_id=RESIDENT,
            now=NOW,
            review=False,
            daily_limit=5,
        )
        await lifecycle.claim_wish(conn, wish.id, actor=volunteer(LAPSED), now=NOW, due_at=NOW)
        released = await lifecycle.release_wish(
            conn, wish.id, actor=SYSTEM, now=NOW, reason="auto-release", hold_for=[], held_until=NOW + HOLD
        )
        assert released.held_until is None
        assert not lifecycle.is_held(released, NOW)
