"""The shared pacing policy: replies are served before queued bulk, grants are evenly spaced, a global 429
pauses everyone and slows the rate (which creeps back), a chat's 429 pauses only that chat, chats keep
their pace as a sliding window."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.error import BadRequest, RetryAfter

from channels.telegram.limits import (
    BULK,
    REPLY,
    URGENT,
    ChatPacer,
    SendBudget,
    SharedRateLimiter,
    counts_as_message,
    is_reply,
)
from core.clock import Timer
from simulator.virtual_time import VirtualTimer


async def test_replies_take_the_next_grant_before_waiting_bulk(timer: Timer) -> None:
    budget = SendBudget(per_second=50, headroom=1.0, timer=timer)
    served: list[str] = []

    async def take(name: str, priority: int) -> None:
        await budget.acquire(priority)
        served.append(name)

    bulk = [asyncio.create_task(take(f"bulk{i}", BULK)) for i in range(4)]
    await asyncio.sleep(0)  # the bulk waiters queue first
    urgent = asyncio.create_task(take("urgent", URGENT))
    reply = asyncio.create_task(take("reply", REPLY))
    await asyncio.gather(*bulk, urgent, reply)
    # bulk0 got the first grant at once; then the reply, the urgent notice, the rest of the bulk.
    assert served == ["bulk0", "reply", "urgent", "bulk1", "bulk2", "bulk3"]


@pytest.mark.real_time
@pytest.mark.serial
async def test_grants_are_evenly_spaced_never_a_burst(timer: Timer) -> None:
    """On the event loop's own time, on a machine nothing else uses: the schedule holds against a real loop."""
    budget = SendBudget(per_second=100, headroom=1.0, timer=timer)
    times = []
    for _ in range(21):
        await budget.acquire(BULK)
        await budget.gate()  # as every caller does right before its request
        times.append(timer.monotonic())
    # Never ahead of the even schedule (a grant the loop made late is made up, never more): no window of
    # any length holds more than its share plus one.
    assert all(at - times[0] >= k * 0.01 - 0.0005 for k, at in enumerate(times))
    assert times[-1] - times[0] < 0.4


async def test_grants_on_virtual_time_are_exactly_the_rate_apart(timer: Timer) -> None:
    budget = SendBudget(per_second=100, headroom=1.0, timer=timer)
    times = []
    for _ in range(21):
        await budget.acquire(BULK)
        await budget.gate()
        times.append(timer.monotonic())
    assert [round(at - times[0], 6) for at in times] == [round(k * 0.01, 6) for k in range(21)]


@pytest.mark.real_time
@pytest.mark.serial
async def test_a_pause_holds_every_priority(timer: Timer) -> None:
    budget = SendBudget(per_second=1000, timer=timer)
    budget.pause(0.15)
    started = timer.monotonic()
    await budget.acquire(REPLY)
    assert timer.monotonic() - started >= 0.14


async def test_an_isolated_429_only_pauses_repeated_ones_trim_and_quiet_brings_the_rate_back(timer: Timer) -> None:
    budget = SendBudget(per_second=30.0, timer=timer)
    assert budget.rate == 30.0  # the gate, not the rate, keeps the margin for the network
    for _ in range(60):
        budget.note(accepted=True)
    budget.note(accepted=False)
    budget.slow_down()  # the first in a while: network noise
    assert budget.rate == 30.0
    budget.slow_down()  # an echo of the same moment: ignored
    assert budget.rate == 30.0
    budget._last_flood -= 5.0  # another 429 five seconds later: the rate is just over the cap
    budget.slow_down()
    trimmed = budget.rate
    assert 29.0 < trimmed < 30.0
    assert budget.ceiling == trimmed
    # A quiet half minute: the ceiling is probed upwards again, never past the top.
    budget._last_cut -= 31.0
    budget._last_probe -= 31.0
    budget._adapt(timer.monotonic())
    assert trimmed < budget.ceiling <= budget.top


async def test_many_refusals_cut_the_rate_hard_and_it_creeps_back_fast(timer: Timer) -> None:
    budget = SendBudget(per_second=30.0, timer=timer)
    for _ in range(5):
        budget.note(accepted=True)
        budget.note(accepted=False)
    budget.slow_down()
    assert budget.rate < 30 * 0.75
    cut = budget.rate
    budget._last_creep -= 2.0
    budget._adapt(timer.monotonic())
    assert cut * 1.04 < budget.rate <= budget.ceiling


async def test_a_global_pause_holds_requests_granted_before_it_at_the_gate(timer: Timer) -> None:
    budget = SendBudget(per_second=1000, timer=timer)
    await budget.acquire(BULK)  # granted; the outbox sender now writes its row, and meanwhile a 429 comes
    budget.pause(0.15)
    started = timer.monotonic()
    await budget.gate()
    assert timer.monotonic() - started >= 0.15


async def test_only_a_few_grants_wait_for_the_gate_so_a_reply_is_not_queued_behind_bulk(timer: Timer) -> None:
    budget = SendBudget(per_second=1000, timer=timer)
    for _ in range(SendBudget.AHEAD):
        await budget.acquire(BULK)  # granted, none of them through the gate yet
    reply = asyncio.create_task(budget.acquire(REPLY))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not reply.done()
    await budget.gate()  # one bulk request leaves: the reply is granted next
    await asyncio.wait_for(reply, timeout=1)


async def test_a_reply_leaves_the_gate_before_bulk_that_waited_there_first(timer: Timer) -> None:
    budget = SendBudget(per_second=1000, timer=timer)
    left: list[str] = []

    async def through_gate(name: str, priority: int) -> None:
        await budget.gate(priority)
        left.append(name)

    budget.pause(0.05)  # the gate is closed for a moment
    bulk = asyncio.create_task(through_gate("bulk", BULK))
    await asyncio.sleep(0)
    reply = asyncio.create_task(through_gate("reply", REPLY))
    await asyncio.gather(bulk, reply)
    assert left == ["reply", "bulk"]


async def test_cancelled_waiters_do_not_take_grants(timer: Timer) -> None:
    budget = SendBudget(per_second=20, timer=timer)
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


def test_private_chats_get_three_in_any_window_of_three_seconds() -> None:
    timer = VirtualTimer()
    pacer = ChatPacer(timer=timer)
    for _ in range(3):
        assert pacer.ready_in(42) == 0
        pacer.record(42)
    assert abs(pacer.ready_in(42) - 3.1) < 1e-9
    timer.skip(1.0)
    assert abs(pacer.ready_in(42) - 2.1) < 1e-9
    assert pacer.ready_in(-100) == 0  # a group has its own allowance
    timer.skip(2.2)
    assert pacer.ready_in(42) == 0


async def test_a_chat_429_pauses_that_chat_and_a_global_one_everyone(timer: Timer) -> None:
    pacer = ChatPacer(timer=timer)
    budget = SendBudget(per_second=30, timer=timer)
    limiter = SharedRateLimiter(budget, pacer)
    pacer.record(42)
    pacer.record(42)
    assert limiter.on_retry_after(RetryAfter(2), 42) == "chat"
    assert pacer.ready_in(42) > 1.9
    assert pacer.ready_in(43) == 0
    assert budget.rate == 30
    # A chat that had nothing lately cannot have hit its own limit: the bot's.
    assert limiter.on_retry_after(RetryAfter(1), 44) == "global"
    assert budget.rate < 30
    assert pacer.ready_in(44) == 0


async def test_an_edit_refused_with_a_flood_wait_is_tried_again_only_after_it(timer: Timer) -> None:
    """Edits take no turn, but a 429 on one pauses what it concerns, and the edit waits that pause out (it used to
    be tried again at once)."""
    limiter = SharedRateLimiter(timer=timer)
    started = timer.monotonic()
    tried: list[float] = []

    async def telegram() -> bool:
        tried.append(round(timer.monotonic() - started, 3))
        if len(tried) == 1:
            raise RetryAfter(2)
        return True

    edit = {"chat_id": 42, "message_id": 7, "text": "已由 小张 认领"}
    assert await limiter.process_request(telegram, (), {}, "editMessageText", edit, None)
    assert tried == [0.0, 2.1]  # retry_after plus the margin
    # A chat's own pause holds its edits, not another chat's.
    limiter.pacer.pause(43, 5.0)
    before = timer.monotonic()
    await limiter.process_request(telegram, (), {}, "editMessageText", {**edit, "chat_id": 44}, None)
    assert timer.monotonic() == before
    await limiter.process_request(telegram, (), {}, "editMessageText", {**edit, "chat_id": 43}, None)
    assert timer.monotonic() - before == 5.0


def test_only_messages_count() -> None:
    assert counts_as_message("sendMessage")
    assert counts_as_message("sendPhoto")
    assert counts_as_message("copyMessage")
    assert not counts_as_message("sendChatAction")
    assert not counts_as_message("getUpdates")
    assert not counts_as_message("answerCallbackQuery")
    assert not counts_as_message("editMessageText")


def test_replies_are_retried_polling_is_not() -> None:
    assert is_reply("sendMessage")
    assert is_reply("editMessageText")
    assert is_reply("answerCallbackQuery")
    assert not is_reply("getUpdates")
    assert not is_reply("getMe")
    assert not is_reply("setMyCommands")


async def test_a_press_answered_too_late_or_twice_does_not_fail_and_its_alert_goes_to_the_chat(timer: Timer) -> None:
    """The first answer of a press goes to Telegram; a later one is not sent; an answer Telegram refuses as too old
    returns as if sent (the handler goes on) and its alert text is sent to the press's chat as a message."""
    limiter = SharedRateLimiter(timer=timer)
    told: list[tuple[int, str]] = []

    async def tell(chat: int, text: str) -> None:
        told.append((chat, text))

    limiter.taps.tell = tell
    sent: list[dict[str, object]] = []

    async def telegram(data: dict[str, object], *, too_old: bool) -> bool:
        sent.append(data)
        if too_old:
            raise BadRequest("Query is too old and response timeout expired or query ID is invalid")
        return True

    for query_id, chat in (("q1", 501), ("q2", 502)):
        limiter.taps.seen(_press(query_id, chat))
    alert = {"callback_query_id": "q1", "text": "手慢了一步", "show_alert": True}
    assert await limiter.process_request(telegram, (alert,), {"too_old": True}, "answerCallbackQuery", alert, None)
    early = {"callback_query_id": "q2"}
    assert await limiter.process_request(telegram, (early,), {"too_old": False}, "answerCallbackQuery", early, None)
    toast = {"callback_query_id": "q2", "text": "已完成"}
    assert await limiter.process_request(telegram, (toast,), {"too_old": False}, "answerCallbackQuery", toast, None)
    await asyncio.sleep(0)
    assert sent == [alert, early], "the second answer of q2 was not sent"
    assert told == [(501, "手慢了一步")], "the refused alert reached the chat; a toast after an answer is dropped"
    wrong = {"callback_query_id": "q3", "text": "x" * 300}

    async def refused(data: dict[str, object]) -> bool:
        raise BadRequest("MESSAGE_TOO_LONG")

    with pytest.raises(BadRequest):  # any other refusal is the handler's to see
        await limiter.process_request(refused, (wrong,), {}, "answerCallbackQuery", wrong, None)


def _press(query_id: str, chat: int) -> Update:
    user = User(chat, "P", is_bot=False)
    message = Message(1, dt.datetime(2026, 12, 1, tzinfo=dt.UTC), Chat(chat, "private"), from_user=user)
    return Update(1, callback_query=CallbackQuery(query_id, user, "chat", message=message, data="x"))
