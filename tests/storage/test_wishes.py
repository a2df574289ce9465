"""The wish lifecycle on the database: each transition checks the current status in its own transaction,
records who/when/from/to, and a race for one wish has exactly one winner (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import SYSTEM, Actor, InvalidInput, WishDraft
from storage import users, volunteers
from storage import wishes as store
from storage.db import Database
from storage.errors import AlreadyClaimed, Conflict, LimitReached, NotAllowed

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
RESIDENT = Actor(1)
COORDINATOR = Actor(2, frozenset({Role.RESIDENT, Role.COORDINATOR}))


def volunteer(user_id: int) -> Actor:
    return Actor(user_id, frozenset({Role.RESIDENT, Role.VOLUNTEER}))


async def _people(db: Database, *ids: int) -> None:
    async with db.write() as conn:
        for user_id in ids:
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"P{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )


async def _submit(db: Database, *, review: bool = True, category: str = "elderly_disabled") -> store.Wish:
    async with db.write() as conn:
        return await lifecycle.submit_wish(
            conn,
            WishDraft(
                category=category,
                description="帮忙买菜和打扫卫生",
                area="东城社区",
                address="幸福路1号",
                location=(31.0, 121.0),
                phone="13800000000",
            ),
            resident_id=RESIDENT.user_id or 0,
            now=NOW,
            review=review,
            daily_limit=5,
        )


async def test_references_count_up_per_deployment(db: Database) -> None:
    await _people(db, 1)
    first = await _submit(db)
    second = await _submit(db)
    assert (lifecycle.wish_ref(first.ref_no), lifecycle.wish_ref(second.ref_no)) == ("W-0001", "W-0002")
    assert first.status == "pending_review"


async def test_the_whole_lifecycle_is_recorded(db: Database) -> None:
    await _people(db, 1, 2, 3)
    wish = await _submit(db)
    async with db.write() as conn:
        await lifecycle.approve_wish(conn, wish.id, actor=COORDINATOR, now=NOW)
        due = NOW + dt.timedelta(hours=48)
        claimed = await lifecycle.claim_wish(conn, wish.id, actor=volunteer(3), now=NOW, due_at=due)
        assert (claimed.claimed_by, claimed.due_at) == (3, due)
        done = await lifecycle.finish_wish(conn, wish.id, actor=volunteer(3), now=NOW, hours=2, proof_file_id="P")
        assert (done.status, done.hours, done.proof_file_id) == ("done", 2, "P")
        await lifecycle.confirm_wish(conn, wish.id, actor=RESIDENT, now=NOW)
        rated = await lifecycle.rate_wish(conn, wish.id, actor=RESIDENT, now=NOW, rating=5)
        events = await store.events_of(conn, wish.id)
        hours = await store.volunteer_hours(conn, 3)
    assert rated.rating == 5
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "pending_review"),
        ("pending_review", "open"),
        ("open", "claimed"),
        ("claimed", "done"),
        ("done", "confirmed"),
        ("confirmed", "confirmed"),
    ]
    assert [e.actor_id for e in events] == [1, 2, 3, 3, 1, 1]
    assert hours == (2.0, 1)


async def test_review_off_opens_at_once(db: Database) -> None:
    await _people(db, 1)
    assert (await _submit(db, review=False)).status == "open"


async def test_daily_limit(db: Database) -> None:
    await _people(db, 1)
    for _ in range(5):
        await _submit(db)
    with pytest.raises(LimitReached):
        await _submit(db)


async def test_a_stale_press_changes_nothing(db: Database) -> None:
    await _people(db, 1, 2, 3)
    wish = await _submit(db, review=False)
    async with db.write() as conn:
        await lifecycle.cancel_wish(conn, wish.id, actor=RESIDENT, now=NOW)
    async with db.write() as conn:
        with pytest.raises(Conflict) as caught:
            await lifecycle.claim_wish(conn, wish.id, actor=volunteer(3), now=NOW, due_at=NOW)
    assert caught.value.current == "cancelled"
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).claimed_by is None
        assert len(await store.events_of(conn, wish.id)) == 2


async def test_only_the_claimer_finishes_and_only_the_resident_confirms(db: Database) -> None:
    await _people(db, 1, 3, 4)
    wish = await _submit(db, review=False)
    async with db.write() as conn:
        await lifecycle.claim_wish(conn, wish.id, actor=volunteer(3), now=NOW, due_at=NOW)
    async with db.write() as conn:
        with pytest.raises(NotAllowed):
            await lifecycle.finish_wish(conn, wish.id, actor=volunteer(4), now=NOW, hours=1)
        with pytest.raises(NotAllowed):
            await lifecycle.release_wish(conn, wish.id, actor=volunteer(4), now=NOW)
        await lifecycle.finish_wish(conn, wish.id, actor=volunteer(3), now=NOW, hours=1)
        with pytest.raises(NotAllowed):
            await lifecycle.confirm_wish(conn, wish.id, actor=volunteer(3), now=NOW)
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "done"


async def test_residents_cannot_claim_their_own_wish_and_non_volunteers_cannot_claim(db: Database) -> None:
    await _people(db, 1, 5)
    wish = await _submit(db, review=False)
    async with db.write() as conn:
        with pytest.raises(NotAllowed):
            await lifecycle.claim_wish(conn, wish.id, actor=Actor(5), now=NOW, due_at=NOW)
        with pytest.raises(NotAllowed):
            own = Actor(1, frozenset({Role.RESIDENT, Role.VOLUNTEER}))
            await lifecycle.claim_wish(conn, wish.id, actor=own, now=NOW, due_at=NOW)


async def test_release_and_not_done_yet(db: Database) -> None:
    await _people(db, 1, 3)
    wish = await _submit(db, review=False)
    async with db.write() as conn:
        await lifecycle.claim_wish(conn, wish.id, actor=volunteer(3), now=NOW, due_at=NOW)
        released = await lifecycle.release_wish(conn, wish.id, actor=volunteer(3), now=NOW, reason="病了")
        assert (released.status, released.claimed_by) == ("open", None)
        await lifecycle.claim_wish(conn, wish.id, actor=volunteer(3), now=NOW, due_at=NOW)
        await lifecycle.finish_wish(conn, wish.id, actor=volunteer(3), now=NOW, hours=4)
        back = await lifecycle.reopen_wish(conn, wish.id, actor=RESIDENT, now=NOW, note="窗户还没擦")
        assert (back.status, back.claimed_by, back.resident_note, back.hours) == ("claimed", 3, "窗户还没擦", None)
        events = await store.events_of(conn, wish.id)
    assert events[2].note == "病了"


async def test_system_actions_for_the_scheduler(db: Database) -> None:
    await _people(db, 1, 3)
    stale = await _submit(db, review=False)
    wish = await _submit(db, review=False)
    async with db.write() as conn:
        await lifecycle.expire_wish(conn, stale.id, now=NOW, note="unclaimed 30 days")
        await lifecycle.claim_wish(conn, wish.id, actor=volunteer(3), now=NOW, due_at=NOW)
        overdue = await store.claimed_overdue(conn, NOW + dt.timedelta(minutes=1))
        assert [w.id for w in overdue] == [wish.id]
        await lifecycle.release_wish(conn, wish.id, actor=SYSTEM, now=NOW, reason="overdue")
        await lifecycle.claim_wish(conn, wish.id, actor=volunteer(3), now=NOW, due_at=NOW)
        await lifecycle.finish_wish(conn, wish.id, actor=volunteer(3), now=NOW, hours=1)
        confirmed = await lifecycle.confirm_wish(conn, wish.id, actor=SYSTEM, now=NOW)
    assert confirmed.status == "confirmed"


async def test_category_changes_while_pending_or_open(db: Database) -> None:
    await _people(db, 1, 2)
    wish = await _submit(db)
    async with db.write() as conn:
        changed = await lifecycle.change_category(conn, wish.id, "environment", actor=COORDINATOR, now=NOW)
        with pytest.raises(NotAllowed):
            await lifecycle.change_category(conn, wish.id, "other", actor=RESIDENT, now=NOW)
    assert changed.category == "environment"


async def test_bounds_of_what_people_type(db: Database) -> None:
    with pytest.raises(InvalidInput):
        lifecycle.check_description("短")
    with pytest.raises(InvalidInput):
        lifecycle.check_description("长" * 1001)
    assert lifecycle.parse_hours("1,5") == 1.5
    typed = ("2小时", "2.5 小时", "2h", "2.5H", "3 个小时")
    assert [lifecycle.parse_hours(t) for t in typed] == [2.0, 2.5, 2.0, 2.5, 3.0]
    for bad in ("0", "25", "abc", "2 天", "h", "2" + " " * 30 + "h", "1.5.5"):
        with pytest.raises(InvalidInput):
            lifecycle.parse_hours(bad)
    assert lifecycle.parse_wish_ref("W-0042") == 42
    assert lifecycle.parse_wish_ref("hello") is None


async def test_twenty_volunteers_claim_at_once_and_exactly_one_wins(db: Database) -> None:
    ids = list(range(100, 120))
    await _people(db, 1, *ids)
    wish = await _submit(db, review=False)

    async def claim(user_id: int) -> str:
        try:
            async with db.write() as conn:
                await lifecycle.claim_wish(conn, wish.id, actor=volunteer(user_id), now=NOW, due_at=NOW)
        except AlreadyClaimed:
            return "taken"
        return "won"

    outcomes = await asyncio.gather(*(claim(user_id) for user_id in ids))
    assert sorted(outcomes) == ["taken"] * 19 + ["won"]
    async with db.read() as conn:
        stored = await store.get_wish(conn, wish.id)
        events = await store.events_of(conn, wish.id)
    assert stored.claimed_by == ids[outcomes.index("won")]
    assert [e.to_status for e in events] == ["open", "claimed"]


async def test_references_stay_unique_under_concurrent_submissions(db: Database) -> None:
    await _people(db, 1)
    async with db.write() as conn:
        await users.touch_user(conn, user_id=7, first_name="x", last_name=None, username=None, language="en", now=NOW)
    created = await asyncio.gather(*(_submit(db, review=False) for _ in range(5)))
    assert sorted(w.ref_no for w in created) == [1, 2, 3, 4, 5]


async def test_hours_leaderboard_counts_confirmed_hours_in_the_period(db: Database) -> None:
    await _people(db, 1, 3, 4)
    for volunteer_id, hours in ((3, 2.0), (4, 4.0), (3, 1.5)):
        wish = await _submit(db, review=False)
        async with db.write() as conn:
            await lifecycle.claim_wish(conn, wish.id, actor=volunteer(volunteer_id), now=NOW, due_at=NOW)
            await lifecycle.finish_wish(conn, wish.id, actor=volunteer(volunteer_id), now=NOW, hours=hours)
            await lifecycle.confirm_wish(conn, wish.id, actor=RESIDENT, now=NOW)
    unconfirmed = await _submit(db, review=False)
    async with db.write() as conn:
        await lifecycle.claim_wish(conn, unconfirmed.id, actor=volunteer(3), now=NOW, due_at=NOW)
        await lifecycle.finish_wish(conn, unconfirmed.id, actor=volunteer(3), now=NOW, hours=8)
    async with db.read() as conn:
        board = await store.hours_leaderboard(conn, since=NOW - dt.timedelta(days=1), until=NOW + dt.timedelta(1))
        assert [(r.volunteer_id, r.hours, r.tasks) for r in board] == [(4, 4.0, 1), (3, 3.5, 2)]
        assert await store.hours_rank(conn, 3) == 2
        assert await store.hours_leaderboard(conn, since=NOW + dt.timedelta(days=1)) == []
        assert len(await store.service_records(conn)) == 3


async def test_volunteer_profiles_and_matching(db: Database) -> None:
    await _people(db, 3, 4)
    async with db.write() as conn:
        await volunteers.save_volunteer(
            conn,
            user_id=3,
            name="小李",
            phone=None,
            skills=["elderly_disabled", "environment"],
            area="东城社区",
            location=(31.0, 121.0),
            now=NOW,
        )
        await volunteers.save_volunteer(
            conn, user_id=4, name="小王", phone="139", skills=["free_clinic"], area="西城社区", location=None, now=NOW
        )
        await users.grant_role(conn, 3, "volunteer", granted_by=None, now=NOW)
        await users.grant_role(conn, 4, "volunteer", granted_by=None, now=NOW)
        updated = await volunteers.save_volunteer(
            conn,
            user_id=3,
            name="小李",
            phone="137",
            skills=["elderly_disabled"],
            area="东城社区",
            location=(31.0, 121.0),
            now=NOW,
        )
        assert updated.skills == frozenset({"elderly_disabled"})
        matching = await volunteers.volunteers_matching(conn, "elderly_disabled", area="东城社区")
        assert [v.user_id for v in matching] == [3]
        assert await volunteers.volunteers_matching(conn, "elderly_disabled", area="西城社区") == []
        assert await volunteers.find_volunteer(conn, 99) is None
