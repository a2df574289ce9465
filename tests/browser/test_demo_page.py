"""Stories in the browser: people on the demo page talk to the real bot by clicking and typing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from bot.demo import Demo
from tests.browser.conftest import screenshot_path

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

pytestmark = pytest.mark.browser


def pane(page: Page, name: str) -> Locator:
    """The chat pane of one person."""
    return page.locator(f".pane[data-person='{name}']")


async def say(page: Page, name: str, text: str) -> None:
    """Type into a person's message box and press Enter."""
    box = pane(page, name).locator(".composer .text")
    await box.fill(text)
    await box.press("Enter")


async def test_the_page_shows_the_cast_and_each_person_talks_to_the_bot(page: Page, demo: Demo) -> None:
    from playwright.async_api import expect

    for name in ("王阿姨", "小周", "张记者", "陈主任", "刘编辑"):
        await expect(pane(page, name)).to_be_visible()
    await expect(pane(page, "陈主任").locator(".role.coordinator")).to_be_visible()

    await say(page, "王阿姨", "/start")
    await expect(pane(page, "王阿姨").locator(".msg.bot").last).to_contain_text("您好，王阿姨")
    # Formatting entities are rendered: the bot's <b>同心</b> arrives as a bold entity.
    await expect(pane(page, "王阿姨").locator(".msg.bot b").first).to_have_text("同心")

    await say(page, "陈主任", "/help")
    await expect(pane(page, "陈主任").locator(".msg.bot").last).to_contain_text("/stats")

    # Switching a person to English goes through /language and the bot's own button.
    await pane(page, "小周").locator("select.lang").select_option("en")
    await expect(pane(page, "小周").locator(".msg.bot").last).to_contain_text("English from now on")
    await say(page, "小周", "/help")
    await expect(pane(page, "小周").locator(".msg.bot").last).to_contain_text("Commands you can use")

    await page.screenshot(path=str(screenshot_path("demo-basics.png")))


WAIT_MS = 15_000  # the simulator keeps Telegram's one-message-a-second pace per chat


async def press(page: Page, name: str, label: str, *, on: str | None = None) -> None:
    """Click an inline button in a person's pane (on the latest message showing it, or one containing `on`)."""
    messages = pane(page, name).locator(".msg")
    if on is not None:
        messages = messages.filter(has_text=on)
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    button = messages.locator(".inline-btn").filter(has_text=exact).last
    await button.wait_for(timeout=WAIT_MS)
    await button.click()


async def test_a_wish_goes_from_the_resident_to_the_coordinator_to_the_volunteer(page: Page, demo: Demo) -> None:
    from playwright.async_api import expect

    wang, chen, zhou = pane(page, "王阿姨"), pane(page, "陈主任"), pane(page, "小周")
    # The resident asks for help by clicking and typing.
    await say(page, "王阿姨", "/wish")
    await press(page, "王阿姨", "助老助残")
    await expect(wang.locator(".msg.bot").last).to_contain_text("文字描述", timeout=WAIT_MS)
    await say(page, "王阿姨", "家里水龙头漏水，想请人帮忙修一下，谢谢！")
    await press(page, "王阿姨", "东城社区")
    await wang.locator(".reply-btn", has_text="发送我的位置").click(timeout=WAIT_MS)
    await expect(wang.locator(".msg.bot").last).to_contain_text("照片", timeout=WAIT_MS)
    await wang.locator(".attach").click()
    await wang.locator("[data-attach='samples']").click()
    await wang.locator(".sample-grid img[data-sample='visit.jpg']").click()
    await wang.locator(".send-samples").click()
    await expect(wang.locator(".msg.me img.photo")).to_have_count(1, timeout=WAIT_MS)
    await wang.locator(".reply-btn", has_text="分享我的手机号").click(timeout=WAIT_MS)
    await press(page, "王阿姨", "✅ 提交")
    await expect(wang.locator(".msg.bot").last).to_contain_text("W-0011", timeout=WAIT_MS)

    # The coordinator approves it from the review queue.
    await say(page, "陈主任", "/pending")
    await press(page, "陈主任", "✅ 通过", on="水龙头漏水")
    await expect(chen.locator(".msg", has_text="水龙头漏水").last).to_contain_text("审核通过", timeout=WAIT_MS)

    # The volunteer finds it among the open tasks, claims it and sees the details.
    await say(page, "小周", "/tasks")
    await press(page, "小周", "查看 W-0011")
    await press(page, "小周", "今天认领")
    await expect(zhou.locator(".msg.bot", has_text="您认领了 W-0011")).to_be_visible(timeout=WAIT_MS)
    await expect(zhou.locator(".msg.bot", has_text="+86 138 0571 0001").last).to_be_visible(timeout=WAIT_MS)

    # Close the panes that take no part, so the screenshot shows the three people of the story.
    for name in ("张记者", "刘编辑"):
        await pane(page, name).locator(".close").click()
    await expect(page.locator(".pane")).to_have_count(3)
    await page.wait_for_timeout(300)  # let the last images finish loading before the picture is taken
    await page.screenshot(path=str(screenshot_path("demo-wish-story.png")))
