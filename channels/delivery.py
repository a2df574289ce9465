"""What the outbox sender needs of a channel: a transport that takes a person's turn and delivers a notice,
and the failures it reports in words every channel shares (the sender decides what follows from each).

The Telegram transport is `channels.telegram.transport`; a second channel brings its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from actions.messages import Lane, Notice


class Transport(Protocol):
    """Delivers rendered notices to people over one channel, within its limits.

    The outbox names people by person id; the sender finds each recipient's `address` on this channel (their
    `identities` row for `channel`, e.g. a Telegram user id, which is also their private chat) and a notice's
    stored photo (`Notice.media`) by this channel's reference to it (`media_refs`), and hands the transport those.
    """

    # The channel's name in `identities` and `media_refs` (e.g. "telegram"), and how people call it ("Telegram").
    channel: str
    name: str

    async def take_turn(self, address: str, lane: Lane, *, adds_message: bool = True) -> None:
        """Wait until the channel may carry one more message of this lane to this person's account. For a notice that
        `replaces` an earlier message (`adds_message=False`: an edit adds none) only wait while the channel asked
        the bot to slow down; a channel that sends such a notice anew paces it in `send`."""

    async def send(self, address: str, language: str, notice: Notice, lane: Lane) -> Sent | None:
        """Render and deliver the notice (its turn already taken); one of the errors below if it failed. Returns
        the ids of the messages that now show it, where the channel can take them back (None: it cannot)."""

    async def withdraw(self, address: str, sent: Sent) -> bool:
        """Take back messages `send` delivered (a notice whose subject was erased while it was on the wire);
        False when the channel could not."""


# The channel's ids of the messages one notice became (a text and its map pin, say).
Sent = tuple[int, ...]


class DeliveryError(Exception):
    """A notice was not delivered; `reason` is what the outbox records, `detail` the channel's own words."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason


class SlowDown(DeliveryError):  # noqa: N818 - the names read as what the channel said
    """The channel asked the bot to slow down (it paused itself): try again, not counted as an attempt."""


class Unreachable(DeliveryError):  # noqa: N818
    """The person blocked the bot: mark them unreachable, drop their bulk."""


class Refused(DeliveryError):  # noqa: N818
    """The channel refused this message for good: failed, not retried."""


class Unavailable(DeliveryError):  # noqa: N818
    """A transient failure (server error, timeout): retried with backoff."""


class Held(DeliveryError):  # noqa: N818
    """The channel may not carry this message now (WeChat: outside the person's customer-service window, for a
    lane that waits rather than sending a template notice); try again after `retry_in`, not counted as an attempt.
    A message queued more than `expire_after` ago is given up instead (`dropped`, "expired: …")."""

    def __init__(
        self,
        reason: str,
        detail: str = "",
        *,
        retry_in: dt.timedelta = dt.timedelta(minutes=10),
        expire_after: dt.timedelta | None = None,
    ) -> None:
        super().__init__(reason, detail)
        self.retry_in = retry_in
        self.expire_after = expire_after
