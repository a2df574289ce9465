"""One lock per key (a chat, a WeChat follower): what arrives for one key is handled one at a time, in the order it
arrived; different keys run concurrently. A key's lock is forgotten once nobody holds it or waits for it, so memory
does not grow with every chat ever seen.

Counting holders and waiters is what makes forgetting safe: right after a release has woken the next waiter, the
lock is not `locked()` although that waiter is about to take it. A lock forgotten then would give the next arrival a
fresh one, and two of the key's messages would run at once and out of order (outside testing found exactly that in
the WeChat callback server: up to six of one follower's messages in flight, and a sixth /link guess)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class KeyedLocks(Generic[K]):
    """`async with locks.turn(key):` waits for the key's earlier holders (first come, first served)."""

    def __init__(self) -> None:
        self._locks: dict[K, asyncio.Lock] = {}
        self._users: dict[K, int] = {}

    def busy(self, key: K) -> bool:
        """Whether something of the key is being handled or waiting."""
        return self._users.get(key, 0) > 0

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def turn(self, key: K) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]
