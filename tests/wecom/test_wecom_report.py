"""The monthly report in the WeCom application (issue 28): 月报 2026-11 (typed, or 更多 → 月报) answers a coordinator
with the month's figures as text — the words of Telegram's /report, written once in `conversations.report` — and
the PDF as a file message, the same document /report sends; other months and other members are answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from tests.stories.test_activities import pdf_text
from tests.stories.test_activities_followup import start_as_admin
from tests.stories.test_monthly_report import (
    cases_around_the_month,
    events_around_the_month,
    report_pdf_text,
    tips_around_the_month,
    utc,
    wishes_around_the_month,
)
from tests.wecom.helpers import wecom_coordinator

SUMMARY = "收集需求 4 条、收到线索 4 条、发布报道 3 篇"


@pytest.mark.both_databases
async def test_the_monthly_report_arrives_as_figures_and_a_pdf_matching_telegrams(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, clock: ManualClock, tmp_path: Path
) -> None:
    env = wecom_bot.bot_data.env
    db = env.db
    await wishes_around_the_month(db)
    await tips_around_the_month(db)
    await cases_around_the_month(db)
    await events_around_the_month(db)
    clock.set(utc(12, 3, 2))
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")

    await chen.send_text("月报 2026-11")
    figures = await chen.wait_for_text("2026-11 月度工作报告")
    received = await chen.wait_for(lambda r: r.kind == "file", timeout=30)  # the PDF takes a moment of CPU
    upload = chen.upload(received)
    assert upload.filename == "tongxin-report-2026-11.pdf"
    assert upload.content.startswith(b"%PDF")
    # The figures, one line each, and each department's 三率, as the PDF has them.
    for line in (
        SUMMARY,
        "· 收集需求（心愿）：4 条",
        "· 收到线索（报料）：4 条",
        "· 融媒体产品（采用报料）：2 件",
        "· 发布报道：3 篇",
        "1. 城管局（2）：响应率 50.0%、办结率 50.0%、满意率 100.0%",
        "2. 供电所（0）：响应率 暂无数据",
    ):
        assert line in figures.text, line
    assert "**" not in figures.text
    assert "<b>" not in figures.text

    # Telegram's /report of the same month at the same moment: the same summary and the same document.
    admin, _ = await start_as_admin(sim, wecom_bot)
    await admin.send_command("/report", "2026-11")
    caption, telegram_text = await report_pdf_text(admin, tmp_path)
    assert figures.text.splitlines()[0] == caption
    wecom_pdf = tmp_path / "wecom.pdf"
    wecom_pdf.write_bytes(upload.content)
    assert "".join((await asyncio.to_thread(pdf_text, wecom_pdf)).split()) == telegram_text


async def test_other_months_and_members_are_answered(
    wecom_bot: TongxinApp, wc: WeComSimulator, clock: ManualClock
) -> None:
    await tips_around_the_month(wecom_bot.bot_data.db)
    clock.set(utc(12, 3, 2))
    chen = await wecom_coordinator(wecom_bot.bot_data.env, wc, "陈主任", "chenzr")
    await chen.send_text("月报 2026-09")
    await chen.wait_for_text("2026-09 没有任何记录")
    await chen.send_text("月报 2027-01")
    await chen.wait_for_text("还没有开始")
    await chen.send_text("月报 13月")
    bad = await chen.wait_for_text("月份请写成")
    assert "/report" not in bad.text
    await chen.click("REPORT")  # the menu's 月报: the last full month (November on 12-03)
    await chen.wait_for_text("2026-11 月度工作报告：收集需求 0 条、收到线索 4 条、发布报道 3 篇")
    await chen.wait_for(lambda r: r.kind == "file", timeout=30)
    xiaowu = wc.member("小吴", "xiaowu")
    await xiaowu.send_text("月报")
    await xiaowu.wait_for_text("这一项需要“协调员”的角色")
    assert all(r.kind == "text" for r in xiaowu.inbox)
