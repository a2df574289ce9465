"""The monthly report's month words: what each names on 3 December 2026 in Shanghai (and at the year's turn)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from rules.monthly_report import Month, ReportMonthError, parse_report_month

SHANGHAI = ZoneInfo("Asia/Shanghai")
DECEMBER_3 = dt.datetime(2026, 12, 3, 2, tzinfo=dt.UTC)
# 16:30 UTC on 31 December is already 1 January 2027 in Shanghai.
NEW_YEAR = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("word", "now", "month"),
    [
        (None, DECEMBER_3, Month(2026, 11)),
        ("", DECEMBER_3, Month(2026, 11)),
        ("上月", DECEMBER_3, Month(2026, 11)),
        ("上个月", DECEMBER_3, Month(2026, 11)),
        ("本月", DECEMBER_3, Month(2026, 12)),
        ("last", DECEMBER_3, Month(2026, 11)),
        ("2026-11", DECEMBER_3, Month(2026, 11)),
        ("2026-3", DECEMBER_3, Month(2026, 3)),
        ("2026年11月", DECEMBER_3, Month(2026, 11)),
        ("2025/12", DECEMBER_3, Month(2025, 12)),
        ("7月", DECEMBER_3, Month(2026, 7)),
        (None, NEW_YEAR, Month(2026, 12)),
        ("本月", NEW_YEAR, Month(2027, 1)),
    ],
)
def test_month_words(word: str | None, now: dt.datetime, month: Month) -> None:
    assert parse_report_month(word, now, SHANGHAI) == month


@pytest.mark.parametrize(
    ("word", "reason"),
    [
        ("2026-13", "report.bad_month"),
        ("13月", "report.bad_month"),
        ("1999-12", "report.bad_month"),
        ("十一月", "report.bad_month"),
        ("2026-11-01", "report.bad_month"),
        ("2" * 40, "report.bad_month"),
        ("2027-01", "report.future_month"),
    ],
)
def test_words_that_name_no_month(word: str, reason: str) -> None:
    with pytest.raises(ReportMonthError) as raised:
        parse_report_month(word, DECEMBER_3, SHANGHAI)
    assert raised.value.reason == reason


def test_a_month_label_and_shift_across_the_year() -> None:
    assert Month(2026, 1).shifted(-1) == Month(2025, 12)
    assert Month(2026, 12).shifted(1).label == "2027-01"
