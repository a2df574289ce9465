"""The shared budget: replies are served before queued bulk, a 429 pauses everyone, chats keep their pace."""

from __future__ import annotations

import asyncio

from channels.telegram.limits import BULK, REPLY, URGENT, ChatPacer, SendBudget, counts_as_message


async def test_replies_take_the_next_token_before_waiting_bulk() -> None:
    budget = SendBudget(per_second=50, burst=1)
    served: list[str] = []

    async def take(name: str, priority: int) -> None:
        await budget.acquire(priority)
        served.append(name)

    bulk = [asyncio.create_task(take(f"bulk{i}", BULK)) for i in range(4)]
    await asyncio.sleep(0)  # the bulk waiters queue first
    urgent = asyncio.create_task(take("urgent", URGENT))
    reply = asyncio.create_task(take("reply", REPLY))
    await asyncio.gather(*bulk, urgent, reply)
    # bulk0 got the one token in the bucket; then the reply, the urgent notice, the rest of the bulk.
    assert served == ["bulk0", "reply", "urgent", "bulk1", "bulk2", "bulk3"]


async def test_budget_keeps_the_rate() -> None:
    budget = SendBudget(per_second=100, burst=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(21):
        await budget.acquire(BULK)
    assert loop.time() - started >= 0.19


async def test_a_pause_holds_every_priority() -> None:
    budget = SendBudget(per_second=1000, burst=5)
    loop = asyncio.get_running_loop()
    budget.pause(0.15)
    started = loop.time()
    await budget.acquire(REPLY)
    assert loop.time() - started >= 0.14


async def test_cancelled_waiters_do_not_take_tokens() -> None:
    budget = SendBudget(per_second=20, burst=1)
    await budget.acquire(BULK)
    waiter = asyncio.create_task(budget.acquire(BULK))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.wait_for(budget.acquire(REPLY), timeout=1)
    assert budget.waiting == 0


async def test_unlimited_budget_never_waits() -> None:
    budget = SendBudget(per_second=None)
    for _ in range(1000):
        await budget.acquire(BULK)


def test_private_chats_get_a_short_burst_then_one_a_second() -> None:
    now = [0.0]
    pacer = ChatPacer(timer=lambda: now[0])
    for _ in range(3):
        assert pacer.ready_in(42) == 0
        pacer._buckets[42].tokens -= 1
    assert pacer.ready_in(42) == 1.0
    now[0] = 0.5
    assert pacer.ready_in(42) == 0.5
    assert pacer.ready_in(-100) == 0  # a group has its own allowance


def test_only_messages_count() -> None:
    assert counts_as_message("sendMessage")
    assert counts_as_message("sendPhoto")
    assert counts_as_message("copyMessage")
    assert not counts_as_message("sendChatAction")
    assert not counts_as_message("getUpdates")
    assert not counts_as_message("answerCallbackQuery")
    assert not counts_as_message("editMessageText")
