"""The freshness rules every signed callback of a Tencent channel (WeChat's service account, WeCom's application)
must pass once its signature is right: a timestamp at most `FRESH_FOR` from the bot's clock, either way, and a
nonce not seen within that window — so a logged callback URL replays nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# How far a callback's timestamp may be from the bot's clock, and how long its nonce is remembered.
FRESH_FOR = dt.timedelta(seconds=300)
# Nonces remembered at most (far more than a window's worth of real callbacks).
NONCES = 100_000


class Freshness:
    """One callback endpoint's memory of nonces."""

    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        self._now = now
        self._nonces: dict[str, dt.datetime] = {}  # nonce → when it may be forgotten

    def refusal(self, timestamp: str, nonce: str) -> str | None:
        """Why a callback with this timestamp and nonce is not fresh (None: it is; its nonce is now remembered).
        Check the signature first: a forged request must not spend a real nonce."""
        now = self._now()
        try:
            sent = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
        except (ValueError, OverflowError, OSError):
            return "invalid timestamp"
        if abs(now - sent) > FRESH_FOR:
            return "stale timestamp"
        if not nonce or len(nonce) > 64:
            return "invalid nonce"
        if nonce in self._nonces and self._nonces[nonce] > now:
            return "nonce seen before"
        if len(self._nonces) >= NONCES:
            self._nonces = {n: until for n, until in self._nonces.items() if until > now}
        self._nonces[nonce] = now + 2 * FRESH_FOR
        return None
