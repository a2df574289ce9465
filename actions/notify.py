"""Queueing a notice from a handler that has no action of its own yet.

Actions write their notices inside their own transaction (`actions.notices.queue`); this notifier is the
same thing in a transaction of its own, for the few places that only tell someone something (no state
changes with it). Notices are channel-neutral (`actions.messages.Notice`); the sender renders them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from actions import notices
from actions.env import Env
from actions.messages import Lane, Notice

__all__ = ["Notice", "Notifier", "OutboxNotifier"]


class Notifier(Protocol):
    """Delivers notices through the outbox."""

    async def notify(
        self,
        user_id: int,
        notice: Notice,
        *,
        lane: Lane = "normal",
        dedupe_key: str | None = None,
        condition: Iterable[notices.Check] = (),
    ) -> None: ...


class OutboxNotifier:
    """Queues one notice in a transaction of its own and wakes the sender."""

    def __init__(self, env: Env) -> None:
        self._env = env

    async def notify(
        self,
        user_id: int,
        notice: Notice,
        *,
        lane: Lane = "normal",
        dedupe_key: str | None = None,
        condition: Iterable[notices.Check] = (),
    ) -> None:
        async with self._env.db.write() as conn:
            queued = await notices.queue(
                conn,
                user_id,
                notice,
                now=self._env.now(),
                lane=lane,
                dedupe_key=dedupe_key,
                condition=condition,
            )
        if queued:
            self._env.wake()
