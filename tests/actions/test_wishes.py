"""The residents' and coordinators' wish actions: each writes its change, its audit entry and every notice in
one transaction, each notice under the condition it is true under; refusals are typed and change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from actions import notices
from actions import wishes as actions
from actions.env import Env
from core.clock import ManualClock
from core.settings import load_settings
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import Actor, InvalidInput, WishDraft
from storage import followers, media, outbox, people, tips, users
from storage import wishes as store
from storage.db import Database
from storage.errors import Conflict, LimitReached, NotAllowed
from storage.schema import audit_log
from storage.schema import outbox as outbox_table

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
ADMIN, RESIDENT, COORDINATOR, VOLUNTEER, FOLLOWER = 9, 1, 2, 3, 4  # person ids
# ADMIN_IDS are Telegram ids: the admin's account, and an admin's account that never wrote to the bot.
ADMIN_TELEGRAM, ABSENT_ADMIN_TELEGRAM = 1_000_009, 1_000_099
RESIDENT_ACTOR = Actor(RESIDENT)
COORDINATOR_ACTOR = Actor(COORDINATOR, frozenset({Role.RESIDENT, Role.COORDINATOR}))
VOLUNTEER_ACTOR = Actor(VOLUNTEER, frozenset({Role.RESIDENT, Role.VOLUNTEER}))
DRAFT = WishDraft(category="elderly_disabled", description="帮忙买菜和打扫卫生", area="东城社区", address="幸福路1号")


def env_for(db: Database, **settings: object) -> Env:
    admins = [ADMIN_TELEGRAM, ABSENT_ADMIN_TELEGRAM]
    values: dict[str, Any] = {"bot_token": "1:abc", "admin_ids": admins, "_env_file": None}
    values.update(settings)
    return Env(db=db, clock=ManualClock(NOW), settings=load_settings(**values))


@pytest.fixture
async def env(db: Database) -> Env:
    """Everyone but one admin has written to the bot; one of them is a coordinator."""
    async with db.write() as conn:
        for user_id in (ADMIN, RESIDENT, COORDINATOR, VOLUNTEER, FOLLOWER):
            await users.touch_user(
                conn,
                user_id=user_id,
                first_name=f"P{user_id}",
                last_name=None,
                username=None,
                language="zh-CN",
                now=NOW,
            )
            await people.add_identity(conn, user_id, people.TELEGRAM, 1_000_000 + user_id, now=NOW)
        await users.grant_role(conn, COORDINATOR, Role.COORDINATOR, granted_by=ADMIN, now=NOW)
    return env_for(db)


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


async def done_wish(env: Env, *, proof: str | None = None) -> store.Wish:
    """A wish approved, claimed by the volunteer and reported done, with a follower."""
    wish = (await actions.submit(env, RESIDENT_ACTOR, DRAFT)).wish
    await actions.approve(env, COORDINATOR_ACTOR, wish.id)
    await actions.join(env, Actor(FOLLOWER), wish.id)
    async with env.db.write() as conn:
        await lifecycle.claim_wish(conn, wish.id, actor=VOLUNTEER_ACTOR, now=NOW, due_at=NOW + dt.timedelta(days=1))
        return await lifecycle.finish_wish(
            conn, wish.id, actor=VOLUNTEER_ACTOR, now=NOW, hours=1.5, proof_file_id=proof
        )


async def test_a_submitted_wish_tells_the_coordinators_while_it_waits_and_they_are_coordinators(env: Env) -> None:
    submitted = await actions.submit(env, RESIDENT_ACTOR, DRAFT)
    assert submitted.awaiting_review
    assert submitted.wish.status == "pending_review"
    # The admin who never wrote to the bot cannot be written to; the resident is told by the channel's reply.
    async with env.db.read() as conn:
        told = set((await conn.execute(select(outbox_table.c.recipient_id))).scalars())
    assert told == {ADMIN, COORDINATOR}
    assert await rows(env, RESIDENT) == []
    [to_admin] = await rows(env, ADMIN)
    [to_coordinator] = await rows(env, COORDINATOR)
    assert to_coordinator["payload"]["key"] == "pending.notice_new_wish"
    assert to_coordinator["condition"] == [
        notices.wish_in(submitted.wish.id, "pending_review"),
        notices.holds_role(Role.COORDINATOR),
    ]
    assert await unmet(env, to_coordinator) is None

    async with env.db.write() as conn:
        await users.revoke_role(conn, COORDINATOR, Role.COORDINATOR)
    assert await unmet(env, to_coordinator) == "recipient no longer holds coordinator"
    await actions.approve(env, Actor(ADMIN, frozenset({Role.ADMIN})), submitted.wish.id)
    assert await unmet(env, to_admin) == f"wish {submitted.wish.id} is open"


async def test_without_review_a_wish_opens_at_once_and_nobody_is_told(db: Database, env: Env) -> None:
    submitted = await actions.submit(env_for(db, wish_review=False), RESIDENT_ACTOR, DRAFT)
    assert (submitted.wish.status, submitted.awaiting_review) == ("open", False)
    assert await rows(env, ADMIN) == []
    assert await rows(env, COORDINATOR) == []


async def test_the_daily_limit_refuses_and_writes_nothing(db: Database, env: Env) -> None:
    limited = env_for(db, wishes_per_day=1)
    await actions.submit(limited, RESIDENT_ACTOR, DRAFT)
    assert await actions.may_submit(limited, RESIDENT_ACTOR) is False
    with pytest.raises(LimitReached):
        await actions.submit(limited, RESIDENT_ACTOR, DRAFT)
    assert len(await rows(env, COORDINATOR)) == 1


async def test_approval_is_audited_and_the_resident_is_told_while_it_is_open(env: Env) -> None:
    wish = (await actions.submit(env, RESIDENT_ACTOR, DRAFT)).wish
    approved = await actions.approve(env, COORDINATOR_ACTOR, wish.id)
    assert approved.wish.status == "open"
    [told] = await rows(env, RESIDENT)
    assert (told["payload"]["key"], told["payload"]["values"], told["lane"]) == (
        "wish.notice_approved",
        {"ref": "W-0001"},
        "normal",
    )
    assert await audit_actions(env) == [(COORDINATOR, "wish.approve", "W-0001")]
    async with env.db.write() as conn:
        await lifecycle.claim_wish(conn, wish.id, actor=VOLUNTEER_ACTOR, now=NOW, due_at=NOW + dt.timedelta(days=1))
    assert await unmet(env, told) == f"wish {wish.id} is claimed"


@pytest.mark.parametrize(
    ("actor", "error"),
    [(RESIDENT_ACTOR, NotAllowed), (VOLUNTEER_ACTOR, NotAllowed), (COORDINATOR_ACTOR, Conflict)],
    ids=["resident", "volunteer", "second-press"],
)
async def test_approval_refused_changes_nothing(env: Env, actor: Actor, error: type[Exception]) -> None:
    wish = (await actions.submit(env, RESIDENT_ACTOR, DRAFT)).wish
    if error is Conflict:
        await actions.approve(env, COORDINATOR_ACTOR, wish.id)
    with pytest.raises(error):
        await actions.approve(env, actor, wish.id)
    assert len(await rows(env, RESIDENT)) == (1 if error is Conflict else 0)
    assert len(await audit_actions(env)) == (1 if error is Conflict else 0)


async def test_a_rejection_carries_its_reason_to_the_resident(env: Env) -> None:
    wish = (await actions.submit(env, RESIDENT_ACTOR, DRAFT)).wish
    await actions.check_reject(env, COORDINATOR_ACTOR, wish.id)
    rejected = await actions.reject(env, COORDINATOR_ACTOR, wish.id, "  不在服务范围 ")
    assert (rejected.wish.status, rejected.wish.reject_reason) == ("rejected", "不在服务范围")
    [told] = await rows(env, RESIDENT)
    assert told["payload"]["values"] == {"ref": "W-0001", "reason": "不在服务范围"}
    assert await audit_actions(env) == [(COORDINATOR, "wish.reject", "W-0001")]
    with pytest.raises(Conflict):
        await actions.check_reject(env, COORDINATOR_ACTOR, wish.id)


async def test_recategorising_takes_only_the_centres_categories(env: Env) -> None:
    wish = (await actions.submit(env, RESIDENT_ACTOR, DRAFT)).wish
    with pytest.raises(InvalidInput):
        await actions.recategorize(env, COORDINATOR_ACTOR, wish.id, "no_such_category")
    changed = await actions.recategorize(env, COORDINATOR_ACTOR, wish.id, "environment")
    assert changed.wish.category == "environment"
    assert await audit_actions(env) == [(COORDINATOR, "wish.category", "W-0001")]


async def test_cancelling_a_claimed_wish_tells_the_volunteer_and_the_followers(env: Env) -> None:
    wish = (await actions.submit(env, RESIDENT_ACTOR, DRAFT)).wish
    await actions.approve(env, COORDINATOR_ACTOR, wish.id)
    await actions.join(env, Actor(FOLLOWER), wish.id)
    async with env.db.write() as conn:
        await lifecycle.claim_wish(conn, wish.id, actor=VOLUNTEER_ACTOR, now=NOW, due_at=NOW + dt.timedelta(days=1))
    cancelled = await actions.cancel(env, RESIDENT_ACTOR, wish.id)
    assert cancelled.wish.status == "cancelled"
    [to_volunteer] = await rows(env, VOLUNTEER)
    [to_follower] = await rows(env, FOLLOWER)
    assert (to_volunteer["payload"]["key"], to_volunteer["lane"]) == ("task.notice_cancelled", "urgent")
    assert to_follower["payload"]["key"] == "similar.notice_cancelled"
    assert await audit_actions(env) == [(COORDINATOR, "wish.approve", "W-0001")]  # the resident is not staff
    with pytest.raises(Conflict):
        await actions.cancel(env, RESIDENT_ACTOR, wish.id)


async def test_confirming_thanks_the_volunteer_tells_the_followers_and_offers_the_story_lead(env: Env) -> None:
    wish = await done_wish(env, proof="proof-file")
    confirmed = await actions.confirm(env, RESIDENT_ACTOR, wish.id)
    assert (confirmed.wish.status, confirmed.lead_offered) == ("confirmed", True)
    keys = {row["payload"]["key"]: row for row in await rows(env, VOLUNTEER)}
    assert keys["task.notice_confirmed"]["payload"]["values"] == {"ref": "W-0001", "hours": "1.5"}
    # The proof photo goes by its media id; the sender shows the channel's reference to it.
    assert wish.proof_media_id is not None
    assert keys["lead.ask_consent"]["payload"]["media"] == wish.proof_media_id
    async with env.db.read() as conn:
        assert await media.file_ref(conn, wish.proof_media_id, media.TELEGRAM) == "proof-file"
    assert [row["payload"]["key"] for row in await rows(env, FOLLOWER)] == ["similar.notice_confirmed"]
    async with env.db.read() as conn:
        assert await tips.find_story_lead(conn, wish.ref_no) is not None

    rated = await actions.rate(env, RESIDENT_ACTOR, wish.id, 4)
    assert rated.wish.rating == 4
    assert (await rows(env, VOLUNTEER))[-1]["payload"]["values"] == {"ref": "W-0001", "rating": 4}
    with pytest.raises(InvalidInput):
        await actions.rate(env, RESIDENT_ACTOR, wish.id, 6)
    with pytest.raises(NotAllowed):
        await actions.rate(env, VOLUNTEER_ACTOR, wish.id, 1)


async def test_without_a_proof_photo_no_story_lead_is_offered(env: Env) -> None:
    wish = await done_wish(env)
    assert (await actions.confirm(env, RESIDENT_ACTOR, wish.id)).lead_offered is False
    assert [row["payload"]["key"] for row in await rows(env, VOLUNTEER)] == ["task.notice_confirmed"]


async def test_not_yet_sends_the_wish_back_to_its_volunteer_with_done_and_release(env: Env) -> None:
    wish = await done_wish(env)
    with pytest.raises(NotAllowed):
        await actions.check_not_yet(env, VOLUNTEER_ACTOR, wish.id)
    await actions.check_not_yet(env, RESIDENT_ACTOR, wish.id)
    with pytest.raises(InvalidInput):
        await actions.not_yet(env, RESIDENT_ACTOR, wish.id, "   ")
    changed = await actions.not_yet(env, RESIDENT_ACTOR, wish.id, "还差打扫卫生")
    assert (changed.wish.status, changed.wish.claimed_by, changed.wish.resident_note) == (
        "claimed",
        VOLUNTEER,
        "还差打扫卫生",
    )
    [told] = await rows(env, VOLUNTEER)
    assert (told["payload"]["key"], told["lane"]) == ("task.notice_not_yet", "urgent")
    assert told["payload"]["buttons"] == [
        [["task.button.done", "task:done", wish.id, None], ["task.button.release", "task:release", wish.id, None]]
    ]
    assert await unmet(env, told) is None
    async with env.db.write() as conn:
        await lifecycle.release_wish(conn, wish.id, actor=VOLUNTEER_ACTOR, now=NOW)
    assert await unmet(env, told) == f"wish {wish.id} is open"


async def test_joining_refuses_ones_own_wish_and_a_finished_one(env: Env) -> None:
    wish = (await actions.submit(env, RESIDENT_ACTOR, DRAFT)).wish
    await actions.approve(env, COORDINATOR_ACTOR, wish.id)
    with pytest.raises(NotAllowed):
        await actions.join(env, RESIDENT_ACTOR, wish.id)
    assert (await actions.mine(env, Actor(FOLLOWER))).joined == []
    await actions.join(env, Actor(FOLLOWER), wish.id)
    assert [w.id for w in (await actions.mine(env, Actor(FOLLOWER))).joined] == [wish.id]
    await actions.cancel(env, RESIDENT_ACTOR, wish.id)
    with pytest.raises(Conflict):
        await actions.join(env, Actor(VOLUNTEER), wish.id)
    async with env.db.read() as conn:
        assert await followers.followers_of(conn, wish.id) == [FOLLOWER]


async def test_a_failure_after_the_change_leaves_neither_change_nor_notice(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    wish = await done_wish(env, proof="proof-file")

    async def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("actions.wishes.offer_story_lead", broken)
    with pytest.raises(RuntimeError):
        await actions.confirm(env, RESIDENT_ACTOR, wish.id)
    async with env.db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "done"
    assert await rows(env, VOLUNTEER) == []
    assert [row["payload"]["key"] for row in await rows(env, FOLLOWER)] == []
