"""The demo's WeCom pane (issue 28): 陈主任's pane switches to 企业微信, where the application's menu is the one the bot
set; 王阿姨 makes a wish in the WeChat pane, his WeCom pane shows its review card, his press on 通过 goes through the
WeCom simulator to the bot's callback (encrypted, signed), the wish is approved, and the card then shows who approved
it in place of its buttons. Back on Telegram, his pane is his Telegram chat again."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from bot.demo import Demo, demo_running
from rules.wishes import WishStatus, wish_ref
from storage import wishes as store
from tests.browser.conftest import BROWSER_TESTS, WAIT_MS, open_page, pane, screenshot_path
from tests.browser.test_demo_restart import free_port, prepare_folder
from tests.wecom.helpers import resident_wish

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

pytestmark = BROWSER_TESTS


async def wechat_reply(wechat: Locator, text: str) -> None:
    """Type into the WeChat pane's box and send."""
    composer = wechat.locator(".wx-composer input")
    await composer.fill(text)
    await composer.press("Enter")


async def test_chen_approves_wangs_wechat_wish_from_the_wecom_card(browser: Browser, tmp_path: Path) -> None:
    from playwright.async_api import expect

    folder = tmp_path / "demo-data"
    prepare_folder(folder)
    async with demo_running(port=free_port(), data_dir=folder) as demo:
        assert demo.wecom is not None
        page = await open_page(browser, demo.url, viewport={"width": 1600, "height": 900}, locale="zh-CN")
        await page.wait_for_selector("body[data-ready='true']")
        chen = pane(page, "陈主任")
        wecom = chen.locator(".wc-pane")
        await expect(wecom).to_be_hidden()  # his Telegram chat until he switches
        await chen.locator(".wc-switch").click(timeout=WAIT_MS)
        await expect(wecom).to_be_visible()
        await expect(wecom.locator(".wc-who")).to_have_text("陈主任 · 协调员")
        await expect(wecom.locator(".wc-hint")).to_contain_text("待审核的心愿以卡片送到这里", timeout=WAIT_MS)
        await expect(chen.locator(".hint")).to_have_count(1)  # his Telegram pane's own hint, and only it
        # The application's menu, as the bot set it (menu/create): 待审, 案件, and 更多 with its items.
        menu = wecom.locator(".wc-menu > button")
        await expect(menu).to_have_text(["待审", "案件", "≡ 更多"], timeout=WAIT_MS)

        # 王阿姨 makes a wish on WeChat.
        wechat = page.locator(".pane.wx")
        await wechat.locator(".wx-menu > button", has_text="许心愿").click(timeout=WAIT_MS)
        await wechat.locator(".msg.bot .wx-item", has_text="助老助残").last.click(timeout=WAIT_MS)
        await expect(wechat.locator(".msg.bot", has_text="请用文字描述").last).to_be_visible(timeout=WAIT_MS)
        await wechat_reply(wechat, "家里的水龙头坏了，想请人帮忙修一下")
        await expect(wechat.locator(".msg.bot", has_text="哪个镇").last).to_be_visible(timeout=WAIT_MS)
        for asked in ("哪个镇", "具体在哪里", "照片", "留个电话"):
            await expect(wechat.locator(".msg.bot").last).to_contain_text(asked, timeout=WAIT_MS)
            await wechat_reply(wechat, "跳过")
        await expect(wechat.locator(".msg.bot").last).to_contain_text("请核对", timeout=WAIT_MS)
        await wechat.locator(".msg.bot .wx-item", has_text="提交").last.click()
        submitted = wechat.locator(".msg.bot", has_text=re.compile(r"W-\d{4}")).last
        await expect(submitted).to_be_visible(timeout=WAIT_MS)
        number = re.search(r"W-\d{4}", await submitted.inner_text())
        assert number is not None
        wish_ref = number.group(0)

        # 陈主任's WeCom pane shows the review card with 通过 / 退回.
        card = wecom.locator(".wc-card", has_text=wish_ref)
        await expect(card).to_be_visible(timeout=WAIT_MS)
        await expect(card.locator(".wc-card-btn")).to_have_text(["通过", "退回"])
        await page.screenshot(path=str(screenshot_path("demo-wecom-card.png")))
        await card.locator(".wc-card-btn", has_text="通过").click()

        # The bot approves the wish, tells him, and replaces the card's buttons with who approved.
        await expect(wecom.locator(".wc-app .wc-text", has_text=f"已通过心愿 {wish_ref}")).to_be_visible(
            timeout=WAIT_MS
        )
        await expect(card.locator(".wc-card-done")).to_have_text("已由陈主任通过", timeout=WAIT_MS)
        await expect(card.locator(".wc-card-btn")).to_have_count(0)
        await expect(wechat.locator(".msg.bot", has_text="已通过审核").last).to_be_visible(timeout=WAIT_MS)
        async with demo.application.bot_data.db.read() as conn:
            wish = await store.get_wish(conn, int(wish_ref.removeprefix("W-")))
        assert wish.status == WishStatus.OPEN
        await page.screenshot(path=str(screenshot_path("demo-wecom-approved.png")))

        # Back on Telegram: his Telegram chat, and the choice is kept across a reload.
        await wecom.locator(".wc-back").click()
        await expect(wecom).to_be_hidden()
        await expect(chen.locator(".composer")).to_be_visible()
        await chen.locator(".wc-switch").click()
        await page.reload()
        await page.wait_for_selector("body[data-ready='true']")
        await expect(pane(page, "陈主任").locator(".wc-pane .wc-card-done")).to_have_text(
            "已由陈主任通过", timeout=WAIT_MS
        )
        assert demo.wecom.refusals == [], f"WeCom would have refused: {demo.wecom.refusals}"


async def test_chen_on_wecom_gets_the_export_as_a_file_and_the_stats_chart(page: Page, demo: Demo) -> None:
    """The application's menu in the pane: 更多 → 导出 tells how to ask, 导出 心愿 brings the CSV as a file message
    (a download link with its name and size), and 更多 → 统计 the figures and the chart as an image."""
    from playwright.async_api import expect

    assert demo.wecom is not None
    chen = pane(page, "陈主任")
    await chen.locator(".wc-switch").click(timeout=WAIT_MS)
    wecom = chen.locator(".wc-pane")
    await wecom.locator(".wc-menu > button", has_text="更多").click(timeout=WAIT_MS)
    await wecom.locator(".wc-sub button", has_text="导出").click()
    await expect(wecom.locator(".wc-me .wc-click").last).to_have_text("〔菜单〕导出", timeout=WAIT_MS)
    await expect(wecom.locator(".wc-app .wc-text", has_text="导出 心愿")).to_be_visible(timeout=WAIT_MS)
    await wecom.locator(".wc-hint .hint-try", has_text="导出 心愿").click()  # the hint's suggestion fills the box
    composer = wecom.locator(".wc-composer input")
    await expect(composer).to_have_value("导出 心愿")
    await composer.press("Enter")
    file = wecom.locator(".wc-app a.wc-file").last
    name = re.compile(r"^tongxin-wishes-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$")
    await expect(file.locator(".wc-file-name")).to_have_text(name, timeout=WAIT_MS)
    async with page.expect_download() as started:
        await file.click()
    download = await started.value
    assert download.suggested_filename == await file.locator(".wc-file-name").inner_text()
    saved = await asyncio.to_thread(Path(await download.path()).read_bytes)
    rows = list(csv.reader(io.StringIO(saved.decode("utf-8-sig"))))
    assert len(rows) == 1 + 16  # a header and the sixteen seeded wishes, as Telegram's /export wishes gives them
    await expect(file.locator(".wc-file-size")).to_have_text(f"{len(saved) / 1024:.1f} KB")

    await wecom.locator(".wc-menu > button", has_text="更多").click()
    await wecom.locator(".wc-sub button", has_text="统计").click()
    await expect(wecom.locator(".wc-app .wc-text", has_text="数据统计")).to_be_visible(timeout=WAIT_MS)
    chart = wecom.locator(".wc-app img.wc-photo").last
    await expect(chart).to_be_visible(timeout=WAIT_MS)
    await expect(chart).to_have_js_property("complete", True)
    assert await chart.evaluate("(img) => img.naturalWidth") > 0, "the chart image did not load"
    await expect(chart).to_be_in_viewport(ratio=0.9)  # the pane stays at the bottom as the image loads
    await page.screenshot(path=str(screenshot_path("demo-wecom-export-stats.png")))
    assert demo.wecom.refusals == [], f"WeCom would have refused: {demo.wecom.refusals}"


async def test_the_wecom_pane_keeps_its_chat_and_cards_across_a_restart(browser: Browser, tmp_path: Path) -> None:
    """Two wishes wait; 陈主任 taps 待审 and approves the first from its card; the demo stops and starts again on the
    same folder: his WeCom pane shows the same chat (his 待审, the first card naming him, the second still with its
    buttons), and the second card's 通过 still works."""
    from playwright.async_api import expect

    folder, port = tmp_path / "demo-data", free_port()
    prepare_folder(folder)
    async with demo_running(port=port, data_dir=folder) as demo:
        assert demo.wecom is not None
        wang = demo.person("王阿姨")
        first = await resident_wish(demo.application.bot_data.env, wang)
        second = await resident_wish(demo.application.bot_data.env, wang)
        page = await open_page(browser, demo.url, viewport={"width": 1600, "height": 900}, locale="zh-CN")
        await page.wait_for_selector("body[data-ready='true']")
        await pane(page, "陈主任").locator(".wc-switch").click(timeout=WAIT_MS)
        wecom = pane(page, "陈主任").locator(".wc-pane")
        first_card = wecom.locator(".wc-card", has_text=wish_ref(first.ref_no))
        second_card = wecom.locator(".wc-card", has_text=wish_ref(second.ref_no))
        await expect(second_card.locator(".wc-card-btn")).to_have_text(["通过", "退回"], timeout=WAIT_MS)
        await wecom.locator(".wc-menu > button", has_text="待审").click()
        await expect(wecom.locator(".wc-me .wc-click")).to_have_text(["〔菜单〕待审"], timeout=WAIT_MS)
        await first_card.first.locator(".wc-card-btn", has_text="通过").click()
        await expect(first_card.first.locator(".wc-card-done")).to_have_text("已由陈主任通过", timeout=WAIT_MS)
        before = await wecom.locator(".wc-msg").count()

    async with demo_running(port=port, data_dir=folder) as again:
        assert again.wecom is not None
        await page.reload()
        await page.wait_for_selector("body[data-ready='true']")
        wecom = pane(page, "陈主任").locator(".wc-pane")
        await expect(wecom).to_be_visible(timeout=WAIT_MS)  # still switched to 企业微信
        await expect(wecom.locator(".wc-msg")).to_have_count(before, timeout=WAIT_MS)
        await expect(wecom.locator(".wc-me .wc-click")).to_have_text(["〔菜单〕待审"])
        await expect(
            wecom.locator(".wc-card", has_text=wish_ref(first.ref_no)).first.locator(".wc-card-done")
        ).to_have_text("已由陈主任通过")
        second_card = wecom.locator(".wc-card", has_text=wish_ref(second.ref_no)).last
        await second_card.locator(".wc-card-btn", has_text="通过").click(timeout=WAIT_MS)
        await expect(second_card.locator(".wc-card-done")).to_have_text("已由陈主任通过", timeout=WAIT_MS)
        async with again.application.bot_data.db.read() as conn:
            assert (await store.get_wish(conn, second.id)).status == WishStatus.OPEN
        await page.screenshot(path=str(screenshot_path("demo-wecom-after-restart.png")))
        await page.context.close()
        assert again.wecom.refusals == [], f"WeCom would have refused: {again.wecom.refusals}"
