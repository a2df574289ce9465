"""The wish step of the sweep: what the system does and says when time passes on wishes.

Everything is derived from the wishes' own timestamps and done by actions: first the changes (claims
released and offered, done wishes confirmed, open ones expired: `actions.lapses`), then the reminders
that fell due (`actions.reminders`), so a reminder never nags about a claim just released. Each is
keyed by the wish and the occurrence, so running the sweep twice, late, or after a restart sends
nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from actions import lapses, reminders

if TYPE_CHECKING:
    from channels.telegram.context import BotData


async def queue_due(services: BotData, now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Change and remind what is due now (reminders: those whose moment came since `since`, when the previous
    sweep looked); returns how many notices were queued."""
    env = services.env
    queued = await lapses.lapse_due(env, now)
    queued += await reminders.remind(env, now, since=since)
    return queued
