"""The activity rules as plain functions: what organizers may type, where a sign-up lands, the radius, hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from rules import activities as rules
from rules.activities import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # Thursday 10:00 in Shanghai


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("11-28 09:30", dt.datetime(2026, 11, 28, 9, 30)),
        ("2026-12-05 14:00", dt.datetime(2026, 12, 5, 14, 0)),
        ("12月5日 8点30", dt.datetime(2026, 12, 5, 8, 30)),
        ("01-03 09:00", dt.datetime(2027, 1, 3, 9, 0)),  # January: next year
    ],
)
def test_start_times_are_read_as_local_time(typed: str, local: dt.datetime) -> None:
    assert rules.parse_start(typed, NOW, SHANGHAI) == local.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("tomorrow", "activity.error.when"),
        ("2026-11-26 09:00", "activity.error.past"),
        ("13-40 25:00", "activity.error.when"),
    ],
)
def test_unreadable_or_past_start_times_are_refused(typed: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.parse_start(typed, NOW, SHANGHAI)
    assert refused.value.reason == reason


@pytest.mark.parametrize(("typed", "minutes"), [("2", 120), ("1.5", 90), ("3小时", 180)])
def test_durations(typed: str, minutes: int) -> None:
    assert rules.parse_duration(typed) == minutes


@pytest.mark.parametrize("typed", ["0", "13", "两个小时", "0.2"])
def test_durations_out_of_bounds(typed: str) -> None:
    with pytest.raises(InvalidInput):
        rules.parse_duration(typed)


@pytest.mark.parametrize(("typed", "ok"), [("5", True), ("20人", True), ("0", False), ("501", False), ("x", False)])
def test_headcounts(typed: str, ok: bool) -> None:
    if ok:
        assert rules.parse_headcount(typed) > 0
    else:
        with pytest.raises(InvalidInput):
            rules.parse_headcount(typed)


def test_a_sign_up_takes_a_place_until_full_then_waits() -> None:
    assert [rules.place_for(n, 2) for n in range(4)] == ["signed_up", "signed_up", "waitlisted", "waitlisted"]


@pytest.mark.parametrize(
    ("minutes", "step", "hours"), [(135, 30, 2.0), (150, 30, 2.5), (29, 30, 0.0), (124, 15, 2.0), (90, 1, 1.5)]
)
def test_hours_are_rounded_down_to_the_step(minutes: int, step: int, hours: float) -> None:
    start = NOW
    assert rules.rounded_hours(start, start + dt.timedelta(minutes=minutes), step) == hours


def test_the_radius() -> None:
    place = (26.6470, 106.6300)
    assert rules.within_radius(place, (26.6479, 106.6300), 500)
    assert not rules.within_radius(place, (26.6670, 106.6300), 500)
    assert 2100 < rules.distance_m(place, (26.6670, 106.6300)) < 2300


def test_the_day_before_reminder_is_at_six_in_the_evening_local_time() -> None:
    starts = dt.datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI)
    assert rules.day_before_moment(starts, SHANGHAI) == dt.datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)


def test_corrections_stay_between_zero_and_a_day() -> None:
    assert rules.adjusted_hours(None, "down") == 0.0
    assert rules.adjusted_hours(2.0, "up") == 2.5
    assert rules.adjusted_hours(24.0, "up") == 24.0


@pytest.mark.parametrize(("text", "number"), [("A-0007", 7), ("a7", 7), ("12", 12), ("W-1", None)])
def test_activity_references(text: str, number: int | None) -> None:
    assert rules.parse_activity_ref(text) == number
