"""Local-time arithmetic of the scheduler: when each digest period falls due (quiet hours: `rules.quiet_hours`).

Plain functions of an aware UTC `now` and the deployment's time zone, so a moved clock in a test
sees exactly what a real morning would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# A digest whose time passed longer ago than this is skipped (a morning digest read at night helps no one),
# so a bot that was down over its time sends it late but never a day late.
DIGEST_CATCH_UP = dt.timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class DigestPeriod:
    """One occurrence of a digest: which one, the local date it belongs to, and when it fell due."""

    kind: str  # coord | editor | volunteer
    local_date: dt.date
    due_at: dt.datetime  # aware UTC

    @property
    def label(self) -> str:
        """The part of the dedupe key naming the occurrence, e.g. `coord:2026-11-27`."""
        return f"{self.kind}:{self.local_date.isoformat()}"


def latest_daily(kind: str, now: dt.datetime, at: dt.time, tz: ZoneInfo) -> DigestPeriod:
    """The most recent daily occurrence at local time `at`, not after `now`."""
    local_now = now.astimezone(tz)
    day = local_now.date()
    due = dt.datetime.combine(day, at, tzinfo=tz)
    if due > local_now:
        day -= dt.timedelta(days=1)
        due = dt.datetime.combine(day, at, tzinfo=tz)
    return DigestPeriod(kind, day, due.astimezone(dt.UTC))


def latest_weekly(kind: str, now: dt.datetime, weekday: int, at: dt.time, tz: ZoneInfo) -> DigestPeriod:
    """The most recent weekly occurrence on `weekday` (Monday = 0) at local time `at`, not after `now`."""
    local_now = now.astimezone(tz)
    day = local_now.date() - dt.timedelta(days=(local_now.weekday() - weekday) % 7)
    due = dt.datetime.combine(day, at, tzinfo=tz)
    if due > local_now:
        day -= dt.timedelta(days=7)
        due = dt.datetime.combine(day, at, tzinfo=tz)
    return DigestPeriod(kind, day, due.astimezone(dt.UTC))


def is_due(period: DigestPeriod, now: dt.datetime) -> bool:
    """Whether the occurrence should be sent now (its time has come and is not too long gone)."""
    return period.due_at <= now < period.due_at + DIGEST_CATCH_UP
