"""Role applications and invites: the lifecycle, the role that follows it, and invite limits."""

from __future__ import annotations

import datetime as dt

import pytest

from rules import applications
from rules.applications import ApplicationAction, ApplicationStatus
from storage import invites, users
from storage.db import Database
from storage.errors import Conflict, LimitReached, NotFound

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


async def _person(db: Database, user_id: int) -> None:
    async with db.write() as conn:
        await users.touch_user(
            conn, user_id=user_id, first_name="小周", last_name=None, username=None, language="zh-CN", now=NOW
        )


async def _roles(db: Database, user_id: int) -> frozenset[str]:
    async with db.read() as conn:
        return (await users.get_user(conn, user_id)).roles


async def test_application_waits_then_approval_grants_the_role(db: Database) -> None:
    await _person(db, 1)
    async with db.write() as conn:
        app = await applications.apply(conn, user_id=1, role="volunteer", now=NOW)
    assert app.status == ApplicationStatus.PENDING
    assert await _roles(db, 1) == frozenset()
    async with db.write() as conn:
        decided = await applications.transition(conn, app.id, ApplicationAction.APPROVE, actor_id=99, now=NOW)
    assert decided.status == ApplicationStatus.APPROVED
    assert await _roles(db, 1) == {"volunteer"}


async def test_second_decision_on_the_same_application_is_refused(db: Database) -> None:
    await _person(db, 1)
    async with db.write() as conn:
        app = await applications.apply(conn, user_id=1, role="volunteer", now=NOW)
        await applications.transition(conn, app.id, ApplicationAction.REJECT, actor_id=99, now=NOW, note="不在本区")
    async with db.write() as conn:
        with pytest.raises(Conflict) as caught:
            await applications.transition(conn, app.id, ApplicationAction.APPROVE, actor_id=98, now=NOW)
    assert caught.value.current == ApplicationStatus.REJECTED
    assert await _roles(db, 1) == frozenset()


async def test_rejected_person_may_apply_again_but_not_twice_while_pending(db: Database) -> None:
    await _person(db, 1)
    async with db.write() as conn:
        app = await applications.apply(conn, user_id=1, role="reporter", now=NOW)
        await applications.transition(conn, app.id, ApplicationAction.REJECT, actor_id=99, now=NOW)
        again = await applications.apply(conn, user_id=1, role="reporter", now=NOW)
        assert again.status == ApplicationStatus.PENDING
        with pytest.raises(Conflict):
            await applications.apply(conn, user_id=1, role="reporter", now=NOW)


async def test_suspension_takes_the_role_away(db: Database) -> None:
    await _person(db, 1)
    async with db.write() as conn:
        app = await applications.apply(conn, user_id=1, role="volunteer", now=NOW)
        await applications.transition(conn, app.id, ApplicationAction.APPROVE, actor_id=99, now=NOW)
        await applications.transition(conn, app.id, ApplicationAction.SUSPEND, actor_id=99, now=NOW)
    assert await _roles(db, 1) == frozenset()


async def test_invite_approves_at_once_until_used_up_or_expired(db: Database) -> None:
    for user_id in (1, 2, 3):
        await _person(db, user_id)
    async with db.write() as conn:
        invite = await invites.create_invite(conn, role="volunteer", created_by=99, now=NOW, max_uses=2)
    assert invite.payload.startswith("vinv_")
    for user_id in (1, 2):
        async with db.write() as conn:
            await invites.use_invite(conn, invite.code, "volunteer", NOW)
            app = await applications.apply(conn, user_id=user_id, role="volunteer", now=NOW, invite_code=invite.code)
        assert app.status == ApplicationStatus.APPROVED
    async with db.write() as conn:
        with pytest.raises(LimitReached):
            await invites.use_invite(conn, invite.code, "volunteer", NOW)
        fresh = await invites.create_invite(conn, role="volunteer", created_by=99, now=NOW)
        with pytest.raises(LimitReached):
            await invites.check_invite(conn, fresh.code, "volunteer", NOW + dt.timedelta(days=8))
        with pytest.raises(NotFound):
            await invites.check_invite(conn, fresh.code, "reporter", NOW)
