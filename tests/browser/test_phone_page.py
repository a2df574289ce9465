"""The demo page on a phone (390 px wide): nothing scrolls sideways, the clock buttons are on screen, and typing
nothing or too much gets a hint in the page's language instead of a silent cut or a raw API error."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from bot.demo import Demo
from tests.browser.conftest import BROWSER_TESTS, WAIT_MS, open_page, pane, say, screenshot_path

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = BROWSER_TESTS

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_start() -> dt.time | None:
    """None: the demo starts as a new one does, at the next 09:00 local (whatever the hour of the run)."""
    return None


@pytest_asyncio.fixture(loop_scope="session")
async def phone(demo: Demo, browser: Browser) -> AsyncIterator[Page]:
    """The demo page in a 390 px wide viewport."""
    page = await open_page(browser, demo.url, viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    try:
        await page.wait_for_selector("body[data-ready='true']")
        yield page
    finally:
        await page.context.close()


async def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (0: no sideways scrolling)."""
    width: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


async def test_the_page_fits_a_phone_and_explains_empty_and_long_messages(phone: Page, demo: Demo) -> None:
    from playwright.async_api import expect

    page = phone
    await expect(pane(page, "王阿姨")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    # The clock starts at 09:00 on a new demo, and the page shows it.
    await expect(page.locator("#clock-value")).to_contain_text("09:0")
    for button in await page.locator(".clock-btn").all():
        box = await button.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]

    wang = pane(page, "王阿姨")
    await say(page, "王阿姨", "你好，我想找人帮忙")
    await expect(wang.locator(".msg.bot").last).to_contain_text("这像是一个求助", timeout=WAIT_MS)
    assert await horizontal_overflow(page) == 0

    box = wang.locator(".composer .text")
    await box.fill("   ")
    await box.press("Enter")
    await expect(wang.locator(".toast")).to_have_text("请先输入要发送的内容。")
    long_text = "很长的消息" * 900  # 4500 characters
    await box.fill(long_text)
    assert await box.input_value() == long_text  # nothing is cut while typing
    await box.press("Enter")
    await expect(wang.locator(".toast")).to_contain_text("消息太长了：4500 个字符")
    assert await box.input_value() == long_text  # kept, to be split
    await page.screenshot(path=str(screenshot_path("demo-phone-390.png")))

    await page.locator("#ui-lang").click()
    await box.fill("")
    await box.press("Enter")
    await expect(wang.locator(".toast")).to_have_text("Type something to send first.")
    assert await horizontal_overflow(page) == 0
