"""The 志愿服务记录证明 as a PDF: a plain function from what the certificate says to bytes.

fpdf2 embeds a subset of a CJK font (Noto Sans CJK from Debian's fonts-noto-cjk by default: a TrueType
collection whose Simplified Chinese face is number 2), so the file reads the same everywhere; the QR code
(segno) carries the verification link. The text is given already translated: this module decides layout only.
fpdf2 is imported on the first certificate, not with the bot (about 17 MB of resident memory otherwise).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import segno

if TYPE_CHECKING:
    from fpdf import FPDF

# Faces of the Noto Sans CJK collection: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK.
SIMPLIFIED_CHINESE_FACE = 2
MAX_ROWS = 40


@dataclass(frozen=True, slots=True)
class CertificateText:
    """Everything printed on the certificate, in the holder's language, values filled in."""

    title: str
    body: str  # "兹证明 … 共计 … 小时" (one paragraph)
    facts: list[tuple[str, str]]  # label → value lines (name, volunteer number, period, hours, number)
    table_head: tuple[str, str, str, str]  # date, what, reference, hours
    rows: list[tuple[str, str, str, str]]
    more_rows: str  # "… and N more" when the table was cut ("" otherwise)
    issuer: str
    issued: str  # "签发日期：2026-12-01"
    verify: str  # "扫码或发送 /verify CODE 核验"
    verify_link: str


def qr_png(data: str, *, scale: int = 8) -> bytes:
    """A QR code of `data` as a PNG image."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def render(text: CertificateText, font: Path) -> bytes:
    """The certificate as PDF bytes (A4 portrait)."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(text.title)
    pdf.add_page()
    add_cjk_font(pdf, font)
    pdf.set_draw_color(170, 30, 30)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, 194, 281)
    pdf.set_font("cjk", size=24)
    pdf.set_text_color(170, 30, 30)
    pdf.ln(8)
    pdf.cell(0, 14, text.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(0, 8, text.body, align="L", wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in text.facts:
        pdf.cell(40, 8, label)
        pdf.cell(0, 8, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _table(pdf, text)
    pdf.ln(6)
    y = pdf.get_y()
    if y > 230:
        pdf.add_page()
        y = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(text.verify_link)), x=22, y=y, w=36, h=36)
    pdf.set_xy(70, y + 4)
    pdf.set_font("cjk", size=13)
    pdf.cell(0, 8, text.issuer, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(70)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 8, text.issued, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(70)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(120, 6, text.verify, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def add_cjk_font(pdf: FPDF, font: Path) -> None:
    """Make `font` the document's font family "cjk" (a collection's Simplified Chinese face)."""
    options = {"collection_font_number": SIMPLIFIED_CHINESE_FACE} if font.suffix.lower() == ".ttc" else {}
    pdf.add_font("cjk", fname=str(font), **options)  # type: ignore[arg-type]


def _table(pdf: FPDF, text: CertificateText) -> None:
    widths = (30, 92, 34, 24)
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(0.2)
    pdf.set_font("cjk", size=10)
    pdf.set_fill_color(245, 230, 230)
    for width, head in zip(widths, text.table_head, strict=True):
        pdf.cell(width, 8, head, border=1, fill=True, align="C")
    pdf.ln()
    for row in text.rows[:MAX_ROWS]:
        for width, value, align in zip(widths, row, ("C", "L", "C", "R"), strict=True):
            pdf.cell(width, 7, fit_text(pdf, value, width - 2), border=1, align=align)
        pdf.ln()
    if text.more_rows:
        pdf.cell(sum(widths), 7, text.more_rows, border=1, align="C", new_x="LMARGIN", new_y="NEXT")


def fit_text(pdf: FPDF, value: str, width: float) -> str:
    """The value cut with an ellipsis so it fits its cell."""
    if pdf.get_string_width(value) <= width:
        return value
    while value and pdf.get_string_width(value + "…") > width:
        value = value[:-1]
    return value + "…"
