"""The monthly report as a PDF: a plain function from what the report says (already translated) to bytes.

A title, the period, sections of label/value tables and the charts (drawn with `rules.charts`, so they look like
/stats' and /rates'), in the CJK font the certificate uses (`rules.certificate_pdf.add_cjk_font`). This module
decides layout only; fpdf2 and matplotlib are imported on the first report, not with the bot.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rules.certificate_pdf import add_cjk_font, fit_text
from rules.charts import Panel, render_chart

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_WIDTH = 180  # mm inside the margins of an A4 page
ROW_HEIGHT = 7
RED = (170, 30, 30)


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the report: a heading, a table (its head may be empty; `widths` in mm, default by `_widths`) and
    a line said when it has no rows."""

    heading: str
    head: tuple[str, ...] = ()
    rows: Sequence[tuple[str, ...]] = ()
    empty: str = ""
    widths: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Chart:
    """A row of bar charts under one title (`rules.charts.Panel`s)."""

    title: str
    panels: Sequence[Panel]


@dataclass(frozen=True, slots=True)
class ReportText:
    """Everything printed in the report, in the reader's language, values filled in."""

    title: str
    period: str  # "统计期间：2026-11-01 至 2026-11-30（Asia/Shanghai）"
    sections: list[Section]
    charts: list[Chart]
    footer: str  # "同心 · 生成于 2026-12-03 10:00"


def render(text: ReportText, font: Path) -> bytes:
    """The report as PDF bytes (A4 portrait): CPU work for a worker thread."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(text.title)
    add_cjk_font(pdf, font)
    pdf.add_page()
    pdf.set_font("cjk", size=20)
    pdf.set_text_color(*RED)
    pdf.cell(0, 12, text.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 8, text.period, align="C", new_x="LMARGIN", new_y="NEXT")
    for section in text.sections:
        _section(pdf, section)
    for chart in text.charts:
        _chart(pdf, chart)
    pdf.ln(4)
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(110, 110, 110)
    pdf.cell(0, 6, text.footer, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _heading(pdf: FPDF, heading: str) -> None:
    pdf.ln(4)
    pdf.set_font("cjk", size=13)
    pdf.set_text_color(*RED)
    pdf.cell(0, 9, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=10)


def _section(pdf: FPDF, section: Section) -> None:
    _heading(pdf, section.heading)
    if not section.rows:
        pdf.cell(0, ROW_HEIGHT, section.empty, new_x="LMARGIN", new_y="NEXT")
        return
    columns = len(section.head or section.rows[0])
    widths = section.widths or _widths(columns)
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(0.2)
    if section.head:
        pdf.set_fill_color(245, 230, 230)
        for width, head in zip(widths, section.head, strict=True):
            pdf.cell(width, ROW_HEIGHT + 1, head, border=1, fill=True, align="C")
        pdf.ln()
    for row in section.rows:
        for index, (width, value) in enumerate(zip(widths, row, strict=True)):
            pdf.cell(width, ROW_HEIGHT, fit_text(pdf, value, width - 2), border=1, align="L" if index < 2 else "R")
        pdf.ln()


def _widths(columns: int) -> list[float]:
    """Column widths: label-first tables give the label the room (two columns 120/60; more: 14 for a rank,
    a wide name, the rest equal)."""
    if columns == 2:
        return [120.0, 60.0]
    if columns == 1:
        return [float(PAGE_WIDTH)]
    rest = (PAGE_WIDTH - 14 - 52) / (columns - 2)
    return [14.0, 52.0, *([rest] * (columns - 2))]


def _chart(pdf: FPDF, chart: Chart) -> None:
    png = render_chart(chart.title, chart.panels)
    columns = max(1, len(chart.panels))
    height = PAGE_WIDTH / columns  # the chart is square per panel (rules.charts: 4.2 × 4.2 inches each)
    if pdf.get_y() + height + 6 > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(3)
    pdf.image(io.BytesIO(png), x=pdf.l_margin, w=PAGE_WIDTH, h=height)
