"""A newcomer opens the demo: every pane says what that person can try, the people without a pane are named under
the bar, and after the demo is stopped and started again on the same data folder the page shows the same chats
(photos too, on Telegram and WeChat) and the conversations go on where they were."""

from __future__ import annotations

import datetime as dt
import json
import random
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from bot.demo import CLOCK_FILE, WECHAT_WANG_OPENID, demo_running
from simulator.state import sample_png
from simulator.wechat import Received
from tests.browser.conftest import (
    BROWSER_TESTS,
    WAIT_MS,
    next_local_time,
    open_page,
    pane,
    press,
    say,
    screenshot_path,
    send_sample_photo,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = BROWSER_TESTS

# Who the page shows at first, and a command their hint names.
FIRST_HINTS = {"王阿姨": "/wish", "小周": "/tasks", "张记者": "/tip", "陈主任": "/pending", "刘编辑": "/review"}


# Below the kernel's ephemeral range (32768-60999 by default): the demo also listens on port + 1 (its screen), and a
# port the kernel handed out could have its neighbour taken by any outgoing connection of the other test worker.
PORTS = range(20000, 32000, 2)


def free_port() -> int:
    """A port nobody listens on now, with its neighbour (the screen's) free too: the restarted demo serves the page at
    the same address, as `make demo` does."""
    for port in random.sample(PORTS, 50):
        with socket.socket() as page, socket.socket() as screen:
            try:
                page.bind(("127.0.0.1", port))
                screen.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two free neighbouring ports between 20000 and 32000")


def prepare_folder(folder: Path) -> None:
    """A new demo whose clock starts at 10:00 local (outside quiet hours, whatever the hour of the run)."""
    folder.mkdir()
    offset = next_local_time(dt.time(10, 0)) - dt.datetime.now(dt.UTC)
    (folder / CLOCK_FILE).write_text(json.dumps({"offset_seconds": offset.total_seconds()}))


def pane_selector(name: str) -> str:
    """The CSS selector of a person's pane."""
    return f".pane[data-person='{name}']"


async def image_loaded(page: Page, selector: str) -> bool:
    """Whether the last image matching `selector` loaded (a broken link has no natural width)."""
    from playwright.async_api import expect

    image = page.locator(selector).last
    await expect(image).to_be_visible(timeout=WAIT_MS)
    await expect(image).to_have_js_property("complete", True)
    return bool(await image.evaluate("(img) => img.naturalWidth > 0"))


async def test_the_panes_open_with_hints_and_keep_their_chats_across_a_restart(
    browser: Browser, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    folder, port = tmp_path / "demo-data", free_port()
    prepare_folder(folder)
    async with demo_running(port=port, data_dir=folder) as demo:
        page = await open_page(browser, demo.url, viewport={"width": 1600, "height": 900}, locale="zh-CN")
        await page.wait_for_selector("body[data-ready='true']")

        # Fresh: every pane opens with what this person can try, and no chat yet.
        for name, command in FIRST_HINTS.items():
            await expect(pane(page, name).locator(".hint")).to_contain_text(command)
            await expect(pane(page, name).locator(".msg")).to_have_count(0)
        wechat = page.locator(".pane.wx")
        await expect(wechat.locator(".hint")).to_contain_text("许心愿", timeout=WAIT_MS)
        # The department members have no pane at first, but the page names them; one tap opens a chat.
        await expect(page.locator("#cast")).to_contain_text("老李 · 部门成员")
        await page.locator("#cast .cast-person", has_text="小林").click()
        await expect(pane(page, "小林").locator(".hint")).to_contain_text("/cases")
        await expect(page.locator("#cast")).not_to_contain_text("小林")

        # A tap on a suggestion puts it in the box; the resident starts a wish and picks its category.
        await pane(page, "王阿姨").locator(".hint-try", has_text="/wish").click()
        await expect(pane(page, "王阿姨").locator(".composer .text")).to_have_value("/wish")
        await pane(page, "王阿姨").locator(".composer .text").press("Enter")
        await press(page, "王阿姨", "助老助残")
        await expect(pane(page, "王阿姨").locator(".msg.bot").last).to_contain_text("文字描述", timeout=WAIT_MS)
        # The reporter sends a photo.
        await send_sample_photo(page, "张记者", "river.jpg")
        await expect(pane(page, "张记者").locator(".msg.me img.photo")).to_have_count(1, timeout=WAIT_MS)
        # On WeChat she presses the menu: the chat shows the button she pressed, not the key the bot got.
        await wechat.locator(".wx-menu > button", has_text="许心愿").click()
        await expect(wechat.locator(".msg.me").last).to_contain_text("〔菜单〕许心愿", timeout=WAIT_MS)
        await expect(wechat.locator(".msg.bot .wx-item", has_text="助老助残")).to_be_visible(timeout=WAIT_MS)
        await wechat.locator(".msg.bot .wx-item", has_text="助老助残").click()
        await expect(wechat.locator(".msg.bot").last).to_contain_text("描述", timeout=WAIT_MS)
        # A photo the service account sends is shown as a photo, not as its media id.
        wx = demo.wechat
        assert wx is not None
        media_id = wx.store_media(sample_png(120, 80, (40, 120, 200)))
        wx.log(WECHAT_WANG_OPENID, "bot", Received("image", media_id))
        assert await image_loaded(page, ".pane.wx .msg.bot img.photo")
        await expect(wechat).not_to_contain_text(media_id)
        await expect(wechat).not_to_contain_text("WISH")
        await page.screenshot(path=str(screenshot_path("demo-hints.png")))

    # The demo stops and starts again on the same folder; the page is reloaded at the same address.
    async with demo_running(port=port, data_dir=folder) as again:
        await page.reload()
        await page.wait_for_selector("body[data-ready='true']")
        wang = pane(page, "王阿姨")
        await expect(wang.locator(".msg.me .text").first).to_have_text("/wish")
        await expect(wang.locator(".msg.bot").last).to_contain_text("文字描述")
        for name, command in FIRST_HINTS.items():
            await expect(pane(page, name).locator(".hint")).to_contain_text(command)
        await expect(pane(page, "小林").locator(".hint")).to_contain_text("/cases")
        assert await image_loaded(page, f"{pane_selector('张记者')} .msg.me img.photo")
        await expect(wechat.locator(".hint")).to_contain_text("许心愿", timeout=WAIT_MS)
        await expect(wechat.locator(".msg.me").first).to_contain_text("〔菜单〕许心愿")
        assert await image_loaded(page, ".pane.wx .msg.bot img.photo")

        # The conversations go on: her wishes take their descriptions, on Telegram and on WeChat.
        await say(page, "王阿姨", "家里水龙头漏水，想请人帮忙修一下")
        await expect(wang.locator(".msg.bot").last).to_contain_text("东城社区", timeout=WAIT_MS)
        # (WeChat keys a message by its MsgId: one the bot saw before the restart would be taken for a retry.)
        before = await wechat.locator(".msg.bot").count()
        await wechat.locator(".wx-composer input").fill("楼道的灯坏了，晚上看不见路")
        await wechat.locator(".wx-composer input").press("Enter")
        await expect(wechat.locator(".msg.bot")).to_have_count(before + 1, timeout=WAIT_MS)
        await expect(wechat.locator(".msg.bot").last).to_contain_text("东城社区")
        await page.screenshot(path=str(screenshot_path("demo-after-restart.png")))
        await page.context.close()
    assert again.sim.invalid_requests == []
    assert again.wechat is not None
    assert again.wechat.refusals == []
