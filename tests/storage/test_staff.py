"""The staff tools' SQL on the database (SQLite, and PostgreSQL with TEST_POSTGRES_URL): roles and the
audit log, broadcast audiences and tallies, /stats figures, /export rows, hot-topic texts and alerts,
whistles, followers of similar wishes, and /mydata + /deleteme."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from rules import exports, stats
from rules import wishes as lifecycle
from rules.roles import Role
from rules.similar import WishSketch, join_wish, similar_open_wish
from rules.whistles import WhistleError, blow_whistle
from rules.wishes import Actor, WishDraft
from storage import (
    broadcasts,
    followers,
    hot,
    outbox,
    people,
    privacy,
    staff,
    users,
    volunteers,
    whistles,
)
from storage import wishes as store
from storage.db import Database
from storage.errors import Conflict, NotAllowed
from storage.wishes import Wish

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
ADMIN = 900
# The admin's Telegram id (ADMIN_IDS name Telegram ids; storage maps them to person ids through identities).
ADMIN_TELEGRAM_ID = 9_000_001
RESIDENT, NEIGHBOUR, VOLUNTEER, FAR_VOLUNTEER, COORDINATOR = 1, 2, 3, 4, 5
PLACE = (31.23, 121.47)


async def _people(db: Database, *ids: int) -> None:
    async with db.write() as conn:
        for user_id in ids:
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"张{user_id}号",
                last_name=None,
                username=f"user{user_id}",
                language="zh-CN",
                now=NOW,
            )
            if user_id == ADMIN:
                await people.add_identity(conn, ADMIN, people.TELEGRAM, ADMIN_TELEGRAM_ID, now=NOW)


async def _wish(db: Database, resident_id: int, *, description: str = "家里老人行动不便，想请人帮忙买菜") -> Wish:
    async with db.write() as conn:
        return await lifecycle.submit_wish(
            conn,
            WishDraft(
                category="elderly_disabled",
                description=description,
                area="东城社区",
                address="幸福路12号",
                location=PLACE,
                phone="13912345678",
            ),
            resident_id=resident_id,
            now=NOW,
            review=False,
            daily_limit=100,
        )


async def _volunteer(db: Database, user_id: int, *, area: str, location: tuple[float, float] | None) -> None:
    async with db.write() as conn:
        await volunteers.save_volunteer(
            conn,
            user_id=user_id,
            name=f"志愿者{user_id}",
            phone="13800000000",
            skills=["elderly_disabled"],
            area=area,
            location=location,
            now=NOW,
        )
        await users.grant_role(conn, user_id, "volunteer", granted_by=ADMIN, now=NOW)


async def test_roles_blocks_and_the_audit_log(db: Database) -> None:
    await _people(db, ADMIN, COORDINATOR)
    async with db.write() as conn:
        assert await staff.grant(conn, actor_id=ADMIN, user_id=COORDINATOR, role="coordinator", now=NOW)
        assert not await staff.grant(conn, actor_id=ADMIN, user_id=COORDINATOR, role="coordinator", now=NOW)
        assert await staff.grant(conn, actor_id=ADMIN, user_id=COORDINATOR, role="editor", now=NOW)
        assert await staff.set_blocked(conn, actor_id=ADMIN, user_id=COORDINATOR, blocked=True, now=NOW)
        assert not await staff.set_blocked(conn, actor_id=ADMIN, user_id=COORDINATOR, blocked=True, now=NOW)
        assert await staff.revoke(conn, actor_id=ADMIN, user_id=COORDINATOR, role="editor", now=NOW)
    async with db.read() as conn:
        members = await staff.list_staff(conn)
        audit = await staff.recent_audit(conn, 10)
    assert [(m.user_id, m.roles) for m in members] == [(COORDINATOR, ("coordinator",))]
    assert [entry.action for entry in audit] == ["role.revoke", "user.block", "role.grant", "role.grant"]


async def test_broadcast_audience_and_tally_from_the_outbox(db: Database) -> None:
    await _people(db, ADMIN, RESIDENT, VOLUNTEER, FAR_VOLUNTEER)
    await _volunteer(db, VOLUNTEER, area="东城社区", location=None)
    await _volunteer(db, FAR_VOLUNTEER, area="北山社区", location=None)
    async with db.write() as conn:
        await users.set_blocked(conn, FAR_VOLUNTEER, True)
        assert await broadcasts.audience_ids(conn, "volunteers", admin_ids=[ADMIN_TELEGRAM_ID]) == [VOLUNTEER]
        assert await broadcasts.audience_ids(conn, "staff", admin_ids=[ADMIN_TELEGRAM_ID]) == [ADMIN]
        everyone = await broadcasts.audience_ids(conn, "everyone", admin_ids=[ADMIN_TELEGRAM_ID])
        assert everyone == [RESIDENT, VOLUNTEER, ADMIN]
        broadcast_id = await broadcasts.create_broadcast(
            conn, created_by=ADMIN, audience="everyone", text="周六义诊", photo_file_id=None, total=3, now=NOW
        )
        for user_id in everyone:
            await outbox.enqueue(
                conn,
                recipient_id=user_id,
                payload={"key": "broadcast.message", "values": {"text": "周六义诊"}},
                lane="bulk",
                dedupe_key=f"{broadcasts.dedupe_prefix(broadcast_id)}{user_id}",
                now=NOW,
            )
        # Another broadcast's key sharing the leading digits (broadcast:10: beside broadcast:1:) is not counted.
        await outbox.enqueue(
            conn, recipient_id=RESIDENT, payload={}, lane="bulk", dedupe_key=f"broadcast:{broadcast_id}0:1", now=NOW
        )
        queued = await outbox.due(conn, now=NOW, lanes=("bulk",), limit=10)
        mine = [m for m in queued if m.dedupe_key.startswith(broadcasts.dedupe_prefix(broadcast_id))]
        await outbox.mark_sent(conn, mine[0].id, now=NOW)
        await outbox.mark_failed(conn, mine[1].id, error="Forbidden")
    async with db.read() as conn:
        so_far = await broadcasts.tally(conn, broadcast_id)
    assert (so_far.total, so_far.delivered, so_far.unreachable, so_far.finished) == (3, 1, 1, False)
    async with db.write() as conn:
        await outbox.mark_sent(conn, mine[2].id, now=NOW)
        final = await broadcasts.tally(conn, broadcast_id)
        await broadcasts.finish(conn, broadcast_id, final, now=NOW)
    assert (final.delivered, final.unreachable, final.finished) == (2, 1, True)


async def test_stats_and_exports_of_a_period(db: Database) -> None:
    await _people(db, RESIDENT, VOLUNTEER)
    await _volunteer(db, VOLUNTEER, area="东城社区", location=None)
    done = await _wish(db, RESIDENT)
    await _wish(db, RESIDENT, description="想请人陪老人去医院复查")
    helper = Actor(VOLUNTEER, frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    resident = Actor(RESIDENT)
    async with db.write() as conn:
        later = NOW + dt.timedelta(hours=2)
        await lifecycle.claim_wish(conn, done.id, actor=helper, now=later, due_at=later + dt.timedelta(days=1))
        await lifecycle.finish_wish(conn, done.id, actor=helper, now=NOW + dt.timedelta(hours=6), hours=1.5)
        await lifecycle.confirm_wish(conn, done.id, actor=resident, now=NOW + dt.timedelta(hours=8), rating=5)
    async with db.read() as conn:
        figures = await stats.figures(conn, "7d", NOW - dt.timedelta(days=7))
        everything = await stats.figures(conn, "all", None)
        since, until = NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1)
        wish_rows = await exports.export_rows(conn, "wishes", since, until)
        tip_rows = await exports.export_rows(conn, "tips", since, until)
        hours_rows = await exports.export_rows(conn, "hours", since, until)
    assert figures.wishes_by_status == {"confirmed": 1, "open": 1}
    assert figures.wishes_by_category == {"elderly_disabled": 2}
    assert figures.wishes_by_area == {"东城社区": 2}
    assert figures.median_hours_to_claim == pytest.approx(2.0)
    assert figures.median_hours_to_done == pytest.approx(6.0)
    assert (figures.volunteer_hours, figures.volunteer_tasks) == (1.5, 1)
    assert everything.wishes == 2
    assert [row["ref"] for row in wish_rows] == ["W-0001", "W-0002"]
    assert tip_rows == []
    assert [(row["volunteer_id"], row["name"], row["tasks"], float(row["hours"])) for row in hours_rows] == [
        (VOLUNTEER, f"志愿者{VOLUNTEER}", 1, 1.5)
    ]


async def test_hot_topic_texts_and_alerts(db: Database) -> None:
    await _people(db, ADMIN, RESIDENT, COORDINATOR)
    await _wish(db, RESIDENT, description="小区路灯坏了，晚上出门不方便")
    async with db.write() as conn:
        await users.grant_role(conn, COORDINATOR, "coordinator", granted_by=ADMIN, now=NOW)
        texts = await hot.texts_since(conn, NOW - dt.timedelta(days=7))
        alert = await hot.record_alert(conn, day="2026-11-26", term="路灯", current=9, previous=1, now=NOW)
        again = await hot.record_alert(conn, day="2026-11-26", term="路灯", current=10, previous=1, now=NOW)
        assert alert is not None
        assert await hot.link_alert(conn, alert.id, wish_id=1)
        assert not await hot.link_alert(conn, alert.id, wish_id=2)
        stored = await hot.get_alert(conn, alert.id)
        recipients = await hot.alert_recipients(conn, ["coordinator", "editor"], admin_ids=[ADMIN_TELEGRAM_ID])
    assert [(at, text) for at, text in texts] == [(NOW, "小区路灯坏了，晚上出门不方便")]
    assert again is None
    assert (stored.term, stored.wish_id, stored.tip_id) == ("路灯", 1, None)
    assert recipients == {ADMIN: {"coordinator", "editor"}, COORDINATOR: {"coordinator"}}


async def test_a_whistle_is_recorded_and_closed_by_the_claim(db: Database) -> None:
    await _people(db, RESIDENT, VOLUNTEER, FAR_VOLUNTEER, COORDINATOR)
    await _volunteer(db, VOLUNTEER, area="西城社区", location=(31.24, 121.47))
    await _volunteer(db, FAR_VOLUNTEER, area="北山社区", location=(31.5, 121.0))
    wish = await _wish(db, RESIDENT)
    async with db.write() as conn:
        sent = await blow_whistle(conn, wish.id, coordinator_id=COORDINATOR, now=NOW, radius_km=3.0)
    assert [v.user_id for v in sent.recipients] == [VOLUNTEER]
    async with db.write() as conn:
        with pytest.raises(WhistleError) as too_soon:
            await blow_whistle(conn, wish.id, coordinator_id=COORDINATOR, now=NOW, radius_km=3.0)
        await whistles.set_summary_message(conn, sent.whistle_id, 77)
    assert too_soon.value.reason == "whistle.too_soon"
    later = NOW + dt.timedelta(minutes=5)
    async with db.write() as conn:
        closed = await whistles.mark_claimed(conn, wish.id, claimed_by=VOLUNTEER, now=later)
        assert await whistles.mark_claimed(conn, wish.id, claimed_by=FAR_VOLUNTEER, now=later) == []
        assert await whistles.latest_unanswered(conn, wish.id) is None
    assert [(w.summary_message_id, w.claimed_by, w.claimed_at) for w in closed] == [(77, VOLUNTEER, later)]
    async with db.write() as conn:
        nobody = await blow_whistle(conn, wish.id, coordinator_id=COORDINATOR, now=later, radius_km=100.0)
    assert {v.user_id for v in nobody.recipients} == {VOLUNTEER, FAR_VOLUNTEER}


async def test_joining_a_similar_wish(db: Database) -> None:
    await _people(db, RESIDENT, NEIGHBOUR)
    wish = await _wish(db, RESIDENT)
    draft = WishSketch(0, "elderly_disabled", "老人行动不便，想请人帮忙买菜做饭", "东城社区", (31.231, 121.471))
    async with db.write() as conn:
        assert await similar_open_wish(conn, draft, resident_id=RESIDENT) is None  # her own
        found = await similar_open_wish(conn, draft, resident_id=NEIGHBOUR)
        assert found is not None
        assert found.id == wish.id
        with pytest.raises(NotAllowed):
            await join_wish(conn, wish.id, user_id=RESIDENT, now=NOW)
        await join_wish(conn, wish.id, user_id=NEIGHBOUR, now=NOW)
        await join_wish(conn, wish.id, user_id=NEIGHBOUR, now=NOW)  # twice changes nothing
        assert await followers.followers_of(conn, wish.id) == [NEIGHBOUR]
        assert await followers.count_followers(conn, wish.id) == 1
        assert await similar_open_wish(conn, draft, resident_id=NEIGHBOUR) is None  # already following
        await store.move_wish(conn, wish.id, "open", "cancelled", actor_id=RESIDENT, now=NOW)
        with pytest.raises(Conflict):
            await join_wish(conn, wish.id, user_id=NEIGHBOUR, now=NOW)


async def test_mydata_and_deleteme_cover_whistles_and_followers(db: Database) -> None:
    await _people(db, RESIDENT, NEIGHBOUR, VOLUNTEER, COORDINATOR)
    await _volunteer(db, VOLUNTEER, area="东城社区", location=PLACE)
    wish = await _wish(db, RESIDENT)
    async with db.write() as conn:
        await join_wish(conn, wish.id, user_id=NEIGHBOUR, now=NOW)
        await blow_whistle(conn, wish.id, coordinator_id=COORDINATOR, now=NOW, radius_km=3.0)
        await whistles.mark_claimed(conn, wish.id, claimed_by=VOLUNTEER, now=NOW)
        neighbour_data = await privacy.collect_personal_data(conn, NEIGHBOUR)
        volunteer_data = await privacy.collect_personal_data(conn, VOLUNTEER)
        coordinator_data = await privacy.collect_personal_data(conn, COORDINATOR)
    assert [row["wish_id"] for row in neighbour_data["wish_followers"]] == [wish.id]
    assert [row["claimed_by"] for row in volunteer_data["whistles"]] == [VOLUNTEER]
    assert [row["coordinator_id"] for row in coordinator_data["whistles"]] == [COORDINATOR]

    async with db.write() as conn:
        await privacy.erase_person(conn, NEIGHBOUR, now=NOW)
        await privacy.erase_person(conn, RESIDENT, now=NOW)
        await privacy.erase_person(conn, VOLUNTEER, now=NOW)
        assert await followers.followers_of(conn, wish.id) == []
        erased = await store.get_wish(conn, wish.id)
        person = await users.get_user(conn, RESIDENT)
        volunteer = await volunteers.get_volunteer(conn, VOLUNTEER)
        closed = await whistles.latest_unanswered(conn, wish.id)
    assert (erased.description, erased.phone, erased.address, erased.location) == (
        privacy.ERASED_TEXT,
        None,
        None,
        None,
    )
    assert (person.first_name, person.phone) == ("", None)
    assert (volunteer.name, volunteer.phone, volunteer.location) == ("", None, None)
    assert closed is None  # the whistle's record (ids, counts, times) stays


async def test_two_coordinators_whistling_at_once_call_the_volunteers_once(db: Database) -> None:
    await _people(db, RESIDENT, VOLUNTEER, COORDINATOR, ADMIN)
    await _volunteer(db, VOLUNTEER, area="西城社区", location=(31.24, 121.47))
    wish = await _wish(db, RESIDENT)

    async def whistle(coordinator_id: int) -> str:
        try:
            async with db.write() as conn:
                await blow_whistle(conn, wish.id, coordinator_id=coordinator_id, now=NOW, radius_km=3.0)
        except WhistleError as refused:
            return refused.reason
        return "sent"

    outcomes = await asyncio.gather(whistle(COORDINATOR), whistle(ADMIN))
    assert sorted(outcomes) == ["sent", "whistle.too_soon"]
