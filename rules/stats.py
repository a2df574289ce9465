"""The figures of /stats: which period, medians of waiting times, and the shape the reply and chart use.

`figures` asks `storage.stats` for the counts and rows of one period and puts them together; handlers render
the text and the chart.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from storage import stats as store

PERIODS: dict[str, int | None] = {"7d": 7, "30d": 30, "all": None}
DEFAULT_PERIOD = "7d"
# Typed period words, Chinese first; `7d`, `30d`, `all` (and `7`, `30`) keep working.
PERIOD_WORDS = {"7天": "7d", "30天": "30d", "全部": "all", "所有": "all"}


def parse_period(word: str | None) -> str:
    """`7天`, `30天` or `全部` (also `7d`, `30d`, `all`, `7`, `30`); anything else is the default."""
    if word is None:
        return DEFAULT_PERIOD
    word = word.strip().lower()
    word = PERIOD_WORDS.get(word, word)
    if word in PERIODS:
        return word
    if f"{word}d" in PERIODS:
        return f"{word}d"
    return DEFAULT_PERIOD


def period_start(period: str, now: dt.datetime) -> dt.datetime | None:
    """Where the period begins (None: all time)."""
    days = PERIODS[period]
    return None if days is None else now - dt.timedelta(days=days)


def median_hours(spans: Iterable[tuple[dt.datetime, dt.datetime | None]]) -> float | None:
    """The median of (end - start) in hours over the pairs that have an end; None if there are none."""
    hours = [(end - start).total_seconds() / 3600 for start, end in spans if end is not None and end >= start]
    return round(statistics.median(hours), 1) if hours else None


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything /stats reports for one period."""

    period: str
    wishes_by_status: dict[str, int] = field(default_factory=dict)
    wishes_by_category: dict[str, int] = field(default_factory=dict)
    wishes_by_area: dict[str, int] = field(default_factory=dict)
    median_hours_to_claim: float | None = None
    median_hours_to_done: float | None = None
    volunteer_hours: float = 0.0
    volunteer_tasks: int = 0
    tips_by_status: dict[str, int] = field(default_factory=dict)

    @property
    def wishes(self) -> int:
        """How many wishes were submitted in the period."""
        return sum(self.wishes_by_status.values())

    @property
    def tips(self) -> int:
        """How many tips came in during the period."""
        return sum(self.tips_by_status.values())


async def figures(conn: AsyncConnection, period: str, since: dt.datetime | None) -> Figures:
    """The figures of wishes submitted and tips received since `since` (None: all time)."""
    total_hours, tasks = await store.confirmed_hours(conn, since)
    return Figures(
        period=period,
        wishes_by_status=await store.wishes_by(conn, "status", since),
        wishes_by_category=await store.wishes_by(conn, "category", since),
        wishes_by_area=await store.wishes_by(conn, "area", since),
        median_hours_to_claim=await store.median_hours(conn, since, "claimed_at"),
        median_hours_to_done=await store.median_hours(conn, since, "done_at"),
        volunteer_hours=round(total_hours, 1),
        volunteer_tasks=tasks,
        tips_by_status=await store.tips_by_status(conn, since),
    )
