"""The command-centre screen in Chromium: the demo serves it with its seeded departments; the counters change when a
resident submits a wish on the demo page; nothing is loaded from anywhere but the screen's own server."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.demo import Demo
from tests.browser.conftest import BROWSER_TESTS, WAIT_MS, pane, press, say, screenshot_path

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = BROWSER_TESTS


async def test_the_screen_shows_the_district_live_and_loads_nothing_from_outside(
    page: Page, demo: Demo, browser: Browser
) -> None:
    from playwright.async_api import expect

    screen_origin = "{0.scheme}://{0.netloc}".format(urlsplit(demo.screen_url))
    context = await browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    try:
        screen = await context.new_page()
        requested: list[str] = []
        screen.on("request", lambda request: requested.append(request.url))
        errors: list[str] = []
        screen.on("pageerror", lambda error: errors.append(str(error)))

        refused = await screen.goto(demo.screen_url.split("?")[0])
        assert refused is not None
        assert refused.status == 403

        await screen.goto(demo.screen_url)
        await screen.wait_for_selector("body[data-ready='true']", timeout=WAIT_MS)
        needs = screen.locator(".tile[data-counter='needs'] b")
        await expect(screen.locator("h1")).to_have_text("同心 · 指挥中心大屏")
        await expect(screen.locator(".tile[data-counter='needs'] span")).to_have_text("收集需求")
        before = int(await needs.inner_text())
        assert before > 0  # the seeded wishes (one of them was turned down: not counted)
        await expect(screen.locator(".tile[data-counter='overdue_cases'] b")).not_to_have_text("0")
        await expect(screen.locator("#overdue")).to_contain_text("城管")
        # The map and the charts are drawn (ECharts renders into canvases).
        for chart in ("map", "rates", "hot", "trend"):
            await expect(screen.locator(f"#{chart} canvas").first).to_be_visible()
        # A rate with nothing to rate yet (a department's cases unrated) is labelled 暂无数据, not drawn as 0 %.
        drawn = await screen.evaluate(
            "() => echarts.getInstanceByDom(document.getElementById('rates')).getOption().series"
            ".map(s => s.data.map(p => (p !== null && typeof p === 'object') ? p.label.formatter : p))"
        )
        served = await (await context.request.get(demo.screen_url.replace("/screen?", "/screen/data.json?", 1))).json()
        for series, key in zip(drawn, ("response", "resolution", "satisfaction"), strict=True):
            assert series == [("暂无数据" if r[key] is None else r[key]) for r in served["rates"]]
        assert any("暂无数据" in series for series in drawn)

        # A resident submits a wish on the demo page; the screen counts it at its next refresh.
        wang = pane(page, "王阿姨")
        await say(page, "王阿姨", "/wish")
        await press(page, "王阿姨", "环境整治")
        await expect(wang.locator(".msg.bot").last).to_contain_text("文字描述", timeout=WAIT_MS)
        await say(page, "王阿姨", "小区门口的路灯坏了好几天，晚上很黑，请帮忙修一下")
        await press(page, "王阿姨", "东城社区")
        await wang.locator(".reply-btn", has_text="跳过").click(timeout=WAIT_MS)
        await expect(wang.locator(".msg.bot").last).to_contain_text("照片", timeout=WAIT_MS)
        await wang.locator(".reply-btn", has_text="跳过").click(timeout=WAIT_MS)
        await wang.locator(".reply-btn", has_text="跳过").click(timeout=WAIT_MS)
        await press(page, "王阿姨", "✅ 提交")
        await expect(wang.locator(".msg.bot").last).to_contain_text("W-0017", timeout=WAIT_MS)
        await expect(needs).to_have_text(str(before + 1), timeout=WAIT_MS)

        await screen.wait_for_timeout(1500)  # let the charts' animations finish before the picture
        await screen.screenshot(path=str(screenshot_path("command-centre-screen.png")))
        assert errors == []
        outside = [url for url in requested if not url.startswith(screen_origin)]
        assert outside == []
    finally:
        await context.close()
