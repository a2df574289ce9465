"""Telegram's flood limits do not lose replies: a 429 is waited out and the reply still arrives."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator


async def test_a_429_does_not_lose_the_reply(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    # Six commands at once: more than the private chat's burst, so Telegram answers 429 to some replies.
    for _ in range(6):
        await alice.send_command("/help")
    await alice.wait_for(lambda: len(alice.messages) == 6, timeout=20)
    assert sim.flood_429_count > 0
    assert all(message.text.startswith("您可以使用这些命令") for message in alice.messages)


async def test_people_are_answered_concurrently_and_each_in_order(bot: TongxinApp, sim: BotApiSimulator) -> None:
    people = [sim.person(f"居民{i}") for i in range(10)]
    for person in people:
        await person.send_command("/help")
        await person.send_command("/cancel")
    for person in people:
        await person.wait_for(lambda p=person: len(p.messages) == 2, timeout=20)  # type: ignore[misc]
        first, second = person.messages
        assert first.text.startswith("您可以使用这些命令")
        assert "没有进行中的操作" in second.text
