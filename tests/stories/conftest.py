"""Fixtures the stories share beyond tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import TongxinApp, start_screen


@pytest.fixture
async def web(bot: TongxinApp) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """The command-centre screen's server (and Open311) on a free port, and an HTTP client."""
    screen = await start_screen(bot, 0)
    try:
        async with aiohttp.ClientSession() as session:
            yield f"http://127.0.0.1:{screen.port}", session
    finally:
        await screen.stop()
