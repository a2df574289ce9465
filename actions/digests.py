"""Digests: what each one says, rendered from the database when it is sent, and the /digest switch.

A digest is queued when its occurrence falls due (the scheduler decides when: `scheduler.digests`) but
says what is true when it is delivered: its outbox row carries `live={"kind": "digest.<kind>", …}` and
the content function registered here under that kind builds the notice at send time, so a digest that
waited out the quiet hours carries the figures of the morning. A reader with nothing to say gets no
message: decided when queued (a `skipped` row under the same key, so the decision is not taken again that
day) and again when sent.

Effects, per action:
  queue_digests (the sweep): per reader, one bulk outbox row keyed `digest:<occurrence>:<reader>`, live,
    while the reader still holds the digest's role; or a `skipped` row when there is nothing to say.
  toggle (a volunteer, coordinator or editor sends /digest): their digest off if it was on, on if off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import activities, notices
from actions import hot as hot_actions
from actions.env import Env
from actions.messages import Notice, Value
from rules import cases as case_rules
from rules.hot import places_in_use
from rules.roles import Role
from rules.wishes import Actor, wish_ref
from storage import digests as digest_storage
from storage import outbox
from storage import wishes as wish_storage
from storage.errors import NotAllowed

DAY = dt.timedelta(days=1)
# The editors' digest shows the past week's top topics (ranked by their rise against the four weeks before).
HOT_DAYS = dt.timedelta(days=7)
HOT_TOPICS = 3
# Who may switch their own digest.
READERS = frozenset({Role.VOLUNTEER, Role.COORDINATOR, Role.EDITOR, Role.ADMIN})


class Occurrence(Protocol):
    """One occurrence of a digest, as its content sees it: the local date and when it fell due."""

    @property
    def local_date(self) -> dt.date: ...

    @property
    def due_at(self) -> dt.datetime: ...


@dataclass(frozen=True, slots=True)
class Occasion:
    """An occurrence read back from a queued row."""

    local_date: dt.date
    due_at: dt.datetime


# What a digest says to one reader at one occurrence; None: nothing to say.
Content = Callable[[AsyncConnection, int, Occurrence], Awaitable[Notice | None]]
_CONTENTS: dict[str, Content] = {}


def live_kind(kind: str) -> str:
    """The `live` kind of a digest's outbox rows."""
    return f"digest.{kind}"


def register(kind: str, content: Content) -> Content:
    """Make `content` render the digest `kind` when its rows are sent (and not at all for a reader who
    turned their digest off meanwhile)."""
    _CONTENTS[kind] = content

    @notices.live_renderer(live_kind(kind))
    async def render(conn: AsyncConnection, live: dict[str, Any], recipient_id: int, now: dt.datetime) -> Notice | None:
        if not await digest_storage.wants_digest(conn, recipient_id):
            return None
        occasion = Occasion(dt.date.fromisoformat(live["date"]), dt.datetime.fromisoformat(live["due_at"]))
        return await content(conn, recipient_id, occasion)

    return content


async def queue_digests(
    env: Env,
    *,
    kind: str,
    role: Role,
    occurrence: Occurrence,
    label: str,
    reader_ids: Iterable[int],
    now: dt.datetime,
) -> int:
    """Queue one occurrence's digest to these readers (rendered again when sent); returns how many will
    be sent (readers with nothing to say get a `skipped` row). The kind must be `register`ed."""
    content = _CONTENTS[kind]
    async with env.db.read() as conn:
        decided = [(reader_id, await content(conn, reader_id, occurrence)) for reader_id in reader_ids]
    live = {
        "kind": live_kind(kind),
        "date": occurrence.local_date.isoformat(),
        "due_at": occurrence.due_at.isoformat(),
        "written_at": now.isoformat(),  # the notice was rendered just now: see `scheduler.sender.waited`
    }
    queued = 0
    async with env.db.write() as conn:
        for reader_id, notice in decided:
            key = f"digest:{label}:{reader_id}"
            if notice is None:
                await outbox.enqueue(
                    conn, recipient_id=reader_id, payload={}, lane="bulk", dedupe_key=key, now=now, skipped=True
                )
                continue
            queued += await notices.queue(
                conn,
                reader_id,
                notice,
                now=now,
                lane="bulk",
                dedupe_key=key,
                condition=[notices.holds_role(role.value)],
                live=live,
            )
    if queued:
        env.wake()
    return queued


async def toggle(env: Env, actor: Actor) -> bool:
    """Switch the actor's own digest; returns whether it is on now. `NotAllowed` for residents."""
    if actor.user_id is None or actor.roles.isdisjoint(READERS):
        raise NotAllowed(f"{actor.user_id} reads no digest")
    async with env.db.write() as conn:
        return await digest_storage.toggle_digest(conn, actor.user_id, now=env.clock.now())


# --- What each digest says ------------------------------------------------------------------------------


async def coordinator_content(conn: AsyncConnection, reader_id: int, occurrence: Occurrence) -> Notice | None:
    """New, claimed, done, overdue and pending wishes of the day before the digest, by area."""
    figures = await digest_storage.wish_figures(conn, since=occurrence.due_at - DAY, until=occurrence.due_at)
    held = await activities.centre_figures(conn, occurrence.due_at - DAY, occurrence.due_at)
    if not figures.anything and not held.activities_held:
        return None
    areas = " · ".join(f"{area or '—'} {count}" for area, count in figures.by_area[:8]) or "—"
    return Notice(
        "digest.coord",
        {
            "date": occurrence.local_date.isoformat(),
            "new": figures.new,
            "claimed": figures.claimed,
            "done": figures.done,
            "overdue": figures.overdue,
            "pending": figures.pending,
            "areas": areas,
            "activities_key": "activity.figures",
            **held.values(),
            "rates": await _rates_line(conn, occurrence),
        },
    )


async def _rates_line(conn: AsyncConnection, occurrence: Occurrence) -> str:
    """The 三率 ranking of the departments over the 30 days before the digest (issue 15), "—" without cases."""
    rates = await case_rules.rates_between(conn, occurrence.due_at - 30 * DAY, occurrence.due_at)
    return case_rules.rates_line(rates) or "—"


async def editor_content(conn: AsyncConnection, reader_id: int, occurrence: Occurrence) -> Notice | None:
    """New, accepted and published tips of the day before the digest, and the week's hot topics.

    Hot topics alone are worth a digest only when one is rising; the other top topics ride along.
    """
    due_at = occurrence.due_at
    figures = await digest_storage.tip_figures(conn, since=due_at - DAY, until=due_at)
    topics = await hot_actions.period_topics(
        conn, now=due_at, days=HOT_DAYS.days, limit=HOT_TOPICS, places=places_in_use()
    )
    if not (figures.new or figures.accepted or figures.published or any(topic.rising for topic in topics)):
        return None
    values: dict[str, Value] = {
        "new": figures.new,
        "accepted": figures.accepted,
        "published": figures.published,
        "hot": "\n".join(hot_actions.topic_line(topic) for topic in topics) or "—",
    }
    return Notice("digest.editor", {"date": occurrence.local_date.isoformat(), **values})


async def volunteer_content(conn: AsyncConnection, reader_id: int, occurrence: Occurrence) -> Notice | None:
    """Open wishes matching the volunteer's skills and area (the oldest few by reference), and their hours."""
    open_count, refs = await digest_storage.open_wishes_for_volunteer(conn, reader_id)
    if not open_count:
        return None
    hours, _tasks = await wish_storage.volunteer_hours(conn, reader_id)
    hours += (await wish_storage.activity_hours(conn, reader_id))[0]  # verified on the spot, as on /hours
    return Notice(
        "digest.volunteer",
        {
            "date": occurrence.local_date.isoformat(),
            "open": open_count,
            "tasks": ", ".join(wish_ref(ref) for ref in refs),
            "hours": f"{hours:g}",
        },
    )


register("coord", coordinator_content)
register("editor", editor_content)
register("volunteer", volunteer_content)
