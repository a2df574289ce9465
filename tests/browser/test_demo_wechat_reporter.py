"""张记者 sends a photo lead from the demo's WeChat pane — 报料 in his menu, two photos from the "+" panel, a few
words, 跳过, a category, 提交 — and 刘编辑 sees the photos on Telegram (issue 26)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.demo import WECHAT_ZHANG_OPENID, Demo
from tests.browser.conftest import BROWSER_TESTS, WAIT_MS, close_panes, pane, press, say, screenshot_path

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = BROWSER_TESTS


async def test_zhang_sends_a_photo_lead_on_wechat_and_the_editor_sees_it(page: Page, demo: Demo) -> None:
    from playwright.async_api import expect

    wechat = page.locator(".pane.wx")
    await wechat.locator("select.wx-who").select_option(WECHAT_ZHANG_OPENID)
    await wechat.locator(".wx-menu > button", has_text="报料").first.click(timeout=WAIT_MS)
    await expect(wechat.locator(".msg.bot", has_text="一张一张发")).to_be_visible(timeout=WAIT_MS)
    for count, said in ((1, "已收到 1 张照片"), (2, "目前共 2 个")):
        await wechat.locator(".wx-plus").click()
        await wechat.locator(".wx-panel button", has_text="照片").click()
        await expect(wechat.locator(".msg.me img.photo")).to_have_count(count, timeout=WAIT_MS)
        await expect(wechat.locator(".msg.bot", has_text=said)).to_be_visible(timeout=WAIT_MS)
    composer = wechat.locator(".wx-composer input")
    what = "河滨路今早有居民自发清理河道垃圾"
    for text, asked in ((what, "请发送现场位置"), ("跳过", "请选择线索类别")):
        await composer.fill(text)
        await composer.press("Enter")
        await expect(wechat.locator(".msg.bot", has_text=asked).last).to_be_visible(timeout=WAIT_MS)
    await wechat.locator(".msg.bot .wx-item", has_text="好人好事").last.click(timeout=WAIT_MS)
    await expect(wechat.locator(".msg.bot", has_text="照片/视频：2 个").last).to_be_visible(timeout=WAIT_MS)
    await wechat.locator(".msg.bot .wx-item", has_text="提交").last.click(timeout=WAIT_MS)
    submitted = wechat.locator(".msg.bot", has_text="线索已提交").last
    await expect(submitted).to_be_visible(timeout=WAIT_MS)
    found = re.search(r"T-\d{4}", await submitted.inner_text())
    assert found is not None
    reference = found.group()

    # 刘编辑 on Telegram is told, opens the tip and sees both photos above its card.
    liu = pane(page, "刘编辑")
    await expect(liu.locator(".msg.bot", has_text=f"新线索 {reference}")).to_be_visible(timeout=WAIT_MS)
    await say(page, "刘编辑", "/review")
    await press(page, "刘编辑", f"📋 {reference}")
    await expect(liu.locator(".msg.bot", has_text=what).last).to_be_visible(timeout=WAIT_MS)
    photos = liu.locator(".msg.bot img.photo")
    await expect(photos).to_have_count(2, timeout=WAIT_MS)
    for index in range(2):
        await expect(photos.nth(index)).to_have_js_property("complete", True)
        assert await photos.nth(index).evaluate("(img) => img.naturalWidth") > 0, "a photo did not load"
    await close_panes(page, "王阿姨", "小周", "陈主任", "张记者")
    await page.screenshot(path=str(screenshot_path("demo-wechat-reporter.png")))
