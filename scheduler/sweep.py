"""The sweep: once a minute, derive from the database what is due and have the actions write it.

Nothing depends on in-memory timers (PTB's JobQueue keeps none across restarts): every run looks at
the records and the clock afresh, and every message it writes carries a dedupe key, so running it
twice, late, or after a restart sends nothing twice. Tests call `run_once` directly after moving the
clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from actions import activities, cases, events, hot, privacy
from scheduler import digests, reminders
from scheduler.calendar import is_due, latest_daily
from storage import inbox, outbox

if TYPE_CHECKING:
    from channels.telegram.context import BotData, TongxinApp, TongxinContext

log = logging.getLogger(__name__)

JOB_NAME = "scheduler.sweep"
INTERVAL = dt.timedelta(minutes=1)
# Finished outbox rows are kept this long (dedupe keys of older occurrences cannot come up again).
KEEP_FINISHED = dt.timedelta(days=30)
# Texts this old still count for /hot (its longest period, 90 days, against its baseline: the 4 × 90 before);
# a sweep segments at most HOT_BATCH of them, so a large backlog (after the upgrade) is worked off a batch a minute.
HOT_BACKLOG = dt.timedelta(days=450)
HOT_BATCH = 2000
# Under this name `services.swept` holds the occurrence whose hot-topic alert was decided.
HOT_ALERT_ASKED = "hot_alert:asked"


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the sweep does: `run(services, now, last)` returns how many messages it queued (`last`: when
    it ran before in this process, None the first time); it runs at most once every `every` (and at the
    first sweep of a process)."""

    name: str
    run: Callable[[BotData, dt.datetime, dt.datetime | None], Awaitable[int]]
    every: dt.timedelta = INTERVAL


async def _prune(services: BotData, now: dt.datetime, last: dt.datetime | None = None) -> int:
    async with services.db.write() as conn:
        await outbox.prune(conn, before=now - KEEP_FINISHED)
        await inbox.prune_handled(conn, before=now - inbox.KEEP_HANDLED)
    return 0


async def _segment(services: BotData, now: dt.datetime, last: dt.datetime | None = None) -> int:
    # New wish and tip texts get their hot-topic terms stored (segmented in a worker thread), a batch a minute.
    await hot.segment_backlog(services.env, now, since=now - HOT_BACKLOG, limit=HOT_BATCH)
    return 0


async def _optimize(services: BotData, now: dt.datetime, last: dt.datetime | None = None) -> int:
    # ANALYZE / PRAGMA optimize, so growing tables keep their indexed plans.
    await services.db.optimize()
    return 0


async def _forget(services: BotData, now: dt.datetime, last: dt.datetime | None = None) -> int:
    await privacy.forget_stale(services.env, now)
    return 0


async def queue_hot_alert(services: BotData, now: dt.datetime, last: dt.datetime | None = None) -> int:
    """Once a day, at the editors' digest time, alert staff to a spiking term. The day's question is asked at
    the first sweep of its window in each process (counting the terms of two weeks is no job for every
    minute); the action keeps it to one alert a day, so a restart in the window sends nothing twice."""
    settings = services.settings
    period = latest_daily("hot", now, settings.editor_digest_time, settings.tz)
    if not is_due(period, now) or services.swept.get(HOT_ALERT_ASKED) == period.due_at:
        return 0
    services.swept[HOT_ALERT_ASKED] = period.due_at
    return await hot.alert_spike(services.env, period.local_date.isoformat(), now)


STEPS: tuple[Step, ...] = (
    Step("digests", lambda services, now, _: digests.queue_due(services, now)),
    Step("wishes", reminders.queue_due),
    Step("hot_alert", queue_hot_alert),
    Step("activities", lambda services, now, _: activities.remind(services.env, now)),
    Step("cases", lambda services, now, _: cases.escalate_due(services.env, now)),
    Step("events", lambda services, now, _: events.check_clocks(services.env, now)),
    Step("hot_segment", _segment),
    # What need not happen every minute: finished outbox rows a month old, handled update ids 25 hours old
    # (storage.inbox.KEEP_HANDLED), the planner's statistics.
    Step("outbox_prune", _prune, every=dt.timedelta(hours=1)),
    Step("optimize", _optimize, every=dt.timedelta(hours=6)),
    # Handled WeChat callbacks and photos of abandoned drafts a week old, closed WeChat reply windows
    # (storage.privacy.forget_stale).
    Step("forget", _forget, every=dt.timedelta(hours=1)),
)
# How long each step of the latest sweep took, in seconds (logged at debug level; the benchmark prints it).
TIMINGS: dict[str, float] = {}


async def run_once(application: TongxinApp, steps: tuple[Step, ...] = STEPS) -> int:
    """One sweep at the clock's now; returns how many messages it queued."""
    services = application.bot_data
    now = services.clock.now()
    queued = 0
    TIMINGS.clear()
    for step in steps:
        # The slower steps run at the first sweep of a process, then on their own schedule (a step run
        # late, early or twice is harmless: each writes under dedupe keys or changes nothing twice).
        last = services.swept.get(step.name)
        if step.every > INTERVAL and last is not None and abs(now - last) < step.every:
            continue
        started = time.perf_counter()
        queued += await step.run(services, now, last)
        services.swept[step.name] = now  # only once it succeeded: a failed step looks again from `last`
        TIMINGS[step.name] = time.perf_counter() - started
    # Also when nothing was queued: quiet hours may have ended or a retry fallen due.
    services.env.wake()
    log.debug("sweep steps (ms): %s", {name: round(1000 * seconds, 1) for name, seconds in TIMINGS.items()})
    if queued:
        log.info("sweep queued %d messages", queued)
    return queued


async def sweep_job(context: TongxinContext) -> None:
    """The JobQueue callback."""
    await run_once(context.application)  # type: ignore[arg-type]
