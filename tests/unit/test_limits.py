"""Abuse limits as plain rules: the local day, the daily quota and the one-minute message window."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from rules.limits import MessageRate, RateVerdict, check_daily_quota, local_day_start, quota_left
from storage.errors import LimitReached

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_day_starts_at_local_midnight() -> None:
    # 01:00 in Shanghai is still the previous day in UTC.
    now = dt.datetime(2026, 11, 26, 17, 0, tzinfo=dt.UTC)
    assert local_day_start(now, SHANGHAI) == dt.datetime(2026, 11, 26, 16, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("used", "per_day", "refused"), [(0, 5, False), (4, 5, False), (5, 5, True), (9, 5, True)])
def test_daily_quota(used: int, per_day: int, refused: bool) -> None:
    if refused:
        with pytest.raises(LimitReached):
            check_daily_quota(used, per_day)
    else:
        check_daily_quota(used, per_day)
    assert quota_left(used, per_day) == max(0, per_day - used)


def test_thirty_messages_a_minute_pass_the_thirty_first_is_slowed_once() -> None:
    rate = MessageRate()
    start = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    verdicts = [rate.record(1, start + dt.timedelta(seconds=i)) for i in range(30)]
    assert set(verdicts) == {RateVerdict.OK}
    assert rate.record(1, start + dt.timedelta(seconds=30)) is RateVerdict.SLOW_DOWN
    assert rate.record(1, start + dt.timedelta(seconds=31)) is RateVerdict.STILL_SLOWED
    assert rate.record(2, start + dt.timedelta(seconds=31)) is RateVerdict.OK  # others are not affected
    # A minute after the first message, the window has room again.
    assert rate.record(1, start + dt.timedelta(seconds=60)) is RateVerdict.OK


def test_idle_people_are_forgotten() -> None:
    rate = MessageRate()
    start = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    rate.record(1, start)
    rate.forget_idle(start + dt.timedelta(minutes=2))
    assert rate.free_at(1) < start
