"""Stories under a Telegram that answers 429 often: nothing is lost, nothing is sent twice, and a reply to a
person who is chatting still arrives (the foundation's promise, kept by the shared rate limiter)."""

from __future__ import annotations

import pytest

from actions.messages import Notice
from bot.app import TongxinApp
from simulator import BotApiSimulator, FloodLimits
from storage import outbox
from tests.stories.wishflow import person_id

pytestmark = pytest.mark.provokes_429


@pytest.fixture
def flood_limits() -> FloodLimits:
    """A Telegram far stricter than the real one: 5 messages a second for the whole bot, bursts of 2."""
    return FloodLimits(global_per_second=5.0, global_burst=2)


async def test_a_429_delays_a_reply_but_does_not_lose_it(bot: TongxinApp, sim: BotApiSimulator) -> None:
    people = [sim.person(f"居民{i}") for i in range(8)]
    for person in people:
        await person.send_command("/help")
    for person in people:
        reply = await person.next_message(timeout=20)
        assert "/start" in reply.text
    assert sim.flood_429_count > 0


@pytest.mark.both_databases  # outbox claims under a 429 storm
async def test_a_429_storm_loses_nothing_and_sends_nothing_twice(bot: TongxinApp, sim: BotApiSimulator) -> None:
    people = [sim.person(f"志愿者{i}") for i in range(8)]
    for person in people:
        await person.send_command("/start")
    for person in people:
        await person.next_message(timeout=20)
    notifier = bot.bot_data.notifier
    for person in people:
        recipient = await person_id(bot.bot_data.db, person)
        for lane in ("bulk", "normal", "urgent"):
            await notifier.notify(recipient, Notice("digest.now_on"), lane=lane, dedupe_key=f"storm:{lane}:{recipient}")  # type: ignore[arg-type]
    # Someone keeps chatting through the storm.
    chatter = people[0]
    await chatter.send_command("/help")
    await chatter.wait_for_text("/start", timeout=30)
    await sim.wait_until(lambda: all(len(p.messages) >= 4 + (p is chatter) for p in people), timeout=60)
    await sim.settle()
    for person in people:
        digests = [m for m in person.messages if "摘要已重新开启" in m.text]
        assert len(digests) == 3, person.transcript()
    async with bot.bot_data.db.read() as conn:
        assert await outbox.count_by_status(conn) == {"sent": 24}
    assert sim.flood_429_count > 0
