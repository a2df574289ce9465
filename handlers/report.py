"""`/report [2026-11|上月|本月]` (and `/export 月报 …`): the month's work of the three centres as a PDF with charts,
for coordinators and admins, in the reader's language (Chinese first).

The figures come from `actions.report`; this module only words them (catalogue `report.po`) and sends the file
`rules.report_pdf` draws. A month in which nothing happened is said in one line, not sent as an empty document.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler

from actions import report as report_actions
from bot.context import TongxinContext
from handlers.common import actor_of
from handlers.rates import rates_panels
from rules.cases import Rates, month_bounds
from rules.charts import Panel
from rules.exports import local_range
from rules.monthly_report import MonthlyFigures, ReportMonthError
from rules.report_pdf import Chart, ReportText, Section, render
from storage.errors import NotAllowed
from storage.report import EventLevel

log = logging.getLogger(__name__)

DEPARTMENTS_SHOWN = 30  # rows of the 三率 table (one page)
LEVELS = ("I", "II", "III", "IV")
# /export's word for the report, Chinese first (`/export 月报 2026-11`).
EXPORT_WORDS = ("月报", "月度报告", "report")


def rate_cell(context: TongxinContext, rate: float | None) -> str:
    """A rate as printed: 87.5%, or 暂无数据 where there is nothing to measure (never 0 %)."""
    return context.plain("rates.no_data") if rate is None else f"{rate * 100:.1f}%"


def figures_section(context: TongxinContext, figures: MonthlyFigures) -> Section:
    """The month's main figures, one line each."""
    hours = f"{figures.verified_hours:g}"
    lines = (
        ("report.wishes", "report.unit.items", figures.wishes),
        ("report.tips", "report.unit.items", figures.tips),
        ("report.projects", "report.unit.projects", figures.projects),
        ("report.activities", "report.unit.activities", figures.activities_held),
        ("report.verified_hours", "report.unit.hours", hours),
        ("report.media_products", "report.unit.products", figures.media_products),
        ("report.reports_published", "report.unit.reports", figures.reports_published),
    )
    return Section(
        context.plain("report.section.figures"),
        (context.plain("report.col_item"), context.plain("report.col_value")),
        [(context.plain(label), context.plain(unit, n=value)) for label, unit, value in lines],
    )


def events_section(context: TongxinContext, events: Sequence[EventLevel]) -> Section:
    """Public-opinion events by level, with their clocks met and missed."""
    rows = [
        (context.plain(f"report.level.{e.level}"), str(e.raised), str(e.clocks_met), str(e.clocks_missed))
        for e in events
    ]
    head = tuple(context.plain(f"report.events.{k}") for k in ("level", "raised", "met", "missed"))
    return Section(
        context.plain("report.section.events"), head, rows, context.plain("report.events.none"), (60, 40, 40, 40)
    )


def rates_section(context: TongxinContext, rates: Sequence[Rates]) -> Section:
    """三率 per department, ranked; 暂无数据 where a department had nothing to measure."""
    rows = [
        (
            str(rank),
            r.name,
            str(r.sent),
            rate_cell(context, r.response_rate),
            rate_cell(context, r.resolution_rate),
            rate_cell(context, r.satisfaction_rate),
        )
        for rank, r in enumerate(rates[:DEPARTMENTS_SHOWN], start=1)
    ]
    head = tuple(context.plain(f"report.rates.{k}") for k in ("rank", "department", "cases"))
    head += (context.plain("rates.response"), context.plain("rates.resolution"), context.plain("rates.satisfaction"))
    return Section(context.plain("report.section.rates"), head, rows, context.plain("report.rates.none"))


def charts(context: TongxinContext, figures: MonthlyFigures) -> list[Chart]:
    """What came in and what was made of it; events by level when there were any; the 三率 of the departments
    that had cases."""
    no_data = context.plain("rates.no_data")

    def counts(title_key: str, keys: Sequence[str], values: Sequence[float]) -> Panel:
        return Panel(context.plain(title_key), [context.plain(k) for k in keys], list(values), no_data=no_data)

    panels = [
        counts("report.chart_in", ("report.wishes", "report.tips"), (figures.wishes, figures.tips)),
        counts(
            "report.chart_out",
            ("report.activities", "report.media_products", "report.reports_published"),
            (figures.activities_held, figures.media_products, figures.reports_published),
        ),
    ]
    if figures.events:
        panels.append(
            counts(
                "report.section.events",
                [f"report.level.{e.level}" for e in figures.events],
                [e.raised for e in figures.events],
            )
        )
    shown = [
        Chart(context.plain("report.chart_title", month=figures.month.label), panels),
    ]
    measured = figures.departments_with_cases[:DEPARTMENTS_SHOWN]
    if measured:
        title = context.plain("rates.chart_title", month=figures.month.label)
        shown.append(Chart(title, rates_panels(context, measured)))
    return shown


def report_text(context: TongxinContext, figures: MonthlyFigures) -> ReportText:
    """What the PDF says, in the reader's language."""
    tz = context.settings.tz
    start, end = month_bounds(figures.month.year, figures.month.month, tz)
    first, last = local_range(start, end, tz)
    return ReportText(
        title=context.plain("report.title", month=figures.month.label),
        period=context.plain("report.period", first=first.isoformat(), last=last.isoformat(), tz=str(tz)),
        sections=[
            figures_section(context, figures),
            events_section(context, figures.events),
            rates_section(context, figures.rates),
        ],
        charts=charts(context, figures),
        footer=context.plain("report.footer", at=context.now().astimezone(tz).strftime("%Y-%m-%d %H:%M")),
    )


async def send_report(message: Message, context: TongxinContext, word: str | None) -> None:
    """The report of the month `word` names (None: the last full month), as a PDF in reply to `message`."""
    try:
        figures = await report_actions.month_report(context.env, actor_of(context), word)
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    except ReportMonthError as error:
        await message.reply_text(context.t(error.reason))
        return
    if figures.empty:
        await message.reply_text(context.t("report.empty", month=figures.month.label))
        return
    font = context.settings.certificate_font
    try:
        # Drawing the charts and the PDF take a moment of CPU: off the event loop.
        pdf = await asyncio.to_thread(render, report_text(context, figures), font)
    except OSError:
        # The font file is missing or unreadable: an operator's matter (CERTIFICATE_FONT), not the reader's.
        log.exception("cannot draw the report of %s with font %s", figures.month.label, font)
        await message.reply_text(context.t("report.error.font"))
        return
    await message.reply_document(
        InputFile(pdf, filename=f"tongxin-report-{figures.month.label}.pdf"),
        caption=context.t(
            "report.caption",
            month=figures.month.label,
            wishes=figures.wishes,
            tips=figures.tips,
            reports=figures.reports_published,
        ),
        parse_mode=ParseMode.HTML,
    )


async def report_command(update: Update, context: TongxinContext) -> None:
    """/report [month]: the month's report (default: the last full month)."""
    if (message := update.effective_message) is None or context.person is None:
        return
    await send_report(message, context, "".join(context.args or []) or None)


def conversations() -> list[BaseHandler[Update, TongxinContext, object]]:
    """No conversations here."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/report."""
    return [CommandHandler("report", report_command)]
