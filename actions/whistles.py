"""The coordinator's whistle: an urgent call of the matching volunteers to one open wish.

Effects:
  whistle: the wish's row locked (PostgreSQL; two coordinators whistling at once call the volunteers
    once); the whistle recorded with its audit entry (`rules.whistles.blow_whistle`); an urgent notice
    to every matching, reachable volunteer with the claim buttons (`task:claim`, the one claim path),
    true while the wish is open and they are volunteers. The coordinator's running summary is the
    channel's direct reply; its message id comes back through `remember_summary`.
  remember_summary: the summary's message id stored on the whistle; if the wish was claimed before it
    arrived, the summary edit saying who took it is queued at once (the same edit `answer` queues).
  answer (part of `actions.tasks.claim`, in its transaction; not an action of its own): the wish's
    unanswered whistles closed with who claimed it and when; per whistle, the coordinator's summary
    edited in place (an urgent outbox row that replaces the summary message: silent, so not held back
    in quiet hours) and a "claimed" notice to the coordinator. Both say "X took it N minutes after the
    whistle", which stays true whatever happens to the wish next, so they carry no condition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Notice, Value
from rules.roles import Role
from rules.staff import STAFF_ACTIONS
from rules.whistles import blow_whistle, elapsed
from rules.wishes import Actor, WishStatus, said, wish_ref
from storage import users, whistles
from storage import wishes as store
from storage.errors import NotAllowed, NotFound
from storage.whistles import Whistle
from storage.wishes import Wish

# The volunteers' claim choices (the same buttons as /tasks).
CLAIM_CHOICES = ("today", "tomorrow", "week")
DESCRIPTION_SHOWN = 200


@dataclass(frozen=True, slots=True)
class Whistled:
    """A whistle blown: the wish and the recorded whistle (its `sent_count` says how many were called)."""

    wish: Wish
    whistle: Whistle


async def whistle(env: Env, actor: Actor, wish_id: int | None = None, *, ref_no: int | None = None) -> Whistled:
    """Call the matching volunteers to an open wish (by id, or by its reference number) at once.

    `NotAllowed` for anyone but a coordinator; `NotFound` for an unknown wish; `rules.whistles.WhistleError`
    when the wish is not open, was whistled moments ago, or nobody matches (nothing is recorded then).
    """
    if actor.user_id is None or not actor.roles & STAFF_ACTIONS["whistle"]:
        raise NotAllowed(f"{actor.user_id} may not whistle")
    now = env.now()
    async with env.db.write() as conn:
        if wish_id is None:
            wish_id = (await store.get_wish_by_ref(conn, ref_no or 0)).id
        sent = await blow_whistle(
            conn, wish_id, coordinator_id=actor.user_id, now=now, radius_km=env.settings.whistle_radius_km
        )
        wish = sent.wish
        notice = Notice(
            "whistle.notice",
            {
                "ref": wish_ref(wish.ref_no),
                "category_key": f"category.{wish.category}",
                "area": wish.area or "—",
                "description": said(wish)[:DESCRIPTION_SHOWN],
            },
            (tuple(Button(f"task.button.claim_{when}", Act.TASK_CLAIM, wish.id, when) for when in CLAIM_CHOICES),),
        )
        await notices.queue_many(
            conn,
            [volunteer.user_id for volunteer in sent.recipients],
            notice,
            now=now,
            lane="urgent",
            dedupe_prefix=f"whistle:{sent.whistle_id}",
            condition=[notices.wish_in(wish.id, WishStatus.OPEN), notices.holds_role(Role.VOLUNTEER)],
        )
        recorded = await whistles.get_whistle(conn, sent.whistle_id)
    env.wake()
    if recorded is None:  # pragma: no cover - written in the same transaction
        raise NotFound(f"whistle {sent.whistle_id}")
    return Whistled(wish, recorded)


async def remember_summary(env: Env, whistle_id: int, message_id: int) -> None:
    """Store the coordinator's summary message (the one edited when someone claims); if the wish was
    claimed while the summary was on its way, queue that edit now."""
    async with env.db.write() as conn:
        found = await whistles.get_whistle(conn, whistle_id)
        if found is None:
            return
        await store.lock_wish(conn, found.wish_id)  # a claim at this moment either sees the id or is seen
        await whistles.set_summary_message(conn, whistle_id, message_id)
        answered = await whistles.get_whistle(conn, whistle_id)
        if answered is None or answered.claimed_at is None or answered.claimed_by is None:
            return
        wish = await store.get_wish(conn, answered.wish_id)
        await _edit_summary(conn, answered, wish, await _name_of(conn, answered.claimed_by), env.now())
    env.wake()


async def answer(conn: AsyncConnection, wish: Wish, *, now: dt.datetime) -> int:
    """The wish was just claimed (in the caller's transaction): close its unanswered whistles, queue the
    edit of each coordinator's summary and a notice to them; how many whistles were answered."""
    if wish.claimed_by is None:
        return 0
    claimed_at = wish.claimed_at or now
    closed = await whistles.mark_claimed(conn, wish.id, claimed_by=wish.claimed_by, now=claimed_at)
    if not closed:
        return 0
    name = await _name_of(conn, wish.claimed_by)
    for answered in closed:
        await _edit_summary(conn, answered, wish, name, now)
        await notices.queue(
            conn,
            answered.coordinator_id,
            Notice("whistle.notice_claimed", {"ref": wish_ref(wish.ref_no), "name": name, **_after(answered)}),
            now=now,
            dedupe_key=f"whistle-claimed:{answered.id}",
        )
    return len(closed)


async def _edit_summary(conn: AsyncConnection, answered: Whistle, wish: Wish, name: str, now: dt.datetime) -> None:
    """Queue the edit of the coordinator's summary to say who took the wish after how long."""
    if answered.summary_message_id is None:
        return  # not stored yet: `remember_summary` queues the edit when it is
    values: dict[str, Value] = {
        "ref": wish_ref(wish.ref_no),
        "category_key": f"category.{wish.category}",
        "count": answered.sent_count,
        "name": name,
        **_after(answered),
    }
    if wish.area:
        values["area"] = wish.area
    else:
        values["area_key"] = "wish.area_unknown"
    await notices.queue(
        conn,
        answered.coordinator_id,
        Notice("whistle.summary_answered", values, replaces=answered.summary_message_id),
        now=now,
        lane="urgent",  # an edit makes no sound: it need not wait for the end of quiet hours
        dedupe_key=f"whistle-summary:{answered.id}",
    )


def _after(answered: Whistle) -> dict[str, Value]:
    """`after` (how long after the whistle it was claimed) as a message key and its number."""
    key, n = elapsed(answered.created_at, answered.claimed_at or answered.created_at)
    return {"after_key": key, "n": n}


async def _name_of(conn: AsyncConnection, person_id: int) -> str:
    """The name a volunteer is shown by to residents and coordinators."""
    try:
        return (await users.get_user(conn, person_id)).display_name
    except NotFound:
        return "—"
