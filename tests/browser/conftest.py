"""Fixtures of the browser tests: the demo started in-process on free ports, and Debian's Chromium driven by
Playwright (never a browser Playwright downloads).

Without /usr/bin/chromium the tests are skipped with a message saying what to install, except in CI
(`CI` set), where a missing browser is a failure: the browser story must run there.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.demo import Demo, demo_running

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
MISSING = "the browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install chromium"


@pytest.fixture
def chromium() -> Path:
    """The Chromium binary, or skip (fail in CI) when it is not installed."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "the browser tests need Playwright for Python: pip install -e '.[dev]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    return CHROMIUM


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    """A freshly seeded demo on free ports; afterwards, no request the bot made may have been refused."""
    async with demo_running(port=0, data_dir=tmp_path / "demo-data", fresh=True) as running_demo:
        yield running_demo
    refused = running_demo.sim.invalid_requests
    assert refused == [], f"the bot made invalid Bot API requests: {refused}"


@pytest.fixture
async def page(demo: Demo, chromium: Path) -> AsyncIterator[Page]:
    """The demo page, loaded in headless Chromium."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            await page.goto(demo.url)
            await page.wait_for_selector("body[data-ready='true']")
            yield page
        finally:
            await browser.close()


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot (a gitignored folder at the repository root)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / name
