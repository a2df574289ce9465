"""Digests: at their local time, each reader gets one summary in their language, or nothing if there is nothing to say.

Which occurrence is due comes from the clock (`scheduler.calendar`); what a digest says is the action
core's (`actions.digests`, rendered again when the row is sent). Each reader's digest of one occurrence
is written to the outbox under `digest:<occurrence>:<user id>`, so however often the sweep runs, and
after any restart, a digest fires once; a reader with nothing to say gets a `skipped` row under the
same key, so the decision is not taken again that day. Once every reader of an occurrence has their row, the
occurrence itself is written down with the time (`digest_runs`), and the sweeps of the rest of its six-hour
catch-up window read only who became a reader since (granted the role, or their digest turned on: two index
ranges) instead of every reader and their keys, so a sweep costs about the same inside a digest window as outside
it, and a volunteer approved at 10:00 on a Monday still gets that Monday's digest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from actions.digests import queue_digests
from rules.roles import Role
from scheduler.calendar import DigestPeriod, is_due, latest_daily, latest_weekly
from storage import digests as digest_storage
from storage import outbox

if TYPE_CHECKING:
    from channels.telegram.context import BotData
    from core.settings import Settings

MONDAY = 0
# Readers whose digests are decided and written in one go; small enough that replies never wait long
# for the database while a 10,000-person digest is being written.
CHUNK = 200


@dataclass(frozen=True, slots=True)
class Digest:
    """One kind of digest: who reads it and when it falls due (what it says: `actions.digests.register`)."""

    kind: str
    role: Role
    occurrence: Callable[[Settings, dt.datetime], DigestPeriod]
    admins_read: bool = True  # admins hold every staff role, so they read staff digests too


DIGESTS: tuple[Digest, ...] = (
    Digest(
        "coord",
        Role.COORDINATOR,
        lambda settings, now: latest_daily("coord", now, settings.coordinator_digest_time, settings.tz),
    ),
    Digest(
        "editor",
        Role.EDITOR,
        lambda settings, now: latest_daily("editor", now, settings.editor_digest_time, settings.tz),
    ),
    Digest(
        "volunteer",
        Role.VOLUNTEER,
        lambda settings, now: latest_weekly("volunteer", now, MONDAY, settings.volunteer_digest_time, settings.tz),
        admins_read=False,
    ),
)


def _changed_since(since: dt.datetime, granted: dt.datetime | None, toggled: dt.datetime | None) -> bool:
    return any(moment is not None and moment >= since for moment in (granted, toggled))


async def queue_due(services: BotData, now: dt.datetime, digests: Sequence[Digest] = DIGESTS) -> int:
    """Write every digest that is due now and not yet written; returns how many will be sent."""
    settings = services.settings
    due = [(digest, period) for digest in digests if is_due(period := digest.occurrence(settings, now), now)]
    if not due:
        return 0
    todo: list[tuple[Digest, DigestPeriod, dt.datetime | None, list[int]]] = []
    async with services.db.read() as conn:  # one read for every digest due
        decided = await digest_storage.decided(conn, [period.label for _, period in due])
        granted: dict[str, dt.datetime] = {}
        toggled: dt.datetime | None = None
        if decided:
            granted, toggled = await digest_storage.latest_changes(conn, {digest.role.value for digest, _ in due})
        for digest, period in due:
            # Decided for everyone by an earlier sweep: only who became a reader since (two index ranges), not
            # every reader again, and nobody at all when no role was granted and no digest turned on since.
            since = decided.get(period.label)
            if since is not None and not _changed_since(since, granted.get(digest.role.value), toggled):
                continue
            prefix = f"digest:{period.label}:"
            readers = await digest_storage.readers(
                conn,
                digest.role.value,
                also=settings.admin_ids if digest.admins_read else (),
                changed_since=since,
            )
            # Just these readers' keys (an indexed lookup), not every key of the occurrence.
            written = await outbox.keys_written(conn, [f"{prefix}{reader.id}" for reader in readers])
            fresh = [reader.id for reader in readers if f"{prefix}{reader.id}" not in written]
            todo.append((digest, period, since, fresh))
    queued = 0
    for digest, period, since, reader_ids in todo:
        for start in range(0, len(reader_ids), CHUNK):
            queued += await queue_digests(
                services.env,
                kind=digest.kind,
                role=digest.role,
                occurrence=period,
                label=period.label,
                reader_ids=reader_ids[start : start + CHUNK],
                now=now,
            )
        if since is None or reader_ids:  # nothing new: no write (the readers since then all have their rows)
            async with services.db.write() as conn:
                await digest_storage.mark_decided(conn, period.label, now=now)
    return queued
