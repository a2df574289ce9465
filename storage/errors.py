"""Typed errors raised by storage and the rules, so callers never have to interpret a bare `None`."""

from __future__ import annotations

import datetime as dt


class StorageError(Exception):
    """Base class of every error the storage layer raises on purpose."""


class NotFound(StorageError):  # noqa: N818 - the name reads as the domain fact
    """The row asked for does not exist."""


class Conflict(StorageError):  # noqa: N818
    """The row exists but its current state does not allow the change (a stale or repeated action)."""

    def __init__(self, message: str = "", *, current: str | None = None) -> None:
        super().__init__(message or f"conflict (current state: {current})")
        self.current = current


class AlreadyClaimed(Conflict):
    """Someone else claimed the wish first."""


class ClaimedByYou(AlreadyClaimed):
    """The wish is already claimed, by the very volunteer pressing Claim (a double tap, or an older card)."""


class Held(Conflict):
    """The wish is reserved for the volunteers it was offered to until `until` (a time-limited hold)."""

    def __init__(self, message: str = "", *, current: str | None = None, until: dt.datetime) -> None:
        super().__init__(message or f"held until {until.isoformat()}", current=current)
        self.until = until


class LimitReached(StorageError):  # noqa: N818
    """A per-person quota (submissions per day, invite uses) is used up."""


class NotAllowed(StorageError):  # noqa: N818
    """The person may not do this to this record (e.g. finishing a task someone else claimed)."""
