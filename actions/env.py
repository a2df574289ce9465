"""What every action needs from the running bot: the database, the clock, the settings, and a way to
wake the sender once the notices an action wrote are committed."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.clock import Clock
    from core.settings import Settings
    from storage.db import Database


@dataclass
class Env:
    """The services of one bot process, as actions see them (no chat channel in sight)."""

    db: Database
    clock: Clock
    settings: Settings
    # Set after a transaction that queued notices commits, so the sender looks at once.
    queued: asyncio.Event = field(default_factory=asyncio.Event)

    def now(self) -> dt.datetime:
        """The current time, aware UTC."""
        return self.clock.now()

    def wake(self) -> None:
        """Tell the sender there is something new in the outbox."""
        self.queued.set()
