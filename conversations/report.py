"""The monthly report (/report on Telegram, 月报 in the WeCom application) in words and as a PDF, written once for
every channel: the one-line summary (Telegram's caption, the first line of WeCom's text), the main figures one line
each, and what the PDF says (`rules.report_pdf` draws it). A channel passes how it fills a catalogue text in the
reader's language (`Fill`: Telegram HTML, or WeCom's plain text) and `plain`, the text drawn as is into the PDF.

The figures come from `actions.report.month_report`; nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from conversations.figures import Fill
from rules.cases import Rates, month_bounds
from rules.charts import Panel, percent_panel
from rules.exports import local_range
from rules.monthly_report import MonthlyFigures
from rules.report_pdf import Chart, ReportText, Section, render
from storage.report import EventLevel

DEPARTMENTS_SHOWN = 30  # rows of the 三率 table (one page)


def filename(figures: MonthlyFigures) -> str:
    """The PDF's name as the reader sees it."""
    return f"tongxin-report-{figures.month.label}.pdf"


def summary(fill: Fill, figures: MonthlyFigures) -> str:
    """The month in one line: Telegram's caption under the PDF, the first line of WeCom's figures."""
    return fill(
        "report.caption",
        month=figures.month.label,
        wishes=figures.wishes,
        tips=figures.tips,
        reports=figures.reports_published,
    )


def figure_rows(plain: Fill, figures: MonthlyFigures) -> list[tuple[str, str]]:
    """The month's main figures: (what, how many with its unit)."""
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
    return [(plain(label), plain(unit, n=value)) for label, unit, value in lines]


def figures_text(fill: Fill, plain: Fill, figures: MonthlyFigures) -> str:
    """The summary and the main figures one line each, and each department's 三率 (text channels: WeCom's 月报)."""
    lines = [summary(fill, figures), "", plain("report.section.figures")]
    lines += [f"· {label}：{value}" for label, value in figure_rows(plain, figures)]
    measured = figures.rates[:DEPARTMENTS_SHOWN]
    if measured:
        lines += ["", plain("report.section.rates")]
        for rank, r in enumerate(measured, start=1):
            rates = "、".join(
                f"{plain(key)} {rate_cell(plain, rate)}"
                for key, rate in (
                    ("rates.response", r.response_rate),
                    ("rates.resolution", r.resolution_rate),
                    ("rates.satisfaction", r.satisfaction_rate),
                )
            )
            lines.append(f"{rank}. {r.name}（{r.sent}）：{rates}")
    return "\n".join(lines)


def rate_cell(plain: Fill, rate: float | None) -> str:
    """A rate as printed: 87.5%, or 暂无数据 where there is nothing to measure (never 0 %)."""
    return plain("rates.no_data") if rate is None else f"{rate * 100:.1f}%"


def figures_section(plain: Fill, figures: MonthlyFigures) -> Section:
    """The month's main figures, one line each."""
    return Section(
        plain("report.section.figures"),
        (plain("report.col_item"), plain("report.col_value")),
        figure_rows(plain, figures),
    )


def events_section(plain: Fill, events: Sequence[EventLevel]) -> Section:
    """Public-opinion events by level, with their clocks met and missed."""
    rows = [(plain(f"report.level.{e.level}"), str(e.raised), str(e.clocks_met), str(e.clocks_missed)) for e in events]
    head = tuple(plain(f"report.events.{k}") for k in ("level", "raised", "met", "missed"))
    return Section(plain("report.section.events"), head, rows, plain("report.events.none"), (60, 40, 40, 40))


def rates_section(plain: Fill, rates: Sequence[Rates]) -> Section:
    """三率 per department, ranked; 暂无数据 where a department had nothing to measure."""
    rows = [
        (
            str(rank),
            r.name,
            str(r.sent),
            rate_cell(plain, r.response_rate),
            rate_cell(plain, r.resolution_rate),
            rate_cell(plain, r.satisfaction_rate),
        )
        for rank, r in enumerate(rates[:DEPARTMENTS_SHOWN], start=1)
    ]
    head = tuple(plain(f"report.rates.{k}") for k in ("rank", "department", "cases"))
    head += (plain("rates.response"), plain("rates.resolution"), plain("rates.satisfaction"))
    return Section(plain("report.section.rates"), head, rows, plain("report.rates.none"))


def rates_panels(plain: Fill, rates: Sequence[Rates]) -> list[Panel]:
    """The three rates (in percent, on a 0–100 axis) of the departments with cases, one panel each."""
    shown = [r for r in rates if r.sent]
    names = [r.name for r in shown]

    def panel(key: str, shares: list[float | None]) -> Panel:
        # A department without ratings (or without cases kept) has no rate: no bar and "暂无数据", never 0 %.
        return percent_panel(plain(key), names, shares, plain("rates.no_data"))

    return [
        panel("rates.response", [r.response_rate for r in shown]),
        panel("rates.resolution", [r.resolution_rate for r in shown]),
        panel("rates.satisfaction", [r.satisfaction_rate for r in shown]),
    ]


def charts(plain: Fill, figures: MonthlyFigures) -> list[Chart]:
    """What came in and what was made of it; events by level when there were any; the 三率 of the departments
    that had cases."""
    no_data = plain("rates.no_data")

    def counts(title_key: str, keys: Sequence[str], values: Sequence[float]) -> Panel:
        return Panel(plain(title_key), [plain(k) for k in keys], list(values), no_data=no_data)

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
    shown = [Chart(plain("report.chart_title", month=figures.month.label), panels)]
    measured = figures.departments_with_cases[:DEPARTMENTS_SHOWN]
    if measured:
        shown.append(Chart(plain("rates.chart_title", month=figures.month.label), rates_panels(plain, measured)))
    return shown


def report_text(plain: Fill, tz: ZoneInfo, now: dt.datetime, figures: MonthlyFigures) -> ReportText:
    """What the PDF says, in the reader's language."""
    start, end = month_bounds(figures.month.year, figures.month.month, tz)
    first, last = local_range(start, end, tz)
    return ReportText(
        title=plain("report.title", month=figures.month.label),
        period=plain("report.period", first=first.isoformat(), last=last.isoformat(), tz=str(tz)),
        sections=[
            figures_section(plain, figures),
            events_section(plain, figures.events),
            rates_section(plain, figures.rates),
        ],
        charts=charts(plain, figures),
        footer=plain("report.footer", at=now.astimezone(tz).strftime("%Y-%m-%d %H:%M")),
    )


def pdf(plain: Fill, tz: ZoneInfo, now: dt.datetime, figures: MonthlyFigures, font: Path) -> bytes:
    """The report as a PDF (a moment of CPU: call it off the event loop); `OSError` when the font cannot be read."""
    return render(report_text(plain, tz, now, figures), font)
