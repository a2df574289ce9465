"""Erasure erases (issue 12): after /deleteme no column of any table — outbox payloads and event notes included,
in raw, HTML-escaped and JSON-escaped form — holds the person's name, phone, username, address, words, photo file
ids or coordinates; pending notices about them are dropped whatever their text says."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from sqlalchemy import select

from actions import activities, cases, privacy, projects, whistles
from actions import wishes as wish_actions
from actions.env import Env
from core.clock import ManualClock
from core.settings import load_settings
from rules import applications as application_rules
from rules import tips as tip_rules
from rules import wishes as lifecycle
from rules.applications import ApplicationAction
from rules.cases import CaseOrder
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from storage import applications, departments, media, users, wechat
from storage import people as identities
from storage.activities import NewActivity
from storage.db import Database
from storage.privacy import ERASED_TEXT
from storage.schema import media_refs, outbox, tips, wechat_inbound, wish_events, wishes
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


OPENID = "oWECHAT_OBRIEN_LI_000000001"
DRAFT_FILE = "wechat/draft-of-her-own.jpg"


async def test_erasure_reaches_notes_tips_and_activities_that_quote_her_and_her_wechat_traces(
    db: Database, tmp_path: Path
) -> None:
    """What outside testing found left behind: the volunteer's done note on her wish (her name and phone), a tip and
    an activity's notes quoting her, a newsroom lead made from her wish, the photo she sent for a WeChat draft she
    never submitted, and her WeChat callbacks with their times."""
    env = await given(db)
    env = Env(db=env.db, clock=env.clock, settings=load_settings(bot_token="1:abc", media_dir=tmp_path, _env_file=None))
    coordinator = Actor(COORDINATOR, frozenset({Role.RESIDENT, Role.COORDINATOR}))
    volunteer = Actor(VOLUNTEER, frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    quote = f"{NAME} 家没人，打了 {PHONE}"
    wish_id = await wish(env, review=False)
    async with db.write() as conn:
        await lifecycle.claim_wish(conn, wish_id, actor=volunteer, now=NOW, due_at=NOW + dt.timedelta(days=1))
        await lifecycle.finish_wish(conn, wish_id, actor=volunteer, now=NOW, hours=1, note=quote)
        ref_no = (await conn.execute(select(wishes.c.ref_no).where(wishes.c.id == wish_id))).scalar_one()
        await tip_rules.create_tip(
            conn,
            reporter_id=VOLUNTEER,
            by_reporter=True,
            category="elderly_disabled",
            description=quote,
            location=None,
            media=[],
            now=NOW,
        )
        lead = await tip_rules.create_tip(
            conn,
            reporter_id=VOLUNTEER,
            by_reporter=True,
            category="elderly_disabled",
            description="志愿者帮一位老人取回了药，老人很感激",
            location=None,
            media=[],
            now=NOW,
            source_wish_ref=ref_no,
        )
        neighbours = await lifecycle.submit_wish(
            conn,
            WishDraft(category="other", description=f"邻居{NAME}腿脚不便，请帮她买菜"),
            resident_id=VOLUNTEER,
            now=NOW,
            review=False,
            daily_limit=100,
        )
        await identities.add_identity(conn, RESIDENT, "wechat", OPENID, now=NOW)
        for n, handled in ((1, True), (2, False)):
            await wechat.record_inbound(conn, f"{OPENID}:{n}", OPENID, "<xml>你好</xml>", now=NOW)
            if handled:
                await wechat.mark_handled(conn, f"{OPENID}:{n}", now=NOW)
        draft = await media.add_media(
            conn, kind="photo", channel="wechat", file_ref="MEDIA_ID_OF_HER", now=NOW, draft_of=RESIDENT
        )
        await media.add_ref(conn, draft, "file", DRAFT_FILE)
    (tmp_path / "wechat").mkdir()
    (tmp_path / DRAFT_FILE).write_bytes(b"\xff\xd8 her draft photo")
    project = await projects.create_project(env, coordinator, "送药上门", "", ("elderly_disabled",), None)
    await activities.create(
        env,
        coordinator,
        NewActivity(
            project_id=project.id,
            team_id=None,
            title="送药上门",
            starts_at=NOW + dt.timedelta(days=2),
            duration_minutes=60,
            place="东城社区",
            location=None,
            headcount=2,
            skills=("elderly_disabled",),
            notes=f"联系人：{quote}",
            area=None,
        ),
    )
    needles = [NAME, USERNAME, PHONE, ADDRESS, DESCRIPTION, PHOTO, OPENID, "MEDIA_ID_OF_HER", DRAFT_FILE]
    planted = await traces_of(db, needles, PLACE)
    for place in (
        "wishes.done_note",
        "wishes.description",
        "tips.description",
        "activities.notes",
        "wechat_inbound.",
        "media_refs.",
    ):
        assert any(hit.startswith(place) for hit in planted), f"nothing planted in {place}"

    await privacy.erase(env, RESIDENT)

    left = await traces_of(db, needles, PLACE)
    # Her identity row keeps the openid, so that a message she sends later is not taken for a stranger's.
    assert [hit for hit in left if not hit.startswith("identities.external_id=")] == []
    async with db.read() as conn:
        stories = dict((await conn.execute(select(tips.c.id, tips.c.description))).all())
        neighbours_wish = (
            await conn.execute(select(wishes.c.description).where(wishes.c.id == neighbours.id))
        ).scalar_one()
        inbound = (await conn.execute(select(wechat_inbound.c.msg_key))).scalars().all()
    assert stories[lead.id] == ERASED_TEXT, "the lead made from her wish is not her story any more"
    assert neighbours_wish == ERASED_TEXT, "a neighbour's wish naming her is blanked, not deleted"
    assert inbound == []
    assert not (tmp_path / DRAFT_FILE).exists()


async def test_the_sweep_forgets_week_old_callbacks_and_abandoned_draft_photos(db: Database, tmp_path: Path) -> None:
    env = await given(db)
    env = Env(db=env.db, clock=env.clock, settings=load_settings(bot_token="1:abc", media_dir=tmp_path, _env_file=None))
    (tmp_path / "wechat").mkdir()
    async with db.write() as conn:
        await wechat.record_inbound(conn, "old-handled", OPENID, "", now=NOW)
        await wechat.mark_handled(conn, "old-handled", now=NOW)
        await wechat.record_inbound(conn, "old-waiting", OPENID, "<xml/>", now=NOW)
        await wechat.opened(conn, OPENID, now=NOW)  # her reply window: her openid and when she last wrote
        kept = {}
        for name in ("abandoned", "submitted"):
            stored = await media.add_media(
                conn, kind="photo", channel="wechat", file_ref=name, now=NOW, draft_of=RESIDENT
            )
            await media.add_ref(conn, stored, "file", f"wechat/{name}.jpg")
            (tmp_path / "wechat" / f"{name}.jpg").write_bytes(b"\xff\xd8")
            kept[name] = stored
    async with db.write() as conn:  # as the WeChat conversation submits a draft with the photo it saved
        await lifecycle.submit_wish(
            conn,
            WishDraft(category="other", description="帮忙修水管", photo_media_id=kept["submitted"]),
            resident_id=RESIDENT,
            now=NOW,
            review=False,
            daily_limit=100,
        )
    assert await privacy.forget_stale(env, NOW + dt.timedelta(hours=47)) == 0
    async with db.read() as conn:
        assert (await wechat.window_of(conn, OPENID)).last_inbound_at is not None, "an open window is kept"
    assert await privacy.forget_stale(env, NOW + dt.timedelta(days=6)) == 0
    async with db.read() as conn:
        assert (await wechat.window_of(conn, OPENID)).last_inbound_at is None, "a closed window is forgotten"
    assert await privacy.forget_stale(env, NOW + dt.timedelta(days=8)) == 1
    async with db.read() as conn:
        inbound = (await conn.execute(select(wechat_inbound.c.msg_key))).scalars().all()
        refs = (await conn.execute(select(media_refs.c.media_id).distinct())).scalars().all()
    assert inbound == ["old-waiting"], "a callback not yet handled is never forgotten"
    assert kept["abandoned"] not in refs
    assert kept["submitted"] in refs, "a photo a wish took stays"
    assert not (tmp_path / "wechat" / "abandoned.jpg").exists()
    assert (tmp_path / "wechat" / "submitted.jpg").exists()
