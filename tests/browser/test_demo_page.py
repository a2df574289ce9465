"""Stories in the browser: people on the demo page talk to the real bot by clicking and typing."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.demo import Demo
from tests.browser.conftest import (
    BROWSER_TESTS,
    WAIT_MS,
    close_panes,
    exactly,
    pane,
    press,
    say,
    screenshot_path,
    send_sample_photo,
)

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = BROWSER_TESTS


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
    await send_sample_photo(page, "王阿姨", "visit.jpg")
    await expect(wang.locator(".msg.me img.photo")).to_have_count(1, timeout=WAIT_MS)
    await wang.locator(".reply-btn", has_text="分享我的手机号").click(timeout=WAIT_MS)
    await press(page, "王阿姨", "✅ 提交")
    await expect(wang.locator(".msg.bot").last).to_contain_text("W-0017", timeout=WAIT_MS)

    # The coordinator approves it from the review queue.
    await say(page, "陈主任", "/pending")
    await press(page, "陈主任", "📋 W-0017", on="水龙头漏水")  # the queue is one list: the card comes on a tap
    await press(page, "陈主任", "✅ 通过", on="水龙头漏水")
    await expect(chen.locator(".msg", has_text="水龙头漏水").last).to_contain_text("审核通过", timeout=WAIT_MS)

    # The volunteer finds it among the open tasks, claims it and sees the details.
    await say(page, "小周", "/tasks")
    await press(page, "小周", "查看 W-0017")
    await press(page, "小周", "今天认领")
    await expect(zhou.locator(".msg.bot", has_text="您认领了 W-0017")).to_be_visible(timeout=WAIT_MS)
    await expect(zhou.locator(".msg.bot", has_text="+86 138 0571 0001").last).to_be_visible(timeout=WAIT_MS)

    await close_panes(page, "张记者", "刘编辑")
    await page.screenshot(path=str(screenshot_path("demo-wish-story.png")))


async def test_the_same_wish_story_in_english(page: Page, demo: Demo) -> None:
    from playwright.async_api import expect

    wang, chen, zhou = pane(page, "王阿姨"), pane(page, "陈主任"), pane(page, "小周")
    await page.locator("#ui-lang").click()  # the page's own labels in English too
    await expect(page.locator(".clock-btn").nth(1)).to_have_text("+1 day")
    # Each person switches to English with the pane's language control; the bot confirms in English.
    for name in ("王阿姨", "陈主任", "小周"):
        await pane(page, name).locator("select.lang").select_option("en")
    for person in (wang, chen, zhou):
        await expect(person.locator(".msg.bot").last).to_contain_text("English from now on", timeout=WAIT_MS)

    await say(page, "王阿姨", "/wish")
    await press(page, "王阿姨", "Elderly & disabled help")
    await expect(wang.locator(".msg.bot").last).to_contain_text("describe the help you need", timeout=WAIT_MS)
    await say(page, "王阿姨", "My kitchen tap is leaking; could someone help me fix it? Thank you!")
    await press(page, "王阿姨", "东城社区")  # the district's areas are names, the same in every language
    await wang.locator(".reply-btn", has_text="Share my location").click(timeout=WAIT_MS)
    await expect(wang.locator(".msg.bot").last).to_contain_text("send a photo", timeout=WAIT_MS)
    await send_sample_photo(page, "王阿姨", "visit.jpg")
    await expect(wang.locator(".msg.me img.photo")).to_have_count(1, timeout=WAIT_MS)
    await wang.locator(".reply-btn", has_text="Share my phone number").click(timeout=WAIT_MS)
    await expect(wang.locator(".msg.bot").last).to_contain_text("Phone", timeout=WAIT_MS)
    await press(page, "王阿姨", "✅ Submit")
    await expect(wang.locator(".msg.bot").last).to_contain_text("Submitted! Your wish is W-0017", timeout=WAIT_MS)

    await say(page, "陈主任", "/pending")
    await press(page, "陈主任", "📋 W-0017", on="kitchen tap")
    await press(page, "陈主任", "✅ Approve", on="kitchen tap")
    await expect(chen.locator(".msg", has_text="kitchen tap").last).to_contain_text(
        "Approved by 陈主任", timeout=WAIT_MS
    )
    await expect(wang.locator(".msg.bot").last).to_contain_text("W-0017 was approved", timeout=WAIT_MS)

    await say(page, "小周", "/tasks")
    await press(page, "小周", "View W-0017")
    await press(page, "小周", "Claim: today")
    await expect(zhou.locator(".msg.bot", has_text="You took W-0017")).to_be_visible(timeout=WAIT_MS)
    details = zhou.locator(".msg.bot", has_text="Phone: +86 138 0571 0001").last
    await expect(details).to_contain_text("kitchen tap", timeout=WAIT_MS)
    await expect(wang.locator(".msg.bot").last).to_contain_text("Volunteer 小周 has taken your wish W-0017")

    await close_panes(page, "张记者", "刘编辑")
    await page.screenshot(path=str(screenshot_path("demo-wish-story-en.png")))


async def test_a_tip_goes_from_the_reporter_to_the_editor_and_is_published(page: Page, demo: Demo) -> None:
    from playwright.async_api import expect

    zhang, liu = pane(page, "张记者"), pane(page, "刘编辑")
    caption = "东城社区河滨路今早有居民自发清理河道垃圾。"
    link = "https://news.example.cn/dongcheng/river-clean-up"
    # The reporter sends a sample photo with a caption, then answers the bot's questions by clicking.
    await say(page, "张记者", "/tip")
    await expect(zhang.locator(".msg.bot").last).to_contain_text("请发送现场照片", timeout=WAIT_MS)
    await zhang.locator(".composer .text").fill(caption)  # typed before picking: it goes as the caption
    await send_sample_photo(page, "张记者", "river.jpg")
    await expect(zhang.locator(".msg.me", has_text=caption).locator("img.photo")).to_be_visible(timeout=WAIT_MS)
    await zhang.locator(".reply-btn", has_text="分享位置").click(timeout=WAIT_MS)
    await press(page, "张记者", "好人好事")
    await expect(zhang.locator(".msg.bot").last).to_contain_text("照片/视频：1 个", timeout=WAIT_MS)
    await press(page, "张记者", "提交")
    submitted = zhang.locator(".msg.bot", has_text="线索已提交").last
    await expect(submitted).to_be_visible(timeout=WAIT_MS)
    reference = re.search(r"T-\d{4}", await submitted.inner_text())
    assert reference is not None
    ref = reference.group()

    # The editor is told, opens the queue, sees the photo and publishes the tip with its link.
    await expect(liu.locator(".msg.bot", has_text=f"新线索 {ref}")).to_be_visible(timeout=WAIT_MS)
    await say(page, "刘编辑", "/review")
    await press(page, "刘编辑", f"📋 {ref}")  # the queue is one list; the tip's photo and card come on a tap
    photo = liu.locator(".msg.bot", has_text=ref).locator("img.photo")
    await expect(photo).to_be_visible(timeout=WAIT_MS)
    await expect(photo).to_have_js_property("complete", True)
    assert await photo.evaluate("(img) => img.naturalWidth") > 0, "the tip's photo did not load"
    await press(page, "刘编辑", "已发布", on=caption)
    await expect(liu.locator(".msg.bot").last).to_contain_text(f"请发送 {ref} 发布稿件的链接", timeout=WAIT_MS)
    await say(page, "刘编辑", link)
    await expect(liu.locator(".msg.bot").last).to_contain_text(f"{ref} 已标记为已发布", timeout=WAIT_MS)
    card = liu.locator(".msg.bot", has_text=caption).last
    await expect(card).to_contain_text(f"发布链接：{link}", timeout=WAIT_MS)  # the card was updated in place

    # The reporter hears the outcome.
    await expect(zhang.locator(".msg.bot").last).to_contain_text(f"您的线索 {ref} 已发布成稿件：{link}")

    await close_panes(page, "王阿姨", "小周", "陈主任")
    await page.screenshot(path=str(screenshot_path("demo-newsroom-story.png")))


@pytest.mark.parametrize("demo_start", [dt.time(10, 0)])  # a morning: after the coordinators' digest time
async def test_the_clock_control_brings_the_next_mornings_digest_and_reminders(page: Page, demo: Demo) -> None:
    from playwright.async_api import expect

    chen = pane(page, "陈主任")
    tomorrow = (demo.clock.now().astimezone(demo.settings.tz) + dt.timedelta(days=1)).date().isoformat()
    await expect(page.locator("#clock-value")).not_to_contain_text(tomorrow)
    await expect(chen.locator(".msg.bot")).to_have_count(0)

    await page.locator(".clock-btn").filter(has_text=exactly("+1 天")).click()

    await expect(page.locator("#clock-value")).to_contain_text(tomorrow)
    # The seeded claim (小林, W-0007, due two days after it was taken) is now overdue: the coordinators hear.
    await expect(chen.locator(".msg.bot", has_text="W-0007 已逾期")).to_contain_text("小林", timeout=WAIT_MS)
    # And at 10:00 the day's 08:30 digest has fallen due.
    digest = chen.locator(".msg.bot", has_text=f"每日摘要（{tomorrow}）")
    await expect(digest).to_contain_text("逾期：1", timeout=WAIT_MS)
    await expect(chen.locator(".msg.bot b", has_text="每日摘要")).to_have_count(1)

    await close_panes(page, "王阿姨", "小周", "张记者", "刘编辑")
    await page.screenshot(path=str(screenshot_path("demo-clock.png")))


async def test_the_coordinator_downloads_a_csv_export_and_sees_the_stats_chart(page: Page, demo: Demo) -> None:
    from playwright.async_api import expect

    chen = pane(page, "陈主任")
    await say(page, "陈主任", "/export wishes")
    link = chen.locator(".msg.bot a.doc-link")
    await expect(link).to_have_text(re.compile(r"^tongxin-wishes-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$"))
    await expect(chen.locator(".msg.bot", has_text="共 16 行")).to_be_visible()
    async with page.expect_download() as started:
        await link.click()
    download = await started.value
    assert download.suggested_filename == await link.inner_text()
    saved = await asyncio.to_thread(Path(await download.path()).read_bytes)
    rows = list(csv.reader(io.StringIO(saved.decode("utf-8-sig"))))
    assert len(rows) == 1 + 16  # a header and the sixteen seeded wishes (six of them sent as cases)
    assert any("家门口楼梯的扶手松了" in cell for row in rows for cell in row)

    await say(page, "陈主任", "/stats")
    await expect(chen.locator(".msg.bot", has_text="数据统计")).to_be_visible(timeout=WAIT_MS)
    chart = chen.locator(".msg.bot img.photo").last
    await expect(chart).to_be_visible(timeout=WAIT_MS)
    await expect(chart).to_have_js_property("complete", True)
    assert await chart.evaluate("(img) => img.naturalWidth") > 0, "the chart image did not load"

    await close_panes(page, "王阿姨", "小周", "张记者", "刘编辑")
    await page.screenshot(path=str(screenshot_path("demo-export-stats.png")))
