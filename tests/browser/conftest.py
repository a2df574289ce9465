"""Fixtures of the browser tests: the demo started in-process on free ports, and Debian's Chromium driven by
Playwright (never a browser Playwright downloads): one Chromium for the whole run, a new browser context (its own
cookies, storage and viewport) for each page a test opens. The browser tests share one event loop for the run (the
browser's connection lives on it) and one pytest-xdist worker (`xdist_group`), so the run starts Chromium once.

Without /usr/bin/chromium the tests are skipped with a message saying what to install, except in CI
(`CI` set), where a missing browser is a failure: the browser story must run there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.demo import CLOCK_FILE, Demo, demo_running
from core.settings import Settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
DEMO_TZ = ZoneInfo(Settings.model_fields["timezone"].default)
MISSING = "the browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install chromium"


# What every browser test module marks itself with: browser, wall clock, the run's loop, the Chromium's worker.
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.wall_clock,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.xdist_group("chromium"),
]


@pytest.fixture(scope="session")
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
def demo_start() -> dt.time | None:
    """The local time of day the demo's clock starts at (None: now). 10:00 by default, so the stories pass at
    any hour: at 00:45 the real clock is in quiet hours and the notices they wait for would be held."""
    return dt.time(10, 0)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Chromium, started once for the run."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def open_page(browser: Browser, url: str, **context: Any) -> Page:
    """A page in a new browser context (`context`: viewport, locale …), loaded at `url`."""
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(url)
    return page


@pytest_asyncio.fixture(loop_scope="session")
async def demo(tmp_path: Path, demo_start: dt.time | None) -> AsyncIterator[Demo]:
    """A freshly seeded demo on free ports; afterwards, no request the bot made may have been refused."""
    folder = tmp_path / "demo-data"
    if demo_start is not None:
        # The demo only moves its clock forward: start at the next such time of day, as a restart would.
        folder.mkdir()
        offset = next_local_time(demo_start) - dt.datetime.now(dt.UTC)
        (folder / CLOCK_FILE).write_text(json.dumps({"offset_seconds": offset.total_seconds()}))
    async with demo_running(port=0, data_dir=folder, fresh=demo_start is None) as running_demo:
        yield running_demo
    refused = running_demo.sim.invalid_requests
    assert refused == [], f"the bot made invalid Bot API requests: {refused}"


@pytest_asyncio.fixture(loop_scope="session")
async def page(demo: Demo, browser: Browser) -> AsyncIterator[Page]:
    """The demo page, in a new context of the run's Chromium."""
    page = await open_page(browser, demo.url, viewport={"width": 1600, "height": 900}, locale="zh-CN")
    try:
        await page.wait_for_selector("body[data-ready='true']")
        yield page
    finally:
        await page.context.close()


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot (a gitignored folder at the repository root)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / name


def next_local_time(at: dt.time) -> dt.datetime:
    """The next moment, at least a minute ahead, that is `at` in the demo's time zone (aware UTC)."""
    soon = dt.datetime.now(DEMO_TZ) + dt.timedelta(minutes=1)
    moment = dt.datetime.combine(soon.date(), at, tzinfo=DEMO_TZ)
    if moment < soon:
        moment += dt.timedelta(days=1)
    return moment.astimezone(dt.UTC)


# -- acting on the page as a person would -----------------------------------------------------------------

WAIT_MS = 15_000  # the simulator keeps Telegram's one-message-a-second pace per chat


def pane(page: Page, name: str) -> Locator:
    """The chat pane of one person."""
    return page.locator(f".pane[data-person='{name}']")


async def say(page: Page, name: str, text: str) -> None:
    """Type into a person's message box and press Enter."""
    box = pane(page, name).locator(".composer .text")
    await box.fill(text)
    await box.press("Enter")


def exactly(label: str) -> re.Pattern[str]:
    """A label matched whole: "✖️ 不通过" must not pass for "通过"."""
    return re.compile(rf"^\s*{re.escape(label)}\s*$")


async def press(page: Page, name: str, label: str, *, on: str | None = None) -> None:
    """Click an inline button in a person's pane (on the latest message showing it, or one containing `on`)."""
    messages = pane(page, name).locator(".msg")
    if on is not None:
        messages = messages.filter(has_text=on)
    button = messages.locator(".inline-btn").filter(has_text=exactly(label)).last
    await button.wait_for(timeout=WAIT_MS)
    await button.click()


async def send_sample_photo(page: Page, name: str, sample: str) -> None:
    """Pick one of the page's sample images and send it (with what is typed in the box as its caption)."""
    person = pane(page, name)
    await person.locator(".attach").click()
    await person.locator("[data-attach='samples']").click()
    await person.locator(f".sample-grid img[data-sample='{sample}']").click()
    await person.locator(".send-samples").click()


async def close_panes(page: Page, *names: str) -> None:
    """Close the panes of people who take no part, so a screenshot shows the story's people."""
    from playwright.async_api import expect

    before = await page.locator(".pane").count()
    for name in names:
        await pane(page, name).locator(".close").click()
    await expect(page.locator(".pane")).to_have_count(before - len(names))
    # Let the last images finish loading before the picture is taken.
    await page.wait_for_function("[...document.images].every((img) => img.complete)")
