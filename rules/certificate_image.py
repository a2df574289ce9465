"""The 志愿服务记录证明 as an image, for channels that cannot send a file (WeChat's customer-service messages carry
text, images, voice, video and menus, no documents): the same `CertificateText` as the PDF, laid out on an A4-shaped
PNG with Pillow (already installed for the charts) and the same CJK font, its QR code leading to the verification
link. A plain function from what the certificate says to bytes; Pillow is imported on the first image.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from rules.certificate_pdf import SIMPLIFIED_CHINESE_FACE, CertificateText, qr_png

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
MARGIN = 90
RED = (170, 30, 30)
INK = (20, 20, 20)
GREY = (90, 90, 90)
ROWS_SHOWN = 20  # table rows that fit above the seal; the rest are counted (`CertificateText.more_rows`)
ROW_HEIGHT = 34


def render_png(text: CertificateText, font: Path) -> bytes:
    """The certificate as PNG bytes (`OSError` when the font cannot be read, as for the PDF); its table shows
    `ROWS_SHOWN` rows, and `text.more_rows` says how many more there are (`conversations.certificate.text_of` with
    `rows_shown=ROWS_SHOWN`)."""
    from PIL import Image, ImageDraw, ImageFont

    face = SIMPLIFIED_CHINESE_FACE if font.suffix.lower() == ".ttc" else 0

    def sized(size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(font), size, index=face)

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, WIDTH - 30, HEIGHT - 30), outline=RED, width=6)
    title = sized(60)
    width = draw.textlength(text.title, font=title)
    draw.text(((WIDTH - width) / 2, 90), text.title, font=title, fill=RED)
    y = 200
    body = sized(30)
    for line in _wrapped(draw, text.body, body, WIDTH - 2 * MARGIN):
        draw.text((MARGIN, y), line, font=body, fill=INK)
        y += 44
    y += 16
    for label, value in text.facts:
        draw.text((MARGIN, y), label, font=body, fill=INK)
        draw.text((MARGIN + 260, y), _fit(draw, value, body, WIDTH - 2 * MARGIN - 260), font=body, fill=INK)
        y += 44
    y = _table(draw, text, sized(22), y + 24)
    qr = Image.open(io.BytesIO(qr_png(text.verify_link, scale=6))).convert("RGB").resize((240, 240))
    top = max(y + 30, HEIGHT - 360)
    image.paste(qr, (MARGIN, top))
    draw.text((MARGIN + 300, top + 20), text.issuer, font=sized(34), fill=INK)
    draw.text((MARGIN + 300, top + 80), text.issued, font=sized(28), fill=INK)
    small = sized(22)
    line_y = top + 140
    for line in _wrapped(draw, text.verify, small, WIDTH - 2 * MARGIN - 300):
        draw.text((MARGIN + 300, line_y), line, font=small, fill=GREY)
        line_y += 32
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _table(draw: ImageDraw.ImageDraw, text: CertificateText, font: ImageFont.FreeTypeFont, y: int) -> int:
    widths = (200, 560, 200, 100)
    x0 = MARGIN
    height = ROW_HEIGHT
    for index, row in enumerate([text.table_head, *text.rows[:ROWS_SHOWN]]):
        x = x0
        fill = (245, 230, 230) if index == 0 else None
        for width, value in zip(widths, row, strict=True):
            draw.rectangle((x, y, x + width, y + height), outline=GREY, width=1, fill=fill)
            draw.text((x + 8, y + 5), _fit(draw, value, font, width - 16), font=font, fill=INK)
            x += width
        y += height
    if text.more_rows:
        draw.rectangle((x0, y, x0 + sum(widths), y + height), outline=GREY, width=1)
        draw.text((x0 + 8, y + 5), text.more_rows, font=font, fill=INK)
        y += height
    return y


def _fit(draw: ImageDraw.ImageDraw, value: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """The value cut with an ellipsis so it fits `width` pixels."""
    if draw.textlength(value, font=font) <= width:
        return value
    while value and draw.textlength(value + "…", font=font) > width:
        value = value[:-1]
    return value + "…"


def _wrapped(draw: ImageDraw.ImageDraw, value: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """The text broken into lines of at most `width` pixels, character by character (Chinese has no spaces)."""
    lines: list[str] = []
    for paragraph in value.split("\n"):
        current = ""
        for char in paragraph:
            if current and draw.textlength(current + char, font=font) > width:
                lines.append(current)
                current = ""
            current += char
        lines.append(current)
    return lines
