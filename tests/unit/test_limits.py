"""Abuse limits as plain rules: the local day, the daily quota and the one-minute message window; and the gate
that keeps the bot's requests within Telegram's flood limit, on a fake clock."""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import random
from zoneinfo import ZoneInfo

import pytest

from channels.telegram.limits import SAFE_WINDOW, Start, StartWindow
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


# The flood gate (`channels.telegram.limits.StartWindow`), driven with a fake clock: requests wait for it, start,
# arrive at Telegram after a delay and are answered just after. Telegram's strictest plausible limiter refuses a
# request when 30 others arrived in the second before it.


def _drive_gate(delays: list[float], *, answer: bool = True) -> tuple[list[float], list[float]]:
    """Start one request after another as soon as the gate lets it; each arrives `delay` seconds after its start
    and is answered 1 ms later (or never, `answer=False`). Returns the start and arrival times."""
    gate = StartWindow(30, SAFE_WINDOW)
    answers: list[tuple[float, int, Start]] = []
    starts: list[float] = []
    arrivals: list[float] = []
    now = 0.0
    for n, delay in enumerate(delays):
        while True:
            while answers and answers[0][0] <= now:
                at, _, start = heapq.heappop(answers)
                gate.answered(start, at)
            wait = gate.wait(now)
            if wait == 0:
                break
            # An answer coming back meanwhile may move the gate's time either way: look again then.
            now = min(now + wait, answers[0][0]) if answers else now + wait
        start = gate.start(now)
        starts.append(now)
        arrivals.append(now + delay)
        if answer:
            heapq.heappush(answers, (now + delay + 0.001, n, start))
    return starts, sorted(arrivals)


def _most_in_any(times: list[float], span: float) -> int:
    """The most of `times` (sorted) in any half-open window of `span` seconds, as the simulator counts."""
    return max(bisect.bisect_left(times, at + span) - i for i, at in enumerate(times))


def test_the_gate_never_lets_31_requests_reach_a_strict_window_whatever_delays_them() -> None:
    rng = random.Random(11)
    # The network's 0-50 ms, and one request in twenty held 300 ms longer by a busy loop.
    delays = [rng.uniform(0, 0.05) + (0.3 if rng.random() < 0.05 else 0.0) for _ in range(3000)]
    _, arrivals = _drive_gate(delays)
    assert _most_in_any(arrivals, 1.0) == 30


def test_with_network_jitter_the_gate_still_reaches_the_safe_rate() -> None:
    rng = random.Random(12)
    starts, arrivals = _drive_gate([rng.uniform(0, 0.05) for _ in range(3000)])
    assert _most_in_any(arrivals, 1.0) == 30
    # At least 30 in any 1.05 s (95.2% of the cap): answers that come back sooner let the next start sooner.
    assert (len(starts) - 1) / (starts[-1] - starts[0]) >= 30 / SAFE_WINDOW


def test_requests_not_answered_yet_are_held_to_30_starts_in_any_safe_window() -> None:
    starts, _ = _drive_gate([0.02] * 500, answer=False)
    assert _most_in_any(starts, SAFE_WINDOW) == 30
    assert (len(starts) - 1) / (starts[-1] - starts[0]) > 0.99 * 30 / SAFE_WINDOW
