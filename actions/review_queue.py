"""The review queue asked for again: a coordinator who works where decisions are cards (WeCom's 待审) gets the
notices of the oldest wishes and volunteer applications still waiting once more, each of which their channel
renders as a card with 通过 / 退回 (`channels.wecom.transport`); on Telegram the same notice opens /pending.

Effects: one notice per waiting wish and per waiting application (at most `AGAIN_MAX` of each) to the asking
coordinator, in one transaction, each kept while it still waits; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from actions import applications as application_actions
from actions import notices
from actions.env import Env
from actions.wishes import review_notice
from rules.applications import ApplicationStatus
from rules.roles import Role
from rules.wishes import Actor, WishStatus, wish_ref
from storage import applications
from storage import volunteers as profiles
from storage import wishes as store
from storage.errors import NotAllowed

AGAIN_MAX = 5  # cards of each kind sent at once: a member's 30 messages a minute are shared with everything else


@dataclass(frozen=True, slots=True)
class Queue:
    """What waits for review: wishes and applications (how many), and what was sent again (wish references,
    applicants' names)."""

    wishes: int
    applications: int
    sent_again: tuple[str, ...]
    applicants_again: tuple[str, ...] = ()


async def send_again(env: Env, actor: Actor) -> Queue:
    """The oldest waiting wishes' review notices to the coordinator again (`NotAllowed` for anyone else)."""
    if actor.user_id is None or not actor.is_coordinator:
        raise NotAllowed(f"{actor.user_id} may not review wishes")
    now = env.now()
    async with env.db.write() as conn:
        waiting = await store.count_in_status(conn, WishStatus.PENDING_REVIEW)
        applicants = await applications.count_pending(conn, Role.VOLUNTEER.value)
        oldest = await store.wishes_in_status(conn, WishStatus.PENDING_REVIEW, limit=AGAIN_MAX)
        for wish in oldest:
            await notices.queue(
                conn,
                actor.user_id,
                review_notice(wish),
                now=now,
                dedupe_key=f"wish-pending:{wish.id}:again:{actor.user_id}:{int(now.timestamp() * 1000)}",
                condition=[notices.wish_in(wish.id, WishStatus.PENDING_REVIEW)],
            )
        names = []
        for application in await applications.pending(conn, Role.VOLUNTEER.value, limit=AGAIN_MAX):
            profile = await profiles.find_volunteer(conn, application.user_id)
            name = profile.name if profile is not None else "—"
            names.append(name)
            await notices.queue(
                conn,
                actor.user_id,
                application_actions.review_notice(application.id, name),
                now=now,
                dedupe_key=f"volunteer-applied:{application.id}:again:{actor.user_id}:{int(now.timestamp() * 1000)}",
                condition=[notices.application_in(application.id, ApplicationStatus.PENDING)],
            )
    env.wake()
    return Queue(waiting, applicants, tuple(wish_ref(wish.ref_no) for wish in oldest), tuple(names))
