"""The certificate PDF as a plain function: a CJK font embedded, the QR code drawn, a missing font refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from rules.certificate_pdf import CertificateText, qr_png, render

FONT = Settings.model_fields["certificate_font"].default


def sample(rows: int = 3) -> CertificateText:
    return CertificateText(
        title="志愿服务记录证明",
        body="兹证明 小李 参加志愿服务，累计 6.5 小时。",
        facts=[("姓名", "小李"), ("证明编号", "TX-2026-000001")],
        table_head=("日期", "服务内容", "编号", "时长"),
        rows=[("2026-11-28", "敬老院义诊" * 8, f"A-{n:04d}", "2") for n in range(rows)],
        more_rows="……另有 2 条记录" if rows > 40 else "",
        issuer="新时代文明实践中心",
        issued="签发日期：2026-11-28",
        verify="核验码 K7Q2M9XA",
        verify_link="https://t.me/tongxin_bot?start=verify_K7Q2M9XA",
    )


def test_the_pdf_embeds_a_subset_of_the_cjk_font() -> None:
    pdf = render(sample(), Path(FONT))
    assert pdf.startswith(b"%PDF")
    assert b"/FontFile" in pdf  # embedded, not referenced by name
    assert len(pdf) < 200_000  # a subset, not the whole 20 MB collection


def test_a_long_record_spills_onto_a_second_page_and_is_cut_at_forty_rows() -> None:
    assert render(sample(rows=42), Path(FONT)).count(b"/Type /Page\n") >= 2


def test_a_missing_font_is_an_os_error_the_handler_reports() -> None:
    with pytest.raises(FileNotFoundError):
        render(sample(), Path("/nonexistent/font.ttf"))


def test_the_qr_code_is_a_png() -> None:
    assert qr_png("https://t.me/tongxin_bot?start=ck_123456").startswith(b"\x89PNG")
