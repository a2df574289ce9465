"""Tip storage: submit, move through the lifecycle with every change recorded, the queue and the counts."""

from __future__ import annotations

import asyncio

import pytest

from rules import tips as tip_rules
from rules.roles import Role
from rules.tips import TipAction, TipStatus, tip_reference
from storage import tips, users
from storage.db import Database
from storage.errors import Conflict, NotAllowed, NotFound
from storage.tips import MediaItem
from tests.conftest import START_TIME

REPORTER, EDITOR, OTHER = 101, 202, 303
EDITOR_ROLES = frozenset({Role.RESIDENT, Role.EDITOR})


@pytest.fixture
async def people(db: Database) -> Database:
    async with db.write() as conn:
        for user_id in (REPORTER, EDITOR, OTHER):
            await users.touch_user(
                conn, user_id=user_id, first_name=str(user_id), last_name=None, username=None, language="zh-CN",
                now=START_TIME,
            )  # fmt: skip
    return db


async def submit(db: Database, media: int = 2, description: str = "路灯坏了") -> tips.Tip:
    async with db.write() as conn:
        return await tip_rules.create_tip(
            conn,
            reporter_id=REPORTER,
            by_reporter=True,
            category="livelihood",
            description=description,
            location=(31.2, 121.4),
            media=[MediaItem("photo", f"file-{description}-{i}", f"u{i}", 100) for i in range(media)],
            now=START_TIME,
        )


async def test_submitted_tip_keeps_its_media_in_order(people: Database) -> None:
    tip = await submit(people, media=3)
    assert tip_reference(tip.id) == "T-0001"
    assert tip.status == TipStatus.NEW
    assert [m.file_id for m in tip.media] == ["file-路灯坏了-0", "file-路灯坏了-1", "file-路灯坏了-2"]
    assert tip.location == (31.2, 121.4)
    second = await submit(people, media=0, description="第二条")
    assert tip_reference(second.id) == "T-0002"


async def test_every_transition_is_recorded_with_who_and_note(people: Database) -> None:
    tip = await submit(people)
    async with people.write() as conn:
        await tip_rules.transition(
            conn, tip.id, TipAction.ASK_MORE, actor_id=EDITOR, actor_roles=EDITOR_ROLES, now=START_TIME, note="几点？"
        )
        await tip_rules.answer_question(
            conn, tip.id, reporter_id=REPORTER, text="下午三点", media=[MediaItem("photo", "extra")], now=START_TIME
        )
        done = await tip_rules.transition(
            conn, tip.id, TipAction.PUBLISH, actor_id=EDITOR, actor_roles=EDITOR_ROLES, now=START_TIME,
            link="https://news.example.cn/1",
        )  # fmt: skip
        history = await tips.events_of(conn, tip.id)
    assert done.status == TipStatus.PUBLISHED
    assert done.published_url == "https://news.example.cn/1"
    assert len(done.media) == 3
    assert [(e.actor_id, e.from_status, e.to_status, e.note) for e in history] == [
        (REPORTER, None, "new", None),
        (EDITOR, "new", "more_info_requested", "几点？"),
        (REPORTER, "more_info_requested", "new", "下午三点"),
        (EDITOR, "new", "published", "https://news.example.cn/1"),
    ]


async def test_a_stale_decision_changes_nothing(people: Database) -> None:
    tip = await submit(people)
    async with people.write() as conn:
        await tip_rules.transition(
            conn, tip.id, TipAction.ACCEPT, actor_id=EDITOR, actor_roles=EDITOR_ROLES, now=START_TIME
        )
    with pytest.raises(Conflict) as caught:
        async with people.write() as conn:
            await tip_rules.transition(
                conn, tip.id, TipAction.ACCEPT, actor_id=EDITOR, actor_roles=EDITOR_ROLES, now=START_TIME
            )
    assert caught.value.current == TipStatus.ACCEPTED
    async with people.read() as conn:
        assert len(await tips.events_of(conn, tip.id)) == 2


async def test_two_editors_at_once_one_wins(people: Database) -> None:
    tip = await submit(people)

    async def act(action: TipAction) -> str:
        try:
            async with people.write() as conn:
                await tip_rules.transition(
                    conn, tip.id, action, actor_id=EDITOR, actor_roles=EDITOR_ROLES, now=START_TIME, note="x",
                    expected=TipStatus.NEW,
                )  # fmt: skip
        except Conflict:
            return "lost"
        return "won"

    # Both editors saw the tip as new: whichever comes second is refused, whatever they pressed.
    results = await asyncio.gather(act(TipAction.ACCEPT), act(TipAction.DECLINE))
    assert sorted(results) == ["lost", "won"]
    async with people.read() as conn:
        assert len(await tips.events_of(conn, tip.id)) == 2


async def test_permissions_are_checked_against_the_stored_tip(people: Database) -> None:
    tip = await submit(people)
    with pytest.raises(NotAllowed):
        async with people.write() as conn:
            await tip_rules.transition(
                conn, tip.id, TipAction.ACCEPT, actor_id=OTHER, actor_roles={Role.RESIDENT}, now=START_TIME
            )
    async with people.write() as conn:
        await tip_rules.transition(
            conn, tip.id, TipAction.ASK_MORE, actor_id=EDITOR, actor_roles=EDITOR_ROLES, now=START_TIME
        )
    with pytest.raises(NotAllowed):
        async with people.write() as conn:
            await tip_rules.answer_question(conn, tip.id, reporter_id=OTHER, text="我来答", media=[], now=START_TIME)
    with pytest.raises(NotFound):
        async with people.read() as conn:
            await tips.get_tip(conn, 999)


async def test_queue_oldest_first_and_reporter_counts(people: Database) -> None:
    first = await submit(people, description="一")
    second = await submit(people, description="二")
    third = await submit(people, description="三")
    async with people.write() as conn:
        await tip_rules.transition(
            conn, second.id, TipAction.ACCEPT, actor_id=EDITOR, actor_roles=EDITOR_ROLES, now=START_TIME
        )
        await tip_rules.transition(
            conn, third.id, TipAction.PUBLISH, actor_id=EDITOR, actor_roles=EDITOR_ROLES, now=START_TIME,
            link="https://a.cn/x",
        )  # fmt: skip
        queue = await tips.review_queue(conn)
        counts = await tip_rules.counts_of(conn, REPORTER)
        assert await tips.submitted_since(conn, REPORTER, START_TIME) == 3
    assert [t.id for t in queue] == [first.id]
    assert counts == tip_rules.TipCounts(submitted=3, accepted=2, published=1)


async def test_story_lead_needs_the_right_volunteer_and_is_answered_once(people: Database) -> None:
    async with people.write() as conn:
        lead = await tip_rules.offer_story_lead(
            conn, wish_ref_no=42, volunteer_id=REPORTER, photo_file_id="proof", summary="换门锁", now=START_TIME
        )
        assert lead is not None
        assert (
            await tip_rules.offer_story_lead(
                conn, wish_ref_no=42, volunteer_id=REPORTER, photo_file_id="proof", summary="换门锁", now=START_TIME
            )
            is None
        )
    with pytest.raises(NotAllowed):
        async with people.write() as conn:
            await tip_rules.decide_story_lead(
                conn, 42, volunteer_id=OTHER, agree=True, by_reporter=False, now=START_TIME
            )
    async with people.write() as conn:
        tip = await tip_rules.decide_story_lead(
            conn, 42, volunteer_id=REPORTER, agree=True, by_reporter=False, now=START_TIME
        )
    assert tip is not None
    assert tip.source_wish_ref == 42
    assert tip.media[0].file_id == "proof"
    with pytest.raises(Conflict):
        async with people.write() as conn:
            await tip_rules.decide_story_lead(
                conn, 42, volunteer_id=REPORTER, agree=False, by_reporter=False, now=START_TIME
            )
