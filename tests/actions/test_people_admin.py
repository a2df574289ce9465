"""Staff and people administration as actions: roles, blocks, volunteer applications, invites, erasure and
language. Each writes its change, its audit entry and every notice in one transaction, each notice under
the condition it is true under; refusals are typed and change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from actions import applications, invites, notices, people, privacy, staff
from actions.env import Env
from actions.messages import Notice
from core.clock import ManualClock
from core.settings import load_settings
from rules import applications as application_rules
from rules.roles import Role
from rules.staff import RoleChangeError
from rules.wishes import Actor
from storage import applications as stored
from storage import outbox, users
from storage import people as identities
from storage import volunteers as profiles
from storage import wishes as store
from storage.db import Database
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound
from storage.schema import audit_log
from storage.schema import outbox as outbox_table

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
ADMIN, RESIDENT, COORDINATOR, EDITOR, APPLICANT = 9, 1, 2, 3, 4  # person ids
# ADMIN_IDS are Telegram ids: the admin's account, and an admin's account that never wrote to the bot.
ADMIN_TELEGRAM, ABSENT_ADMIN_TELEGRAM = 1_000_009, 1_000_099
ADMIN_ACTOR = Actor(ADMIN, frozenset({Role.RESIDENT, Role.ADMIN, Role.COORDINATOR, Role.EDITOR, Role.MONITOR}))
COORDINATOR_ACTOR = Actor(COORDINATOR, frozenset({Role.RESIDENT, Role.COORDINATOR}))
EDITOR_ACTOR = Actor(EDITOR, frozenset({Role.RESIDENT, Role.EDITOR}))
RESIDENT_ACTOR = Actor(RESIDENT)
FORM = applications.VolunteerForm(
    name="李小龙", phone="13800001111", skills=("free_clinic",), area="西城社区", location=(31.2, 121.4)
)


@pytest.fixture
async def env(db: Database) -> Env:
    """Everyone but one admin has written to the bot; one is a coordinator, one an editor."""
    async with db.write() as conn:
        for user_id in (ADMIN, RESIDENT, COORDINATOR, EDITOR, APPLICANT):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"P{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )
            await identities.add_identity(conn, user_id, identities.TELEGRAM, 1_000_000 + user_id, now=NOW)
        await users.grant_role(conn, COORDINATOR, Role.COORDINATOR, granted_by=ADMIN, now=NOW)
        await users.grant_role(conn, EDITOR, Role.EDITOR, granted_by=ADMIN, now=NOW)
    settings = load_settings(bot_token="1:abc", admin_ids=[ADMIN_TELEGRAM, ABSENT_ADMIN_TELEGRAM], _env_file=None)
    return Env(db=db, clock=ManualClock(NOW), settings=settings)


async def rows(env: Env, recipient: int) -> list[dict[str, Any]]:
    async with env.db.read() as conn:
        return await outbox.messages_for(conn, recipient)


async def unmet(env: Env, row: dict[str, Any]) -> str | None:
    async with env.db.read() as conn:
        return await outbox.unmet_condition(
            conn, row["condition"], row["recipient_id"], admin_ids=env.settings.admin_ids
        )


async def audit_actions(env: Env) -> list[tuple[int | None, str, str | None]]:
    async with env.db.read() as conn:
        result = await conn.execute(select(audit_log.c.actor_id, audit_log.c.action, audit_log.c.subject))
        return [(row.actor_id, row.action, row.subject) for row in result]


# --- roles and blocks -------------------------------------------------------------------------------------


async def test_a_grant_writes_role_audit_and_a_notice_true_while_the_role_is_held(env: Env) -> None:
    outcome = await staff.grant_role(env, ADMIN_ACTOR, RESIDENT, Role.MONITOR)
    assert outcome.changed
    assert "monitor" in outcome.person.roles
    assert (ADMIN, "role.grant", f"user:{RESIDENT}") in await audit_actions(env)
    [notice] = await rows(env, RESIDENT)
    assert notice["payload"]["key"] == "staff.you_were_granted"
    assert notice["payload"]["values"] == {"role_key": "staff.role.monitor"}
    assert await unmet(env, notice) is None

    # Revoked before the notice went out: the grant notice is stale, the revoke notice is true.
    await staff.revoke_role(env, ADMIN_ACTOR, RESIDENT, Role.MONITOR)
    granted, revoked = await rows(env, RESIDENT)
    assert await unmet(env, granted) == "recipient no longer holds monitor"
    assert revoked["payload"]["key"] == "staff.you_were_revoked"
    assert await unmet(env, revoked) is None
    # Granted again: the revoke notice is stale in turn.
    await staff.grant_role(env, ADMIN_ACTOR, RESIDENT, Role.MONITOR)
    assert await unmet(env, (await rows(env, RESIDENT))[1]) == "recipient holds monitor again"


async def test_a_repeated_grant_changes_and_tells_nothing(env: Env) -> None:
    outcome = await staff.grant_role(env, ADMIN_ACTOR, COORDINATOR, Role.COORDINATOR)
    assert not outcome.changed
    assert await rows(env, COORDINATOR) == []
    assert await audit_actions(env) == []


@pytest.mark.parametrize("action", [staff.grant_role, staff.revoke_role])
async def test_only_admins_change_roles(env: Env, action: Any) -> None:
    with pytest.raises(NotAllowed):
        await action(env, COORDINATOR_ACTOR, RESIDENT, Role.EDITOR)
    with pytest.raises(NotFound):
        await action(env, ADMIN_ACTOR, 12345, Role.EDITOR)
    assert await audit_actions(env) == []
    assert await rows(env, RESIDENT) == []


async def test_block_and_unblock_are_audited_and_tell_nobody(env: Env) -> None:
    blocked = await staff.block(env, COORDINATOR_ACTOR, RESIDENT)
    assert blocked.changed
    assert blocked.person.blocked
    assert not (await staff.block(env, COORDINATOR_ACTOR, RESIDENT)).changed
    unblocked = await staff.unblock(env, COORDINATOR_ACTOR, RESIDENT)
    assert unblocked.changed
    assert not unblocked.person.blocked
    assert await audit_actions(env) == [
        (COORDINATOR, "user.block", f"user:{RESIDENT}"),
        (COORDINATOR, "user.unblock", f"user:{RESIDENT}"),
    ]
    assert await rows(env, RESIDENT) == []


@pytest.mark.parametrize(
    ("actor", "target", "error"),
    [
        (COORDINATOR_ACTOR, EDITOR, RoleChangeError),  # staff are blocked by admins only
        (COORDINATOR_ACTOR, COORDINATOR, RoleChangeError),  # not oneself
        (ADMIN_ACTOR, ADMIN, RoleChangeError),  # nobody blocks an admin
        (RESIDENT_ACTOR, APPLICANT, NotAllowed),
        (COORDINATOR_ACTOR, 12345, NotFound),
    ],
)
async def test_refused_blocks_change_nothing(env: Env, actor: Actor, target: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        await staff.block(env, actor, target)
    assert await audit_actions(env) == []


# --- volunteer applications -------------------------------------------------------------------------------


async def test_an_application_tells_each_coordinator_while_it_is_pending_and_they_coordinate(env: Env) -> None:
    outcome = await applications.register_volunteer(env, APPLICANT, FORM, invite_code=None)
    assert outcome.status == "pending"
    assert not outcome.newly_approved
    async with env.db.read() as conn:
        application = await stored.find_application(conn, APPLICANT, "volunteer")
    assert application is not None
    # The coordinator and the admin who wrote to the bot; not the admin who never did.
    for recipient in (COORDINATOR, ADMIN):
        [notice] = await rows(env, recipient)
        assert notice["payload"]["key"] == "pending.notice_new_volunteer"
        # Raw (the channel escapes), with the application's id a channel's decision card is built from (WeCom).
        assert notice["payload"]["values"] == {"name": "李小龙", "application": application.id}
        assert await unmet(env, notice) is None
    async with env.db.read() as conn:
        told = set((await conn.execute(select(outbox_table.c.recipient_id))).scalars())
    assert told == {COORDINATOR, ADMIN}

    # Updating the profile while pending tells nobody again.
    await applications.register_volunteer(env, APPLICANT, FORM, invite_code=None)
    assert len(await rows(env, COORDINATOR)) == 1

    # The coordinator loses the role: their notice is stale; the admin's still holds.
    await staff.revoke_role(env, ADMIN_ACTOR, COORDINATOR, Role.COORDINATOR)
    assert await unmet(env, (await rows(env, COORDINATOR))[0]) == "recipient no longer holds coordinator"
    admin_notice = (await rows(env, ADMIN))[0]
    assert await unmet(env, admin_notice) is None

    # Decided before the notice went out: stale for everyone.
    application_id = await pending_id(env)
    await applications.approve_volunteer(env, ADMIN_ACTOR, application_id)
    assert await unmet(env, admin_notice) == f"application {application_id} is approved"


async def pending_id(env: Env) -> int:
    async with env.db.read() as conn:
        [application] = await stored.pending(conn, "volunteer")
    return application.id


async def test_approval_grants_the_role_audits_and_tells_the_applicant(env: Env) -> None:
    await applications.register_volunteer(env, APPLICANT, FORM, invite_code=None)
    application_id = await pending_id(env)
    decided = await applications.approve_volunteer(env, COORDINATOR_ACTOR, application_id)
    assert "volunteer" in decided.person.roles
    assert (COORDINATOR, "volunteer.approve", str(APPLICANT)) in await audit_actions(env)
    [notice] = await rows(env, APPLICANT)
    assert notice["payload"]["key"] == "volunteer.notice_approved"
    assert await unmet(env, notice) is None
    # A second coordinator's press: already decided, nothing more written.
    with pytest.raises(Conflict):
        await applications.approve_volunteer(env, ADMIN_ACTOR, application_id)
    with pytest.raises(Conflict):
        await applications.pending_volunteer_application(env, ADMIN_ACTOR, application_id)
    assert len(await rows(env, APPLICANT)) == 1


async def test_rejection_carries_the_reason_and_a_reapplication_is_a_new_application(env: Env) -> None:
    await applications.register_volunteer(env, APPLICANT, FORM, invite_code=None)
    application_id = await pending_id(env)
    assert (await applications.pending_volunteer_application(env, COORDINATOR_ACTOR, application_id)).id
    await applications.reject_volunteer(env, COORDINATOR_ACTOR, application_id, "请补充电话 <b>")
    [notice] = await rows(env, APPLICANT)
    assert notice["payload"]["key"] == "volunteer.notice_rejected"
    assert notice["payload"]["values"] == {"reason": "请补充电话 <b>"}
    assert (COORDINATOR, "application.reject", str(APPLICANT)) in await audit_actions(env)

    # Applying again opens the application again: coordinators hear of it a second time.
    await applications.register_volunteer(env, APPLICANT, FORM, invite_code=None)
    assert len(await rows(env, COORDINATOR)) == 2
    assert await unmet(env, notice) == f"application {application_id} is pending"


async def test_only_coordinators_decide_and_only_volunteer_applications(env: Env) -> None:
    await applications.register_volunteer(env, APPLICANT, FORM, invite_code=None)
    application_id = await pending_id(env)
    with pytest.raises(NotAllowed):
        await applications.approve_volunteer(env, EDITOR_ACTOR, application_id)
    with pytest.raises(NotAllowed):
        await applications.reject_volunteer(env, RESIDENT_ACTOR, application_id, "no")
    with pytest.raises(NotFound):
        await applications.approve_volunteer(env, COORDINATOR_ACTOR, 4242)
    # A reporter application's id on a volunteer button is refused (editors decide those).
    async with env.db.write() as conn:
        reporter = await application_rules.apply(conn, user_id=RESIDENT, role="reporter", now=NOW)
    with pytest.raises(NotFound):
        await applications.approve_volunteer(env, COORDINATOR_ACTOR, reporter.id)
    assert await audit_actions(env) == []


async def test_an_invite_link_approves_at_once_and_tells_no_coordinator(env: Env) -> None:
    invite = await invites.mint_invite(env, COORDINATOR_ACTOR, "volunteer")
    assert (COORDINATOR, "invite.create", f"volunteer:{invite.code}:open") in await audit_actions(env)
    assert (await invites.check_invite(env, invite.code, "volunteer")).uses == 0
    outcome = await applications.register_volunteer(env, APPLICANT, FORM, invite_code=invite.code)
    assert outcome.newly_approved
    assert "volunteer" in outcome.person.roles
    assert (await invites.check_invite(env, invite.code, "volunteer")).uses == 1
    assert (APPLICANT, "invite.use", f"volunteer:{invite.code}") in await audit_actions(env)
    assert await rows(env, COORDINATOR) == []
    async with env.db.read() as conn:
        assert (await profiles.get_volunteer(conn, APPLICANT)).area == "西城社区"


async def test_invites_are_minted_by_the_right_role_and_checked(env: Env) -> None:
    with pytest.raises(NotAllowed):
        await invites.mint_invite(env, EDITOR_ACTOR, "volunteer")
    with pytest.raises(NotAllowed):
        await invites.mint_invite(env, COORDINATOR_ACTOR, "reporter")
    assert (await invites.mint_invite(env, EDITOR_ACTOR, "reporter")).role == "reporter"
    with pytest.raises(NotFound):
        await invites.check_invite(env, "nosuchcode", "volunteer")
    invite = await invites.mint_invite(env, ADMIN_ACTOR, "volunteer")
    assert isinstance(env.clock, ManualClock)
    env.clock.advance(invites.INVITE_VALIDITY + dt.timedelta(seconds=1))
    with pytest.raises(LimitReached):
        await invites.check_invite(env, invite.code, "volunteer")


# --- erasure and language ---------------------------------------------------------------------------------


async def test_erasure_drops_pending_notices_quoting_what_the_person_wrote_or_their_photo(env: Env) -> None:
    description = "我是王秀英，腿脚不便，想请人帮忙去药店取降压药，谢谢大家"
    async with env.db.write() as conn:
        await store.insert_wish(
            conn,
            resident_id=RESIDENT,
            category="elderly_disabled",
            description=description,
            area="东城社区",
            address=None,
            location=None,
            photo_file_id="AgACAgQAAxkBAAIBwish",
            phone=None,
            status="open",
            now=NOW,
        )
        # A follower's notice quoting the start of her description, a coordinator's card with her photo,
        # and an unrelated notice that must stay.
        await notices.queue(
            conn, APPLICANT, Notice("similar.notice_claimed", {"summary": description[:12] + "…"}), now=NOW
        )
        await notices.queue(conn, COORDINATOR, Notice("pending.notice_new_wish", photo="AgACAgQAAxkBAAIBwish"), now=NOW)
        await notices.queue(conn, EDITOR, Notice("staff.you_were_granted", {"role_key": "staff.role.editor"}), now=NOW)
    erased = await privacy.erase(env, RESIDENT)
    assert erased.touched["outbox"] == 2
    [quoted] = await rows(env, APPLICANT)
    [photo] = await rows(env, COORDINATOR)
    [kept] = await rows(env, EDITOR)
    assert quoted["status"] == photo["status"] == "dropped"
    assert quoted["payload"]["key"] == photo["payload"]["key"] == "privacy.erased_notice"
    assert kept["status"] == "pending"
    assert (RESIDENT, "privacy.erase", f"user:{RESIDENT}") in await audit_actions(env)


async def test_choosing_a_language(env: Env) -> None:
    assert (await people.choose_language(env, RESIDENT, "en")).language == "en"
    with pytest.raises(ValueError, match="xx"):
        await people.choose_language(env, RESIDENT, "xx")
