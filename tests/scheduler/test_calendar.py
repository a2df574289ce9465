"""Local-time arithmetic: quiet hours over midnight, and which digest occurrence is due."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from rules.quiet_hours import in_quiet_hours
from scheduler.calendar import is_due, latest_daily, latest_weekly

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of November 2026 in Shanghai, as aware UTC."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(21, 59, False), (22, 0, True), (23, 30, True), (0, 0, True), (7, 59, True), (8, 0, False), (12, 0, False)],
)
def test_quiet_hours_run_over_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert in_quiet_hours(local(26, hour, minute), dt.time(22), dt.time(8), SHANGHAI) is quiet


def test_quiet_hours_within_one_day_and_disabled() -> None:
    assert in_quiet_hours(local(26, 13), dt.time(12), dt.time(14), SHANGHAI)
    assert not in_quiet_hours(local(26, 15), dt.time(12), dt.time(14), SHANGHAI)
    assert not in_quiet_hours(local(26, 3), dt.time(0), dt.time(0), SHANGHAI)


def test_daily_occurrence_is_today_after_its_time_and_yesterday_before() -> None:
    before = latest_daily("coord", local(27, 8, 29), dt.time(8, 30), SHANGHAI)
    after = latest_daily("coord", local(27, 8, 30), dt.time(8, 30), SHANGHAI)
    assert before.label == "coord:2026-11-26"
    assert after.label == "coord:2026-11-27"
    assert after.due_at == local(27, 8, 30)


def test_weekly_occurrence_is_the_last_monday() -> None:
    # 2026-11-30 is a Monday.
    thursday = latest_weekly("volunteer", local(26, 10), 0, dt.time(9), SHANGHAI)
    monday_early = latest_weekly("volunteer", local(30, 8, 59), 0, dt.time(9), SHANGHAI)
    monday = latest_weekly("volunteer", local(30, 9), 0, dt.time(9), SHANGHAI)
    assert thursday.label == "volunteer:2026-11-23"
    assert monday_early.label == "volunteer:2026-11-23"
    assert monday.label == "volunteer:2026-11-30"


def test_a_digest_is_due_from_its_time_for_a_few_hours_only() -> None:
    period = latest_daily("editor", local(27, 9), dt.time(9), SHANGHAI)
    assert is_due(period, local(27, 9))
    assert is_due(period, local(27, 14, 59))
    assert not is_due(period, local(27, 15))
