"""The simulator keeps Telegram's rules on getting updates (simulator/server.py, simulator/webhook.py): the newest
poller wins, updates expire (24 h, presses 150 s), and webhook delivery goes one update at a time per chat with
Telegram's retry schedule, 60 s answer timeout and setWebhook semantics. Times are the virtual timer's seconds."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict

from core.clock import Timer
from simulator import BotApiSimulator
from simulator.webhook import LATER_RETRY

from .conftest import TOKEN, SimFactory

PUBLIC = "https://bot.example.org/telegram"


@pytest.fixture
async def vsim(make_sim: SimFactory, timer: Timer) -> BotApiSimulator:
    """A simulator on the test's virtual timer."""
    return await make_sim(timer=timer)


@pytest.fixture
async def vbot(vsim: BotApiSimulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=vsim.api_url, base_file_url=vsim.file_url) as b:
        yield b


@dataclass
class Receiver:
    """The bot's end of the webhook: records each POST (virtual time, secret header, update) and answers `answer`."""

    timer: Timer
    answer: Callable[[dict[str, object]], int] = lambda _u: 200
    hold: float = 0.0  # seconds of the timer before answering
    posts: list[tuple[float, str | None, dict[str, object]]] = field(default_factory=list)
    gate: dict[int, asyncio.Event] = field(default_factory=dict)  # chat id → answer only once set
    port: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.posts.append((self.timer.monotonic(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"), update))
        chat = update.get("message", {}).get("chat", {}).get("id")
        if chat in self.gate:
            await self.gate[chat].wait()
        if self.hold:
            await self.timer.sleep(self.hold)
        return web.Response(status=self.answer(update))

    def texts(self) -> list[str]:
        return [str(u["message"]["text"]) for _, _, u in self.posts if "message" in u]  # type: ignore[index]


@pytest.fixture
async def receiver(vsim: BotApiSimulator, timer: Timer) -> AsyncIterator[Receiver]:
    found = Receiver(timer)
    app = web.Application()
    app.router.add_post("/telegram", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.port = runner.addresses[0][1]
    vsim.webhook_delivery.route(PUBLIC, f"http://127.0.0.1:{found.port}/telegram")
    yield found
    await vsim.stop()
    await runner.cleanup()


async def test_a_newer_get_updates_ends_the_one_in_progress_with_409(bot: Bot, sim: BotApiSimulator) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await sim.wait_until(lambda: sim.polls == 1, what="the first long poll")
    async with Bot(TOKEN, base_url=sim.api_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request; make sure that only one bot"):
        await asyncio.wait_for(first, 3)


async def test_get_updates_while_a_webhook_is_set_is_a_conflict(bot: Bot, sim: BotApiSimulator) -> None:
    assert await bot.set_webhook(PUBLIC)
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active; use deleteWebhook"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_presses_expire_after_150_s_and_messages_after_a_day(
    vbot: Bot, vsim: BotApiSimulator, timer: Timer
) -> None:
    alice = vsim.person("Alice")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    await vbot.send_message(alice.chat_id, "Press", reply_markup=markup)
    await alice.send_text("hello")
    await alice.press("OK")
    assert len(vsim.pending_updates) == 2
    await timer.sleep(149)
    assert len(await vbot.get_updates(timeout=0)) == 2
    await timer.sleep(2)
    updates = await vbot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert all(u.callback_query is None for u in updates)
    await timer.sleep(24 * 3600 - 152)
    assert len(await vbot.get_updates(timeout=0)) == 1
    await timer.sleep(2)
    assert await vbot.get_updates(timeout=0) == ()


async def test_webhook_posts_each_update_with_the_secret_and_drops_it_once_answered(
    vbot: Bot, vsim: BotApiSimulator, receiver: Receiver
) -> None:
    alice = vsim.person("Alice")
    assert await vbot.set_webhook(PUBLIC, secret_token="s3cret_-Token", max_connections=5)
    await alice.send_text("one")
    await alice.send_text("two")
    await vsim.wait_until(lambda: len(receiver.posts) == 2 and not vsim.pending_updates, what="both delivered")
    assert receiver.texts() == ["one", "two"]
    assert {secret for _, secret, _ in receiver.posts} == {"s3cret_-Token"}
    info = await vbot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.max_connections) == (PUBLIC, 0, 5)
    assert info.last_error_date is None


async def test_one_update_at_a_time_per_chat_in_order_other_chats_go_on(
    vbot: Bot, vsim: BotApiSimulator, receiver: Receiver
) -> None:
    alice, bob = vsim.person("Alice"), vsim.person("Bob")
    receiver.gate[alice.chat_id] = asyncio.Event()
    assert await vbot.set_webhook(PUBLIC)
    for n in range(3):
        await alice.send_text(f"a{n}")
        await bob.send_text(f"b{n}")
    await vsim.wait_until(lambda: receiver.texts().count("b2") == 1, what="Bob's three")
    assert receiver.texts() == ["a0", "b0", "b1", "b2"]  # Alice's second waits for her first's answer
    receiver.gate[alice.chat_id].set()
    await vsim.wait_until(lambda: not vsim.pending_updates, what="all delivered")
    texts = receiver.texts()
    assert [t for t in texts if t.startswith("a")] == ["a0", "a1", "a2"]
    assert len(texts) == 6


async def test_a_failed_delivery_is_retried_at_once_then_after_2_4_8_16_32_then_every_60_to_120_s(
    vbot: Bot, vsim: BotApiSimulator, receiver: Receiver, timer: Timer
) -> None:
    alice = vsim.person("Alice")
    receiver.answer = lambda _u: 500 if len(receiver.posts) <= 9 else 200
    assert await vbot.set_webhook(PUBLIC)
    await alice.send_text("hello")
    await vsim.wait_until(lambda: len(receiver.posts) == 10 and not vsim.pending_updates, timeout=20)
    times = [t for t, _, _ in receiver.posts]
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    assert gaps[:6] == [0, 2, 4, 8, 16, 32]
    assert all(LATER_RETRY[0] <= gap <= LATER_RETRY[1] for gap in gaps[6:]), gaps
    assert {u["update_id"] for _, _, u in receiver.posts} == {receiver.posts[0][2]["update_id"]}
    info = await vbot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500"


async def test_telegram_waits_60_s_for_an_answer_then_retries(
    vbot: Bot, vsim: BotApiSimulator, receiver: Receiver, timer: Timer
) -> None:
    alice = vsim.person("Alice")
    receiver.hold = 61
    assert await vbot.set_webhook(PUBLIC)
    await alice.send_text("slow")
    await vsim.wait_until(lambda: len(receiver.posts) >= 2, timeout=10)
    first = vsim.webhook_delivery.deliveries[0]
    assert first.ended is not None
    assert (first.ended - first.started, first.error) == (60, "Read timeout expired")
    assert receiver.posts[1][0] - receiver.posts[0][0] == 60  # retried at once
    info = await vbot.get_webhook_info()
    assert info.last_error_message == "Read timeout expired"
    assert info.pending_update_count == 1


async def _failed_four_times(vbot: Bot, vsim: BotApiSimulator, receiver: Receiver, secret: str) -> float:
    """A message whose delivery failed four times (the next try would come 8 s later); when the fourth came."""
    alice = vsim.person("Alice")
    receiver.answer = lambda _u: 200 if len(receiver.posts) > 4 else 403
    assert await vbot.set_webhook(PUBLIC, secret_token=secret)
    await alice.send_text("hello")
    await vsim.wait_until(lambda: len(receiver.posts) == 4, timeout=10)
    return receiver.posts[-1][0]


async def test_a_changed_secret_restarts_delivery_and_resets_the_back_off(
    vbot: Bot, vsim: BotApiSimulator, receiver: Receiver, timer: Timer
) -> None:
    await _failed_four_times(vbot, vsim, receiver, "old")
    changed_at = timer.monotonic()
    assert await vbot.set_webhook(PUBLIC, secret_token="new")
    await vsim.wait_until(lambda: not vsim.pending_updates, timeout=10)
    last_at, secret, _ = receiver.posts[-1]
    assert (len(receiver.posts), secret, last_at - changed_at) == (5, "new", 0)


async def test_setting_the_same_webhook_again_keeps_the_back_off(
    vbot: Bot, vsim: BotApiSimulator, receiver: Receiver, timer: Timer
) -> None:
    fourth = await _failed_four_times(vbot, vsim, receiver, "same")
    assert await vbot.set_webhook(PUBLIC, secret_token="same")
    await vsim.wait_until(lambda: not vsim.pending_updates, timeout=10)
    assert receiver.posts[-1][0] - fourth == 8


async def test_drop_pending_updates_drops_everything(vbot: Bot, vsim: BotApiSimulator, receiver: Receiver) -> None:
    alice = vsim.person("Alice")
    await alice.send_text("old one")
    await alice.send_text("old two")
    assert (await vbot.get_webhook_info()).pending_update_count == 2
    assert await vbot.set_webhook(PUBLIC, drop_pending_updates=True)
    assert (await vbot.get_webhook_info()).pending_update_count == 0
    await alice.send_text("new")
    await vsim.wait_until(lambda: not vsim.pending_updates)
    assert receiver.texts() == ["new"]


async def test_set_webhook_takes_only_what_telegram_takes(bot: Bot, sim: BotApiSimulator) -> None:
    for url, reason in (
        ("http://bot.example.org/hook", "HTTPS url must be provided"),
        ("https://bot.example.org:8080/hook", "only on ports 80, 88, 443 or 8443"),
    ):
        with pytest.raises(BadRequest, match=f"(?i){reason}"):
            await bot.set_webhook(url)
    with pytest.raises(BadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook(PUBLIC, secret_token="no spaces")
    with pytest.raises(BadRequest, match="max_connections"):
        await bot.set_webhook(PUBLIC, max_connections=101)
    assert await bot.set_webhook("https://bot.example.org:8443/hook")
    assert await bot.set_webhook("")  # an empty URL removes the webhook
    assert (await bot.get_webhook_info()).url == ""
