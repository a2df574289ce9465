"""Fixtures for the Bot API simulator's own tests: a running simulator and a PTB Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telegram import Bot

from simulator import BotApiSimulator, FloodLimits

TOKEN = "123456:TEST-TOKEN"

SimFactory = Callable[..., Awaitable[BotApiSimulator]]


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta ``retry_after``: reading the int form warns, and warnings are errors here."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    """Start simulators with custom settings; all are stopped at teardown."""
    started: list[BotApiSimulator] = []

    async def factory(**kwargs: object) -> BotApiSimulator:
        sim = BotApiSimulator(token=TOKEN, bot_username="tongxin_bot", **kwargs)  # type: ignore[arg-type]
        await sim.start(host="127.0.0.1", port=0)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        await sim.stop()


@pytest.fixture
async def sim(make_sim: SimFactory) -> BotApiSimulator:
    """A simulator with the default (enabled) flood limits."""
    return await make_sim(flood_limits=FloodLimits())


@pytest.fixture
async def bot(sim: BotApiSimulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=sim.api_url, base_file_url=sim.file_url) as b:
        yield b
