"""The demo's WeChat pane switches between 王阿姨, 小周 (volunteer) and 张记者 (reporter): each shows their own chat,
their role's menu and hint, and 小周 claims a wish there from his menu (issue 26)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.demo import WECHAT_XIAOZHOU_OPENID, WECHAT_ZHANG_OPENID, demo_running
from tests.browser.conftest import BROWSER_TESTS, WAIT_MS, open_page, screenshot_path
from tests.browser.test_demo_restart import free_port, prepare_folder

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = BROWSER_TESTS


async def test_the_wechat_pane_switches_to_the_volunteer_and_the_reporter(browser: Browser, tmp_path: Path) -> None:
    from playwright.async_api import expect

    folder = tmp_path / "demo-data"
    prepare_folder(folder)
    async with demo_running(port=free_port(), data_dir=folder) as demo:
        page = await open_page(browser, demo.url, viewport={"width": 1600, "height": 900}, locale="zh-CN")
        await page.wait_for_selector("body[data-ready='true']")
        wechat = page.locator(".pane.wx")
        await expect(wechat.locator(".wx-menu > button", has_text="许心愿")).to_be_visible(timeout=WAIT_MS)
        await wechat.locator("select.wx-who").select_option(WECHAT_XIAOZHOU_OPENID)
        await expect(wechat.locator(".hint")).to_contain_text("小周", timeout=WAIT_MS)
        await expect(wechat.locator(".wx-menu > button").first).to_have_text("任务")
        await wechat.locator(".wx-menu > button", has_text="任务").first.click()
        await expect(wechat.locator(".msg.me").last).to_contain_text("〔菜单〕任务", timeout=WAIT_MS)
        claim = wechat.locator(".msg.bot .wx-item", has_text="认领 ").first
        await expect(claim).to_be_visible(timeout=WAIT_MS)
        await claim.click()
        await wechat.locator(".msg.bot .wx-item", has_text="今天认领").click(timeout=WAIT_MS)
        await expect(wechat.locator(".msg.bot", has_text="您认领了")).to_have_count(1, timeout=WAIT_MS)
        await page.screenshot(path=str(screenshot_path("demo-wechat-volunteer.png")))
        # The reporter's WeChat: his own (empty) chat and the reporters' menu.
        await wechat.locator("select.wx-who").select_option(WECHAT_ZHANG_OPENID)
        await expect(wechat.locator(".wx-menu > button").first).to_have_text("报料", timeout=WAIT_MS)
        await expect(wechat.locator(".msg")).to_have_count(0)
        # Reloaded, the pane shows whom it showed.
        await page.reload()
        await page.wait_for_selector("body[data-ready='true']")
        await expect(page.locator(".pane.wx .wx-menu > button").first).to_have_text("报料", timeout=WAIT_MS)


async def test_the_eleventh_choice_shows_on_its_own_line_above_the_footer(browser: Browser, tmp_path: Path) -> None:
    """许心愿's area question on the WeChat pane: ten items, then "11. 跳过" ran into the footer on one line
    ("11. 跳过 点选一项…"); it is a line of its own, and typing 11 takes it."""
    from playwright.async_api import expect

    folder = tmp_path / "demo-data"
    prepare_folder(folder)
    async with demo_running(port=free_port(), data_dir=folder) as demo:
        page = await open_page(browser, demo.url, viewport={"width": 1600, "height": 900}, locale="zh-CN")
        await page.wait_for_selector("body[data-ready='true']")
        wechat = page.locator(".pane.wx")
        await wechat.locator(".wx-menu > button", has_text="许心愿").click(timeout=WAIT_MS)
        await wechat.locator(".msg.bot .wx-item", has_text="助老助残").last.click(timeout=WAIT_MS)
        await expect(wechat.locator(".msg.bot", has_text="请用文字描述").last).to_be_visible(timeout=WAIT_MS)
        composer = wechat.locator(".wx-composer input")
        await composer.fill("家里的水龙头坏了，想请人帮忙修一下")
        await composer.press("Enter")
        tail = wechat.locator(".msg.bot .wx-tail", has_text="11. 跳过").last
        await expect(tail).to_be_visible(timeout=WAIT_MS)
        lines = (await tail.inner_text()).splitlines()
        assert lines == ["11. 跳过", "点选一项，或回复它前面的数字。"]
        await page.screenshot(path=str(screenshot_path("demo-wechat-eleventh-choice.png")))
        await composer.fill("11")
        await composer.press("Enter")
        await expect(wechat.locator(".msg.bot", has_text="具体在哪里").last).to_be_visible(timeout=WAIT_MS)
