"""One key's work runs one at a time and in arrival order, also for arrivals that come while a released lock is
handing over to its next waiter (the moment the WeChat server forgot its lock in, letting a follower's messages run
at once and out of order); a key's lock is forgotten when nobody holds or waits for it."""

from __future__ import annotations

import asyncio

from core.keyed_locks import KeyedLocks


async def test_arrivals_during_a_handover_wait_their_turn_in_order() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    inside: list[int] = []
    overlaps = 0
    order: list[int] = []

    async def job(n: int) -> None:
        nonlocal overlaps
        async with locks.turn("follower"):
            overlaps += bool(inside)
            inside.append(n)
            order.append(n)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            inside.remove(n)

    tasks = []
    for n in range(40):  # one arrives every loop iteration: many arrive just after a release woke the next waiter
        tasks.append(asyncio.create_task(job(n)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert overlaps == 0
    assert order == list(range(40))
    assert len(locks) == 0
    assert not locks.busy("follower")


async def test_different_keys_do_not_wait_for_each_other() -> None:
    locks: KeyedLocks[int] = KeyedLocks()
    entered = asyncio.Event()

    async def holder() -> None:
        async with locks.turn(1):
            entered.set()
            await asyncio.sleep(3600)

    held = asyncio.create_task(holder())
    await entered.wait()
    async with asyncio.timeout(1):
        async with locks.turn(2):
            assert locks.busy(1)
    held.cancel()
    await asyncio.gather(held, return_exceptions=True)
    assert len(locks) == 0
