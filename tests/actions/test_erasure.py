"""Erasure erases (issue 12): after /deleteme no column of any table — outbox payloads and event notes included,
in raw, HTML-escaped and JSON-escaped form — holds the person's name, phone, username, address, words, photo file
ids or coordinates; pending notices about them are dropped whatever their text says."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from actions import privacy, whistles
from actions import wishes as wish_actions
from actions.env import Env
from bot.clock import ManualClock
from bot.settings import load_settings
from rules import applications as application_rules
from rules import wishes as lifecycle
from rules.applications import ApplicationAction
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from storage import applications, users
from storage import people as identities
from storage.db import Database
from storage.schema import outbox, wish_events
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
