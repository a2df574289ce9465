"""Many people at once: each is answered, each chat in order (the 429 story is in test_scheduler_flood.py)."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from simulator import BotApiSimulator

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases


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
