"""Activity actions on both databases: the last place goes to exactly one of two people pressing at once, a
cancellation moves the first one waiting up (and tells them in the same transaction), only the organizer (or a
coordinator) runs check-in and hours, team leaders organize only their own team's projects, reminders are
written once."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from actions import activities as actions
from actions import projects as project_actions
from actions.env import Env
from core.clock import ManualClock
from core.settings import load_settings
from rules.activities import InvalidInput
from rules.roles import Role
from rules.wishes import Actor
from storage import activities as store
from storage import outbox as outbox_store
from storage import people, users
from storage import wishes as wish_store
from storage.activities import NewActivity
from storage.db import Database
from storage.errors import Conflict, NotAllowed, NotFound
from storage.schema import outbox, volunteer_skills, volunteers

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
COORDINATOR, LEADER, A, B, C = 1, 2, 3, 4, 5
VOLUNTEER_ROLES = frozenset({Role.RESIDENT, Role.VOLUNTEER})


def actor(person: int, *roles: Role) -> Actor:
    return Actor(person, frozenset({Role.RESIDENT, *roles}))


COORD = actor(COORDINATOR, Role.COORDINATOR)


@pytest.fixture
async def env(db: Database) -> Env:
    """A coordinator, a team leader (a volunteer) and three volunteers."""
    async with db.write() as conn:
        for person in (COORDINATOR, LEADER, A, B, C):
            await users.touch_user(
                conn, user_id=person, first_name=f"P{person}", last_name=None, username=None, language="zh-CN", now=NOW
            )
            await people.add_identity(conn, person, people.TELEGRAM, 1_000_000 + person, now=NOW)
            if person != COORDINATOR:
                await users.grant_role(conn, person, Role.VOLUNTEER, granted_by=None, now=NOW)
                await conn.execute(
                    volunteers.insert().values(user_id=person, name=f"V{person}", created_at=NOW, updated_at=NOW)
                )
                await conn.execute(volunteer_skills.insert().values(user_id=person, category="environment"))
        await users.grant_role(conn, COORDINATOR, Role.COORDINATOR, granted_by=None, now=NOW)
    values: dict[str, Any] = {"bot_token": "1:abc", "_env_file": None}
    return Env(db=db, clock=ManualClock(NOW), settings=load_settings(**values))


async def an_activity(
    env: Env, *, headcount: int = 1, by: Actor = COORD, project: int | None = None, area: str | None = None
) -> int:
    if project is None:
        team = await project_actions.create_team(env, COORD, "清河队", LEADER)
        project = (await project_actions.create_project(env, COORD, "清河行动", "", ("environment",), team.id)).id
    activity, _ = await actions.create(
        env,
        by,
        NewActivity(
            project_id=project,
            team_id=None,
            title="河道清洁",
            starts_at=NOW + dt.timedelta(days=2),
            duration_minutes=120,
            place="清河桥",
            location=None,
            headcount=headcount,
            skills=("environment",),
            notes="",
            area=area,
        ),
    )
    return activity.id


async def test_two_people_pressing_for_the_last_place_one_gets_it_and_one_waits(env: Env) -> None:
    activity_id = await an_activity(env, headcount=1)
    results = await asyncio.gather(
        actions.sign_up(env, actor(A, Role.VOLUNTEER), activity_id),
        actions.sign_up(env, actor(B, Role.VOLUNTEER), activity_id),
    )
    assert sorted(r.mine or "" for r in results) == ["signed_up", "waitlisted"]
    async with env.db.read() as conn:
        assert await store.count_signed_up(conn, activity_id) == 1


async def test_a_cancellation_moves_the_first_waiting_up_and_tells_them(env: Env) -> None:
    activity_id = await an_activity(env, headcount=1)
    for person in (A, B, C):
        env.clock.advance(dt.timedelta(seconds=1))  # type: ignore[attr-defined]
        await actions.sign_up(env, actor(person, Role.VOLUNTEER), activity_id)
    # Someone leaving the waitlist frees no place: nobody moves.
    await actions.cancel(env, actor(C, Role.VOLUNTEER), activity_id)
    await actions.cancel(env, actor(A, Role.VOLUNTEER), activity_id)
    async with env.db.read() as conn:
        on = {s.user_id: s.status for s in await store.signups_of(conn, activity_id, with_cancelled=True)}
        told = (
            await conn.execute(select(outbox.c.recipient_id).where(outbox.c.dedupe_key.like("activity:promoted:%")))
        ).scalars()
        promoted = list(told)
    assert on == {A: "cancelled", B: "signed_up", C: "cancelled"}
    assert promoted == [B]


async def test_only_the_organizer_or_a_coordinator_runs_check_in_and_hours(env: Env) -> None:
    activity_id = await an_activity(env)
    env.clock.set(NOW + dt.timedelta(days=2))  # type: ignore[attr-defined]
    with pytest.raises(NotAllowed):
        await actions.show_code(env, actor(A, Role.VOLUNTEER), activity_id)
    with pytest.raises(NotAllowed):
        await actions.confirm(env, actor(A, Role.VOLUNTEER), activity_id)
    code = await actions.show_code(env, COORD, activity_id)
    with pytest.raises(InvalidInput) as refused:
        await actions.use_code(env, actor(A, Role.VOLUNTEER), code.code, None)
    assert refused.value.reason == "checkin.error.not_signed_up"


async def test_a_team_leader_organizes_only_their_own_teams_projects(env: Env) -> None:
    team = await project_actions.create_team(env, COORD, "清河队", LEADER)
    own = await project_actions.create_project(env, COORD, "清河行动", "", (), team.id)
    other = await project_actions.create_project(env, COORD, "百事通", "", (), None)
    leader = actor(LEADER, Role.VOLUNTEER)
    assert [p.name for p in await actions.organizer_projects(env, leader)] == ["清河行动"]
    await an_activity(env, by=leader, project=own.id)
    with pytest.raises(NotAllowed):
        await an_activity(env, by=leader, project=other.id)
    with pytest.raises(NotAllowed):
        await actions.organizer_projects(env, actor(A, Role.VOLUNTEER))


async def test_reminders_are_written_once_each(env: Env) -> None:
    activity_id = await an_activity(env, headcount=2)
    await actions.sign_up(env, actor(A, Role.VOLUNTEER), activity_id)
    async with env.db.read() as conn:
        starts = (await store.get_activity(conn, activity_id)).starts_at
    hour_before = starts - dt.timedelta(minutes=59)
    assert await actions.remind(env, hour_before) == 1
    assert await actions.remind(env, hour_before + dt.timedelta(minutes=1)) == 0


async def test_a_double_scan_does_not_check_out_and_a_cancelled_place_drops_its_reminder(env: Env) -> None:
    activity_id = await an_activity(env, headcount=2)
    await actions.sign_up(env, actor(A, Role.VOLUNTEER), activity_id)
    await actions.sign_up(env, actor(B, Role.VOLUNTEER), activity_id)
    async with env.db.read() as conn:
        starts = (await store.get_activity(conn, activity_id)).starts_at
    # The day-before reminders are written for both; B cancels before they go out: B's is superseded.
    day_before = starts - dt.timedelta(hours=12)
    assert await actions.remind(env, day_before) == 2
    await actions.cancel(env, actor(B, Role.VOLUNTEER), activity_id)
    async with env.db.read() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.recipient_id, outbox.c.condition).where(outbox.c.dedupe_key.like("activity:remind:%"))
            )
        ).all()
        unmet = {
            row.recipient_id: await outbox_store.unmet_condition(conn, row.condition, row.recipient_id, admin_ids=())
            for row in rows
        }
    assert unmet[A] is None
    assert unmet[B] == f"recipient is cancelled on activity {activity_id}"
    # On the spot: a second scan within a quarter of an hour is not a check-out.
    env.clock.set(starts)  # type: ignore[attr-defined]
    code = await actions.show_code(env, COORD, activity_id)
    first = await actions.use_code(env, actor(A, Role.VOLUNTEER), code.code, None)
    env.clock.set(starts + dt.timedelta(minutes=1))  # type: ignore[attr-defined]
    again = await actions.use_code(env, actor(A, Role.VOLUNTEER), code.code, None)
    env.clock.set(starts + dt.timedelta(minutes=9))  # type: ignore[attr-defined]
    out = await actions.use_code(env, actor(A, Role.VOLUNTEER), code.code, None)
    assert (first.outcome, again.outcome, out.outcome) == ("checked_in", "already_in", "already_in")
    env.clock.set(starts + dt.timedelta(minutes=50))  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as refused:
        await actions.use_code(env, actor(A, Role.VOLUNTEER), code.code, None)
    assert refused.value.reason == "checkin.error.expired"


async def test_wishes_count_under_the_micro_wish_project_unless_attached_to_another(env: Env) -> None:
    micro = await project_actions.ensure_wish_project(env, "微心愿")
    other = await project_actions.create_project(env, COORD, "百事通", "", (), None)
    async with env.db.write() as conn:
        for _ in range(3):
            await wish_store.insert_wish(
                conn,
                resident_id=A,
                category="other",
                description="d",
                area=None,
                address=None,
                location=None,
                photo_file_id=None,
                phone=None,
                status="confirmed",
                now=NOW,
            )
    await project_actions.attach_wish(env, COORD, 2, "百事通")
    with pytest.raises(NotAllowed):
        await project_actions.attach_wish(env, actor(A, Role.VOLUNTEER), 3, "百事通")
    with pytest.raises(NotFound):
        await project_actions.attach_wish(env, COORD, 99, "百事通")
    figures = {f.project.name: f.wishes_done for f in await project_actions.projects_with_figures(env)}
    assert figures == {micro.name: 2, other.name: 1}
    await project_actions.attach_wish(env, COORD, 2, "微心愿")
    figures = {f.project.name: f.wishes_done for f in await project_actions.projects_with_figures(env)}
    assert figures == {micro.name: 3, other.name: 0}


async def test_signing_up_on_the_day_brings_no_day_before_reminder(env: Env) -> None:
    activity_id = await an_activity(env, headcount=2)  # Saturday 10:00 in Shanghai
    await actions.sign_up(env, actor(A, Role.VOLUNTEER), activity_id)
    async with env.db.read() as conn:
        starts = (await store.get_activity(conn, activity_id)).starts_at
    assert await actions.remind(env, starts - dt.timedelta(hours=2)) == 0  # 08:00 on the day
    assert await actions.remind(env, starts - dt.timedelta(minutes=30)) == 1  # the hour before
    async with env.db.read() as conn:
        lanes = (await conn.execute(select(outbox.c.lane).where(outbox.c.dedupe_key.like("activity:remind:%")))).all()
    assert [lane for (lane,) in lanes] == ["urgent"]


async def test_join_requests_go_to_the_leader_who_decides_once(env: Env) -> None:
    team = await project_actions.create_team(env, COORD, "清河队", LEADER)
    asked = await project_actions.ask_to_join(env, actor(A, Role.VOLUNTEER), team.id)
    assert asked.status == "pending"
    assert (await project_actions.ask_to_join(env, actor(A, Role.VOLUNTEER), team.id)).status == "pending"
    with pytest.raises(NotAllowed):
        await project_actions.decide_join(env, actor(B, Role.VOLUNTEER), team.id, A, approve=True)
    await project_actions.decide_join(env, actor(LEADER, Role.VOLUNTEER), team.id, A, approve=True)
    with pytest.raises(Conflict):
        await project_actions.decide_join(env, COORD, team.id, A, approve=False)
    joined = await project_actions.join_by_invite(env, actor(C, Role.VOLUNTEER), team.invite_code)
    assert joined.status == "member"
    async with env.db.read() as conn:
        told = (await conn.execute(select(outbox.c.recipient_id, outbox.c.payload).order_by(outbox.c.id))).all()
    keys = [(row.recipient_id, row.payload["key"]) for row in told]
    assert keys == [
        (LEADER, "team.you_lead"),
        (LEADER, "team.join_request"),
        (A, "team.approved"),
        (LEADER, "team.joined_by_link"),
    ]


async def test_invitations_wait_in_the_bulk_lane_for_matching_volunteers_and_the_team(env: Env) -> None:
    await an_activity(env)
    async with env.db.read() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.recipient_id, outbox.c.lane).where(outbox.c.dedupe_key.like("activity:invite:%"))
            )
        ).all()
    # Every volunteer with the skill (the leader is one of them), never the organizer; bulk: held in quiet hours.
    assert sorted(row.recipient_id for row in rows) == [LEADER, A, B, C]
    assert {row.lane for row in rows} == {"bulk"}
    # In an area: its volunteers (B lives there) and the team's members (the leader), nobody else.
    async with env.db.write() as conn:
        await conn.execute(volunteers.update().where(volunteers.c.user_id == B).values(area="东城社区"))
    projects = await project_actions.projects_with_figures(env)
    area_activity = await an_activity(env, project=projects[0].project.id, area="东城社区")
    async with env.db.read() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.recipient_id).where(outbox.c.dedupe_key.like(f"activity:invite:{area_activity}:%"))
            )
        ).all()
    assert sorted(row.recipient_id for row in rows) == [LEADER, B]


async def test_names_are_unique_and_only_coordinators_create_teams_and_projects(env: Env) -> None:
    await project_actions.create_team(env, COORD, "清河队", LEADER)
    with pytest.raises(Conflict):
        await project_actions.create_team(env, COORD, "清河队", None)
    await project_actions.create_project(env, COORD, "清河行动", "", (), None)
    with pytest.raises(Conflict):
        await project_actions.create_project(env, COORD, "清河行动", "", (), None)
    with pytest.raises(NotAllowed):
        await project_actions.create_team(env, actor(LEADER, Role.VOLUNTEER), "新队", LEADER)
    with pytest.raises(InvalidInput):
        await project_actions.create_project(env, COORD, "x", "", ("no_such_category",), None)
    assert [team.name for team, members in await project_actions.teams(env)] == ["清河队"]


async def test_hours_count_from_the_start_and_an_early_second_scan_is_not_a_check_out(env: Env) -> None:
    activity_id = await an_activity(env)
    await actions.sign_up(env, actor(A, Role.VOLUNTEER), activity_id)
    async with env.db.read() as conn:
        starts = (await store.get_activity(conn, activity_id)).starts_at
    # A checks in 100 minutes early and scans again 40 minutes later, still before the start: not a check-out.
    env.clock.set(starts - dt.timedelta(minutes=100))  # type: ignore[attr-defined]
    code = await actions.show_code(env, COORD, activity_id)
    assert (await actions.use_code(env, actor(A, Role.VOLUNTEER), code.code, None)).outcome == "checked_in"
    env.clock.set(starts - dt.timedelta(minutes=60))  # type: ignore[attr-defined]
    code = await actions.show_code(env, COORD, activity_id)
    assert (await actions.use_code(env, actor(A, Role.VOLUNTEER), code.code, None)).outcome == "already_in"
    # Out 1 h 20 min after the start: 1 hour (from the start, rounded down), not 2.5 from the check-in.
    env.clock.set(starts + dt.timedelta(minutes=80))  # type: ignore[attr-defined]
    code = await actions.show_code(env, COORD, activity_id)
    out = await actions.use_code(env, actor(A, Role.VOLUNTEER), code.code, None)
    assert (out.outcome, out.hours) == ("checked_out", 1.0)


async def test_moving_an_activity_supersedes_what_was_written_for_the_old_time(env: Env) -> None:
    activity_id = await an_activity(env)
    await actions.sign_up(env, actor(A, Role.VOLUNTEER), activity_id)
    async with env.db.read() as conn:
        starts = (await store.get_activity(conn, activity_id)).starts_at
    assert await actions.remind(env, starts - dt.timedelta(hours=12)) == 1
    # Only the organizer (or a coordinator) moves it, to the future, before it starts.
    with pytest.raises(NotAllowed):
        await actions.move(env, actor(A, Role.VOLUNTEER), activity_id, place="别处")
    with pytest.raises(InvalidInput):
        await actions.move(env, COORD, activity_id, starts_at=NOW - dt.timedelta(hours=1))
    moved = await actions.move(env, COORD, activity_id, starts_at=starts + dt.timedelta(days=1))
    assert moved.told == 1
    async with env.db.read() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.dedupe_key, outbox.c.condition, outbox.c.recipient_id)
                .where(outbox.c.dedupe_key.like("activity:%"))
                .order_by(outbox.c.id)
            )
        ).all()
        unmet: dict[str, list[str | None]] = {}
        for row in rows:
            if row.recipient_id == A:
                why = await outbox_store.unmet_condition(conn, row.condition, row.recipient_id, admin_ids=())
                unmet.setdefault(row.dedupe_key.split(":")[1], []).append(why)
    moved_away = f"activity {activity_id} was moved"
    assert unmet["remind"] == [moved_away]
    # The invitation still waiting is superseded and a new one, with the new time, takes its place.
    assert unmet["invite"] == [moved_away, None]
    assert unmet["moved"] == [None]
    # The day before the new date, a new reminder is written.
    assert await actions.remind(env, starts + dt.timedelta(hours=12)) == 1
    # Cancelled: nothing written for it holds any more, and it cannot be cancelled or moved again.
    off = await actions.call_off(env, COORD, activity_id, "下雨")
    assert (off.activity.status, off.told) == ("cancelled", 1)
    with pytest.raises(Conflict):
        await actions.call_off(env, COORD, activity_id, "再来一次")
    with pytest.raises(Conflict):
        await actions.move(env, COORD, activity_id, place="别处")
