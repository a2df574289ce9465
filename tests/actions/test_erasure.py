"""Erasure erases (issue 12): after /deleteme no column of any table — outbox payloads and event notes included,
in raw, HTML-escaped and JSON-escaped form — holds the person's name, phone, username, address, words, photo file
ids or coordinates; pending notices about them are dropped whatever their text says."""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import select

from actions import activities, cases, privacy, projects, whistles
from actions import wishes as wish_actions
from actions.env import Env
from bot.clock import ManualClock
from bot.settings import load_settings
from rules import applications as application_rules
from rules import wishes as lifecycle
from rules.applications import ApplicationAction
from rules.cases import CaseOrder
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from storage import applications, departments, users
from storage import people as identities
from storage.activities import NewActivity
from storage.db import Database
from storage.schema import outbox, wish_events, wishes
from tests.stories.test_privacy import traces_of

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
RESIDENT, COORDINATOR, VOLUNTEER = 1, 2, 3
NAME = "O'Brien & 李"
USERNAME = "obrien_li"
PHONE = "+86 138 0000 4321"
ADDRESS = "幸福路 8 号 <2> 单元"
DESCRIPTION = "帮忙取药品"  # shorter than any fragment a text match would trust: only the subject finds it
PLACE = (31.2304, 121.4737)
PHOTO = "AgACAgQAAxkBAAIBerase"


async def given(db: Database) -> Env:
    async with db.write() as conn:
        for person, name, username in (
            (RESIDENT, NAME, USERNAME),
            (COORDINATOR, "协调员", None),
            (VOLUNTEER, "志愿者", None),
        ):
            await users.touch_user(
                conn, user_id=person, first_name=name, last_name=None, username=username, language="zh-CN", now=NOW
            )
            await identities.add_identity(conn, person, identities.TELEGRAM, 1_000_000 + person, now=NOW)
        await users.set_phone(conn, RESIDENT, PHONE)
        await users.grant_role(conn, COORDINATOR, Role.COORDINATOR, granted_by=None, now=NOW)
        await application_rules.register_volunteer(
            conn,
            user_id=VOLUNTEER,
            name="志愿者",
            phone=None,
            skills=("elderly_disabled",),
            area="东城社区",
            location=(31.2310, 121.4740),
            invite_code=None,
            now=NOW,
        )
        application = await applications.find_application(conn, VOLUNTEER, "volunteer")
        assert application is not None
        await application_rules.transition(conn, application.id, ApplicationAction.APPROVE, actor_id=None, now=NOW)
    settings = load_settings(bot_token="1:abc", admin_ids=[], _env_file=None)
    return Env(db=db, clock=ManualClock(NOW), settings=settings)


async def wish(env: Env, *, review: bool) -> int:
    async with env.db.write() as conn:
        stored = await lifecycle.submit_wish(
            conn,
            WishDraft(
                category="elderly_disabled",
                description=DESCRIPTION,
                area="东城社区",
                address=ADDRESS,
                location=PLACE,
                phone=PHONE,
                photo_file_id=PHOTO,
            ),
            resident_id=RESIDENT,
            now=NOW,
            review=review,
            daily_limit=100,
        )
    return stored.id


async def test_erasure_leaves_nothing_in_any_column_notice_or_event_note(db: Database) -> None:
    env = await given(db)
    coordinator = Actor(COORDINATOR, frozenset({Role.RESIDENT, Role.COORDINATOR}))
    # A whistle to the volunteers quoting the description, still waiting in the outbox.
    await whistles.whistle(env, coordinator, await wish(env, review=False))
    # A coordinator's reject note quoting the resident (and a notice telling her).
    await wish_actions.reject(env, coordinator, await wish(env, review=True), f"{NAME} 的电话 {PHONE} 打不通")
    needles = [NAME, USERNAME, PHONE, ADDRESS, DESCRIPTION, PHOTO]
    to_volunteer = select(outbox.c.status).where(outbox.c.recipient_id == VOLUNTEER)
    before = await traces_of(db, needles, PLACE)
    for place in ("users.", "wishes.", "outbox.payload", "wish_events.note", "media_refs."):
        assert any(hit.startswith(place) for hit in before), f"nothing planted in {place}"
    async with db.read() as conn:
        whistled = (await conn.execute(to_volunteer)).scalars().all()
    assert whistled == ["pending"], "the whistle notice is pending"

    await privacy.erase(env, RESIDENT)

    left = await traces_of(db, needles, PLACE)
    assert left == [], "\n".join(left)
    async with db.read() as conn:
        statuses = (await conn.execute(to_volunteer)).scalars().all()
        notes = (await conn.execute(select(wish_events.c.note))).scalars().all()
    assert set(statuses) == {"dropped"}, "the whistle about her wish is never delivered"
    assert all(note is None for note in notes)


async def test_erasure_drops_pending_case_activity_and_team_notices_about_the_person(db: Database) -> None:
    env = await given(db)
    coordinator = Actor(COORDINATOR, frozenset({Role.RESIDENT, Role.COORDINATOR}))
    resident = Actor(RESIDENT, frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    volunteer = Actor(VOLUNTEER, frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    # A department case about her wish (its card quotes her description: too short for a text match) to a member.
    async with db.write() as conn:
        department = await departments.create_department(
            conn, name="城管", categories=["elderly_disabled"], areas=["东城社区"], created_by=COORDINATOR, now=NOW
        )
        await departments.add_member(conn, department.id, VOLUNTEER, NOW)
        await users.grant_role(conn, VOLUNTEER, Role.DEPARTMENT, granted_by=None, now=NOW)
    wish_id = await wish(env, review=False)
    async with db.read() as conn:
        ref_no = (await conn.execute(select(wishes.c.ref_no).where(wishes.c.id == wish_id))).scalar_one()
    sent = await cases.send_case(env, coordinator, CaseOrder("wish", ref_no, "城管", "urgent"))
    # The member takes it and hands it back with a reason naming her as an older renderer stored it (HTML-escaped):
    # in the case, its history and the audit log.
    member = Actor(VOLUNTEER, frozenset({Role.RESIDENT, Role.DEPARTMENT}))
    await cases.acknowledge(env, member, sent.case.id)
    await cases.hand_back(env, member, sent.case.id, f"{html.escape(NAME)} 不在家")
    # She asks to join a team (the leader is told her name), and an activity the volunteer signed up for is called
    # off with a reason naming her.
    team = await projects.create_team(env, coordinator, "清河队", VOLUNTEER)
    await projects.ask_to_join(env, resident, team.id)
    project = await projects.create_project(env, coordinator, "清河行动", "", ("elderly_disabled",), None)
    activity, _ = await activities.create(
        env,
        coordinator,
        NewActivity(
            project_id=project.id,
            team_id=None,
            title="河道清洁",
            starts_at=NOW + dt.timedelta(days=2),
            duration_minutes=120,
            place="清河桥",
            location=None,
            headcount=5,
            skills=("elderly_disabled",),
            notes="",
            area=None,
        ),
    )
    await activities.sign_up(env, volunteer, activity.id)
    await activities.call_off(env, coordinator, activity.id, f"{NAME} 住院了")
    about_her = select(outbox.c.id, outbox.c.status, outbox.c.payload).where(outbox.c.recipient_id == VOLUNTEER)
    async with db.read() as conn:
        before = {row.payload["key"]: row.status for row in (await conn.execute(about_her)).all()}
    assert {key: before[key] for key in ("case.new", "team.join_request", "activity.called_off")} == {
        "case.new": "pending",
        "team.join_request": "pending",
        "activity.called_off": "pending",
    }
    needles = [NAME, USERNAME, PHONE, ADDRESS, DESCRIPTION, PHOTO]
    planted = await traces_of(db, needles, PLACE)
    for place in ("outbox.payload", "audit_log.detail", "case_events.note", "cases.return_reason"):
        assert any(hit.startswith(place) for hit in planted), f"nothing planted in {place}"

    await privacy.erase(env, RESIDENT)

    left = await traces_of(db, needles, PLACE)
    assert left == [], "\n".join(left)
    async with db.read() as conn:
        after = {row.payload.get("key"): row.status for row in (await conn.execute(about_her)).all()}
        case_row = (await conn.execute(select(outbox.c.status).where(outbox.c.dedupe_key.like("case:new:%")))).all()
    assert not {"case.new", "team.join_request", "activity.called_off"} & set(after), "blanked, never delivered"
    assert set(after.values()) >= {"dropped"}
    assert [row.status for row in case_row] == ["dropped"], f"case {sent.case.id}'s card never reaches the member"
