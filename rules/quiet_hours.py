"""Quiet hours: when non-urgent messages wait for the morning.

Plain functions of an aware UTC moment and the deployment's quiet hours and time zone, shared by the
sender (which lanes may go out now) and the actions that choose a lane or a deadline by them (the
offers after an auto-release, and how long the wish is held for those offered).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def in_quiet_hours(now: dt.datetime, start: dt.time, end: dt.time, tz: ZoneInfo) -> bool:
    """Whether `now` falls in the quiet hours (which may run over midnight, e.g. 22:00–08:00)."""
    if start == end:
        return False
    local = now.astimezone(tz).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def heard_from(now: dt.datetime, start: dt.time, end: dt.time, tz: ZoneInfo) -> dt.datetime:
    """When a non-urgent message written at `now` reaches people: now, or in quiet hours their end."""
    if not in_quiet_hours(now, start, end, tz):
        return now
    local = now.astimezone(tz)
    morning = dt.datetime.combine(local.date(), end, tzinfo=tz)
    if morning <= local:
        morning += dt.timedelta(days=1)
    return morning.astimezone(dt.UTC)
