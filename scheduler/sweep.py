"""The sweep: once a minute, derive from the database what is due and write it to the outbox.

Nothing depends on in-memory timers (PTB's JobQueue keeps none across restarts): every run looks at
the records and the clock afresh, and every message it writes carries a dedupe key, so running it
twice, late, or after a restart sends nothing twice. Tests call `run_once` directly after moving the
clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from handlers.monitor import queue_hot_alerts
from scheduler import digests, reminders
from storage import outbox

if TYPE_CHECKING:
    from bot.app import TongxinApp
    from bot.context import TongxinContext

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
    # Hands its notices to the notifier (the outbox) itself; once per term and day whenever it is called.
    queued += await queue_hot_alerts(services, now)
    async with services.db.write() as conn:
        await outbox.prune(conn, before=now - KEEP_FINISHED)
    # Also when nothing was queued: quiet hours may have ended or a retry fallen due.
    services.env.wake()
    if queued:
        log.info("sweep queued %d messages", queued)
    return queued


async def sweep_job(context: TongxinContext) -> None:
    """The JobQueue callback."""
    await run_once(context.application)  # type: ignore[arg-type]
