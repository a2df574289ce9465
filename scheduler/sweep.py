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
# Texts this old still count for /hot (its longest period, 90 days, against the 90 before); a sweep segments
# at most HOT_BATCH of them, so a large backlog (after the upgrade) is worked off a batch a minute.
HOT_BACKLOG = dt.timedelta(days=180)
HOT_BATCH = 2000
OPTIMIZE_EVERY = dt.timedelta(hours=6)
_optimized: dict[int, dt.datetime] = {}


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
    # New wish and tip texts get their hot-topic terms stored (segmented in a worker thread), a batch a minute.
    await hot.segment_backlog(services.env, now, since=now - HOT_BACKLOG, limit=HOT_BATCH)
    await maybe_optimize(services, now)
    # Also when nothing was queued: quiet hours may have ended or a retry fallen due.
    services.env.wake()
    if queued:
        log.info("sweep queued %d messages", queued)
    return queued


async def maybe_optimize(services: BotData, now: dt.datetime) -> None:
    """ANALYZE / PRAGMA optimize once every `OPTIMIZE_EVERY` (and at the first sweep of a process)."""
    last = _optimized.get(id(services.db))
    if last is not None and abs(now - last) < OPTIMIZE_EVERY:
        return
    _optimized[id(services.db)] = now
    await services.db.optimize()


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
