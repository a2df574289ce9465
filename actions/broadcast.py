"""Broadcasts: a coordinator's message to a whole audience, and the progress message that follows it.

Effects:
  send: a `broadcasts` row `sending`; the audit entry `broadcast.send`; one bulk outbox row per person in
    the audience, written by ONE `INSERT … SELECT` keyed `broadcast:<id>:<person>` (people who blocked the
    bot are recorded `dropped` at once); the broadcast's total; and the first edit of the author's progress
    message ("0/total", urgent: an edit makes no sound) when the channel named one. All in one transaction:
    a crash leaves either the whole broadcast queued or nothing.
  report_progress (the scheduler, every few seconds, and after every restart): for each broadcast still
    going out, the tally counted from its outbox rows; when it changed, an edit of the progress message
    (written under the condition that it is still the latest tally shown, so an older edit that is retried
    late is superseded instead of overwriting a newer one) and the tally recorded as shown; when no row of
    the broadcast is pending or on the wire any more, the final totals and `finished_at`, and the final
    edit (or, when the progress message is unknown, a new message with the totals). Nothing about a
    broadcast's progress lives in memory: a restarted bot carries on from the database.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.env import Env
from actions.messages import Notice, Value, notice_to_payload
from rules.broadcasts import check_message
from rules.staff import may
from rules.wishes import Actor, InvalidInput
from storage import audit, broadcasts
from storage.errors import NotAllowed

AUDIENCES = broadcasts.AUDIENCES


@dataclass(frozen=True, slots=True)
class Draft:
    """What a coordinator is about to send: the audience and the text, with a photo or not."""

    audience: str
    text: str = ""
    photo: str | None = None  # a stored file reference of the channel it came from

    def to_json(self) -> dict[str, str | None]:
        """The draft as JSON (kept with the conversation: `conversations/broadcast.py`)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> Draft | None:
        """The draft back from `to_json`; None for anything else (an old or damaged conversation)."""
        try:
            # A string: a draft persisted as a JSON string before the conversation was on the layer.
            fields = json.loads(data) if isinstance(data, str) else data
            if not isinstance(fields, dict):
                return None
            photo = fields.get("photo")
            draft = cls(
                str(fields["audience"]), str(fields.get("text") or ""), photo if isinstance(photo, str) else None
            )
        except (KeyError, TypeError, ValueError):
            return None
        return draft if draft.audience in broadcasts.AUDIENCES else None


@dataclass(frozen=True, slots=True)
class Sent:
    """A confirmed broadcast: its id and how many people it was queued for."""

    broadcast_id: int
    total: int


def _check(actor: Actor) -> int:
    """The acting person's id, when they may broadcast; NotAllowed otherwise."""
    if actor.user_id is None or not may(actor.roles, "broadcast"):
        raise NotAllowed("broadcast")
    return actor.user_id


async def audience_size(env: Env, actor: Actor, audience: str) -> int:
    """How many people `audience` holds now (shown in the preview)."""
    _check(actor)
    if audience not in broadcasts.AUDIENCES:
        raise InvalidInput("unknown_audience")
    async with env.db.read() as conn:
        return await broadcasts.audience_size(conn, audience, admin_ids=env.settings.admin_ids)


async def send(env: Env, actor: Actor, draft: Draft, *, progress_message_id: int | None = None) -> Sent:
    """Queue a confirmed broadcast for its whole audience (see the module docstring for every effect).

    `progress_message_id`: the channel's id of the author's message to turn into the progress message.
    """
    author = _check(actor)
    if draft.audience not in broadcasts.AUDIENCES:
        raise InvalidInput("unknown_audience")
    check_message(draft.text, photo=bool(draft.photo))
    now = env.now()
    async with env.db.write() as conn:
        broadcast_id = await broadcasts.create_broadcast(
            conn,
            created_by=author,
            audience=draft.audience,
            text=draft.text,
            photo_file_id=draft.photo,
            total=0,
            now=now,
        )
        # The photo by its media id: each channel's sender shows its own reference to it.
        photo = await broadcasts.photo_of(conn, broadcast_id)
        payload = notice_to_payload(Notice("broadcast.message", {"text": draft.text}, media=photo))
        total = await broadcasts.queue_recipients(
            conn, broadcast_id, audience=draft.audience, admin_ids=env.settings.admin_ids, payload=payload, now=now
        )
        await audit.record(
            conn,
            actor_id=author,
            action="broadcast.send",
            subject=f"broadcast:{broadcast_id}",
            now=now,
            detail=f"{draft.audience}: {total}",
        )
        if progress_message_id is not None:
            await broadcasts.set_progress_message(conn, broadcast_id, progress_message_id)
            await _queue_progress(
                env, conn, broadcasts.Tally(total, 0, 0, in_flight=total), broadcast_id, author, progress_message_id
            )
    env.wake()
    return Sent(broadcast_id, total)


def shows(broadcast_id: int, tally: broadcasts.Tally) -> notices.Check:
    """The condition of a progress edit: this is still the latest tally recorded as shown."""
    return {"broadcast": broadcast_id, "shows": [tally.delivered, tally.unreachable]}


async def _queue_progress(
    env: Env, conn: AsyncConnection, tally: broadcasts.Tally, broadcast_id: int, author: int, message_id: int
) -> None:
    await notices.queue(
        conn,
        author,
        Notice("broadcast.progress", {"sent": tally.settled, "total": tally.total}, replaces=message_id),
        now=env.now(),
        lane="urgent",
        dedupe_key=f"broadcast-progress:{broadcast_id}:{tally.delivered}:{tally.unreachable}",
        condition=[shows(broadcast_id, tally)],
    )


async def report_progress(env: Env) -> int:
    """Bring every unfinished broadcast's progress message up to date, finishing those that are settled;
    returns how many notices were queued."""
    async with env.db.read() as conn:
        going = await broadcasts.unfinished(conn)
    queued = 0
    for broadcast in going:
        queued += await _report(env, broadcast)
    if queued:
        env.wake()
    return queued


async def _report(env: Env, broadcast: broadcasts.Broadcast) -> int:
    """One broadcast's step: show a changed tally, or write the final one; how many notices were queued.

    The tally is counted in a read (it scans the broadcast's outbox rows; a write would hold SQLite's lock
    meanwhile). That is safe: a settled row never becomes unsettled, and both writes below are
    compare-and-set on the broadcast still being unfinished.
    """
    async with env.db.read() as conn:
        tally = await broadcasts.tally(conn, broadcast.id)
    if tally.finished:
        return await _finish(env, broadcast, tally)
    shown = (broadcast.shown_delivered, broadcast.shown_unreachable)
    if broadcast.progress_message_id is None or (tally.delivered, tally.unreachable) == shown:
        return 0
    async with env.db.write() as conn:
        if not await broadcasts.record_shown(conn, broadcast.id, tally):
            return 0
        await _queue_progress(env, conn, tally, broadcast.id, broadcast.created_by, broadcast.progress_message_id)
    return 1


async def _finish(env: Env, broadcast: broadcasts.Broadcast, tally: broadcasts.Tally) -> int:
    """Write the final totals and tell the author (editing the progress message when there is one)."""
    values: dict[str, Value] = {"delivered": tally.delivered, "unreachable": tally.unreachable, "total": tally.total}
    key = "broadcast.done"
    if tally.uncertain:
        key = "broadcast.done_uncertain"
        values |= {"unreachable": tally.unreachable - tally.uncertain, "uncertain": tally.uncertain}
    replaces = broadcast.progress_message_id
    async with env.db.write() as conn:
        if not await broadcasts.finish(conn, broadcast.id, tally, now=env.now()):
            return 0
        await notices.queue(
            conn,
            broadcast.created_by,
            Notice(key, values, replaces=replaces),
            now=env.now(),
            # An edit makes no sound and is harmless to repeat; a new message waits for the day.
            lane="urgent" if replaces is not None else "normal",
            dedupe_key=f"broadcast-done:{broadcast.id}",
        )
    return 1
