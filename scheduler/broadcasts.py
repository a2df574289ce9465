"""The broadcast job: every couple of seconds, bring the progress message of every unfinished broadcast
up to date from the outbox (`actions.broadcast.report_progress`).

It keeps nothing between runs: which broadcasts are unfinished, what their author was last shown and
how far each got are all read from the database, so a restarted bot carries on where the last one
stopped. A run with no broadcast going out costs one small query.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from actions import broadcast

if TYPE_CHECKING:
    from channels.telegram.context import TongxinContext

JOB_NAME = "scheduler.broadcast_progress"
# Telegram lets the bot edit one chat's message about once a second; a little slower leaves room for replies.
INTERVAL = dt.timedelta(seconds=2)


async def progress_job(context: TongxinContext) -> None:
    """The JobQueue callback."""
    await broadcast.report_progress(context.env)
