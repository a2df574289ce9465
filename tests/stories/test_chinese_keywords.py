"""Stories of Chinese first (issue 27): a coordinator types the tier of a case, the kind of an export and the
categories of a department in Chinese, and where the choice is small presses a button instead of typing a keyword."""

from __future__ import annotations

import csv
import io

import pytest

from bot.app import TongxinApp
from simulator import BotApiSimulator
from storage import cases as case_store
from storage import departments
from storage.db import Database
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.test_departments import coordinator_named
from tests.stories.wishflow import button_data, open_wish, wait_for_button

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases


async def test_a_department_is_made_with_chinese_category_names_and_a_case_sent_as_urgent_typed_in_chinese(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    await open_wish(story_db, sim.person("王阿姨"), category="environment")
    zhou = await coordinator_named(bot, sim, "周协调")

    await zhou.send_command("/newdept", "城管 环境整治、交通劝导 东城社区")
    await zhou.wait_for_text("已创建部门 城管")
    await zhou.send_command("/case", "W-0001 城管 紧急")
    sent = await zhou.wait_for_text("已派单 C-0001")
    assert "紧急（2 小时）" in (sent.text or "")

    async with story_db.read() as conn:
        made = await departments.find_department(conn, "城管")
        case = await case_store.get_case(conn, 1)
    assert made.categories == ("environment", "traffic_guidance")
    assert case.tier == "urgent"
    # A word that is no tier is refused with the tiers named in Chinese.
    await zhou.send_command("/case", "W-0001 城管 很急")
    refused = await zhou.wait_for_text("时限等级只能是")
    assert "紧急（2 小时）" in (refused.text or "")


async def test_a_case_without_a_tier_gets_the_tiers_as_buttons(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    await open_wish(story_db, sim.person("王阿姨"), category="environment")
    async with story_db.write() as conn:
        await departments.create_department(
            conn, name="城管", categories=("environment",), areas=(), created_by=None, now=START_TIME
        )
    zhou = await coordinator_named(bot, sim, "周协调")

    await zhou.send_command("/case", "W-0001 城管")
    asked = await zhou.wait_for_text("请选择时限等级")
    assert "W-0001" in (asked.text or "")
    assert asked.inline_buttons == [["紧急（2 小时）"], ["水电气（24 小时）"], ["一般（7 天）"], ["复杂（15 天）"]]
    async with story_db.read() as conn:
        assert await case_store.count_open(conn) == 0  # nothing sent before the tier is chosen
    again = button_data(asked, "水电气（24 小时）")

    await zhou.press("水电气（24 小时）")
    sent = await zhou.wait_for_text("已派单 C-0001")
    assert "水电气（24 小时）" in (sent.text or "")
    await zhou.wait_for(lambda: asked.inline_buttons == [], what="the tier buttons taken away")
    async with story_db.read() as conn:
        case = await case_store.get_case(conn, 1)
    assert (case.tier, case.status) == ("utility", "sent")

    # The same button pressed again (a double tap) sends nothing twice.
    sim.callback_query(zhou, asked, again)
    await zhou.wait_for(lambda: any("已派给该部门" in a for a in zhou.callback_answers), what="the refusal")
    async with story_db.read() as conn:
        assert await case_store.count_open(conn) == 1


async def test_a_department_named_alone_gets_its_categories_chosen_with_buttons(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    zhou = await coordinator_named(bot, sim, "周协调")
    await zhou.send_command("/newdept", "水务")
    asked = await zhou.wait_for_text("请选择部门 水务 负责的类别")
    labels = [label for row in asked.inline_buttons for label in row]
    assert {"环境整治", "助老助残", "交通劝导", "✅ 完成"} <= set(labels)

    await zhou.press("✅ 完成")  # nothing chosen yet
    await zhou.wait_for(lambda: any("至少选一个类别" in a for a in zhou.callback_answers), what="at least one")
    await zhou.press("环境整治")
    await wait_for_button(zhou, "✅ 环境整治")
    await zhou.press("助老助残")
    await wait_for_button(zhou, "✅ 助老助残")
    await zhou.press("✅ 环境整治")  # chosen by mistake: pressed again, it is taken out
    await zhou.wait_for(lambda: "✅ 环境整治" not in str(asked.inline_buttons), what="环境整治 taken out")
    await zhou.press("✅ 完成")
    created = await zhou.wait_for_text("已创建部门 水务")
    assert "1 个类别" in (created.text or "")

    async with story_db.read() as conn:
        made = await departments.find_department(conn, "水务")
    assert made.categories == ("elderly_disabled",)
    assert made.areas  # no areas typed: all of them


async def test_hours_are_exported_with_the_chinese_word(bot: TongxinApp, sim: BotApiSimulator) -> None:
    coordinator = sim.person("管理员", user_id=ADMIN_ID)
    await coordinator.send_command("/export", "时长", "2026-11-01", "2026-11-30")
    reply = await coordinator.next_message()
    assert reply.document_name == "tongxin-hours-2026-11-01-2026-11-30.csv"
    assert "服务时长" in (reply.text or "")


async def test_export_alone_offers_the_kinds_and_a_press_sends_the_file(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    await open_wish(story_db, alice)
    coordinator = sim.person("管理员", user_id=ADMIN_ID)
    await coordinator.send_command("/export")
    asked = await coordinator.next_message()
    assert "导出" in (asked.text or "")
    assert asked.inline_buttons == [["心愿"], ["报料"], ["服务时长"], ["部门案件"]]

    await coordinator.press("心愿")
    exported = await coordinator.next_message()
    assert (exported.document_name or "").startswith("tongxin-wishes-")
    rows = list(csv.DictReader(io.StringIO((exported.document_bytes or b"").decode("utf-8-sig"))))
    assert [row["ref"] for row in rows] == ["W-0001"]
    assert alice.phone in rows[0]["phone"]  # coordinators' exports carry phones (defused: it starts with "+")
