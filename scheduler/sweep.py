"""The sweep: once a minute, derive from the database what is due and have the actions write it.

Nothing depends on in-memory timers (PTB's JobQueue keeps none across restarts): every run looks at
the records and the clock afresh, and every message it writes carries a dedupe key, so running it
twice, late, or after a restart sends nothing twice. Tests call `run_once` directly after moving the
clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from actions import activities, cases, hot
from scheduler import digests, reminders
from scheduler.calendar import is_due, latest_daily
from storage import outbox

if TYPE_CHECKING:
    from bot.app import TongxinApp
    from bot.context import BotData, TongxinContext

log = logging.getLogger(__name__)

JOB_NAME = "scheduler.sweep"
INTERVAL = dt.timedelta(minutes=1)
# Finished outbox rows are kept this long (dedupe keys of older occurrences cannot come up again).
KEEP_FINISHED = dt.timedelta(days=30)


async def run_once(application: TongxinApp) -> int:
    """One sweep at the clock's now; returns how many messages it queued."""
    services = application.bot_data
    now = services.clock.now()
    queued = await digests.queue_due(services, now)
    queued += await reminders.queue_due(services, now)
    queued += await queue_hot_alert(services, now)
    queued += await activities.remind(services.env, now)
    queued += await cases.escalate_due(services.env, now)
    async with services.db.write() as conn:
        await outbox.prune(conn, before=now - KEEP_FINISHED)
    # Also when nothing was queued: quiet hours may have ended or a retry fallen due.
    services.env.wake()
    if queued:
        log.info("sweep queued %d messages", queued)
    return queued


async def queue_hot_alert(services: BotData, now: dt.datetime) -> int:
    """Once a day, at the editors' digest time, alert staff to a spiking term (the action keeps it to one
    alert per term and day, so every sweep of the morning may ask)."""
    settings = services.settings
    period = latest_daily("hot", now, settings.editor_digest_time, settings.tz)
    if not is_due(period, now):
        return 0
    return await hot.alert_spike(services.env, period.local_date.isoformat(), now)


async def sweep_job(context: TongxinContext) -> None:
    """The JobQueue callback."""
    await run_once(context.application)  # type: ignore[arg-type]
