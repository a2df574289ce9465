"""Case actions: two members pressing 签收 at once — exactly one wins, on both databases; a case acknowledged but not
resolved escalates on its resolution deadline; refusals change nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from actions import cases
from actions.env import Env
from core.clock import ManualClock
from rules.cases import CaseOrder
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from rules.wishes import submit_wish as submit
from storage import cases as store
from storage import departments, people, users
from storage.db import Database
from storage.errors import Conflict, NotAllowed
from storage.schema import outbox
from tests.actions.test_wishes import env_for

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
RESIDENT, COORDINATOR, MEMBER_A, MEMBER_B, OUTSIDER = 1, 2, 3, 4, 5
COORDINATOR_ACTOR = Actor(COORDINATOR, frozenset({Role.RESIDENT, Role.COORDINATOR}))


def member(person: int) -> Actor:
    return Actor(person, frozenset({Role.RESIDENT, Role.DEPARTMENT}))


@pytest.fixture
async def env(db: Database) -> Env:
    """A resident's open wish W-0001, a coordinator, and 城管 with two members."""
    async with db.write() as conn:
        for person in (RESIDENT, COORDINATOR, MEMBER_A, MEMBER_B, OUTSIDER):
            await users.touch_user(
                conn, user_id=person, first_name=f"P{person}", last_name=None, username=None, language="zh-CN", now=NOW
            )
            await people.add_identity(conn, person, people.TELEGRAM, 1_000_000 + person, now=NOW)
        await users.grant_role(conn, COORDINATOR, Role.COORDINATOR, granted_by=None, now=NOW)
        department = await departments.create_department(
            conn, name="城管", categories=["environment"], areas=["东城社区"], created_by=COORDINATOR, now=NOW
        )
        for person in (MEMBER_A, MEMBER_B):
            await departments.add_member(conn, department.id, person, NOW)
            await users.grant_role(conn, person, Role.DEPARTMENT, granted_by=None, now=NOW)
        await submit(
            conn,
            WishDraft(category="environment", description="路灯坏了好几天", area="东城社区"),
            resident_id=RESIDENT,
            now=NOW,
            review=False,
            daily_limit=10,
        )
    return env_for(db)


async def test_two_members_acknowledging_at_once_one_wins(env: Env) -> None:
    sent = await cases.send_case(env, COORDINATOR_ACTOR, CaseOrder("wish", 1, "城管", "urgent"))
    assert sent.told == 2
    outcomes = await asyncio.gather(
        cases.acknowledge(env, member(MEMBER_A), sent.case.id),
        cases.acknowledge(env, member(MEMBER_B), sent.case.id),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if isinstance(o, cases.CaseView)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1
    assert len(losers) == 1
    async with env.db.read() as conn:
        case = await store.get_case(conn, sent.case.id)
        history = await store.events_of(conn, sent.case.id)
    assert case.acknowledged_by == winners[0].case.acknowledged_by
    assert [(f, t) for f, t, _ in history] == [(None, "sent"), ("sent", "acknowledged")]


async def test_only_members_acknowledge_and_only_the_holder_resolves(env: Env) -> None:
    sent = await cases.send_case(env, COORDINATOR_ACTOR, CaseOrder("wish", 1, "城管", "general"))
    with pytest.raises(NotAllowed):
        await cases.acknowledge(env, member(OUTSIDER), sent.case.id)
    with pytest.raises(NotAllowed):
        await cases.send_case(env, member(MEMBER_A), CaseOrder("wish", 1, "城管", "general"))
    with pytest.raises(Conflict):
        await cases.send_case(env, COORDINATOR_ACTOR, CaseOrder("wish", 1, "城管", "urgent"))
    await cases.acknowledge(env, member(MEMBER_A), sent.case.id)
    with pytest.raises(NotAllowed):
        await cases.resolve(env, member(MEMBER_B), sent.case.id, "办好了")
    with pytest.raises(NotAllowed):
        await cases.rate(env, member(MEMBER_A), sent.case.id, 5)
    async with env.db.read() as conn:
        assert (await store.get_case(conn, sent.case.id)).status == "acknowledged"


async def test_an_unresolved_case_escalates_at_its_resolution_deadline(env: Env) -> None:
    clock = env.clock
    assert isinstance(clock, ManualClock)
    sent = await cases.send_case(env, COORDINATOR_ACTOR, CaseOrder("wish", 1, "城管", "utility"))
    clock.advance(dt.timedelta(hours=1))
    await cases.acknowledge(env, member(MEMBER_A), sent.case.id)
    clock.set(NOW + dt.timedelta(hours=23, minutes=59))
    assert await cases.escalate_due(env, clock.now()) == 0
    clock.set(NOW + dt.timedelta(hours=24))
    assert await cases.escalate_due(env, clock.now()) == 1  # the coordinator (no admin has written to the bot)
    assert await cases.escalate_due(env, clock.now()) == 0
    async with env.db.read() as conn:
        keys = set(
            (await conn.execute(select(outbox.c.dedupe_key).where(outbox.c.dedupe_key.like("case:late%")))).scalars()
        )
    assert keys == {f"case:late1:resolve:{sent.case.id}:{COORDINATOR}"}
    # Resolved before twice the time: nothing more.
    await cases.resolve(env, member(MEMBER_A), sent.case.id, "已修好")
    clock.set(NOW + dt.timedelta(hours=48))
    assert await cases.escalate_due(env, clock.now()) == 0
