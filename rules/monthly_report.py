"""The monthly report's month and figures: which local month a typed word names, and what the centres did in it.

Figures (one local month, boundaries in the district's time zone):
  needs collected    = wishes submitted in the month;
  leads received     = tips sent in the month;
  projects           = projects that held an activity in the month; activities held and their verified hours;
  media products     = tips first accepted (or published straight away) in the month;
  reports published  = tips published in the month;
  events             = public-opinion events by level with their clocks met and missed (`storage.report`);
  三率               = per department over the cases sent to it in the month, ranked (`rules.cases`).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from rules.cases import Rates, month_bounds, rates_between
from storage import activities as activity_store
from storage import report as store
from storage.report import EventLevel

WORD_MAX = 16  # longer than any month word: anything longer is refused before it is read
FIRST_YEAR = 2000
# Month words, Chinese first: how many months back from the current one.
RELATIVE = {"上月": 1, "上个月": 1, "本月": 0, "这个月": 0, "当月": 0, "last": 1, "this": 0}
NUMERIC = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")
MONTH_ONLY = re.compile(r"(\d{1,2})\s*月")


class ReportMonthError(ValueError):
    """The month of a /report cannot be read or has not begun; `reason` is a message key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Month:
    """One local month."""

    year: int
    month: int

    @property
    def label(self) -> str:
        """As people write it: 2026-11."""
        return f"{self.year}-{self.month:02d}"

    def shifted(self, months: int) -> Month:
        """The month `months` later (negative: earlier)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)


def parse_report_month(word: str | None, now: dt.datetime, tz: zoneinfo.ZoneInfo) -> Month:
    """`2026-11`, `2026年11月`, `11月` (this year), `上月`, `本月` (or `last`, `this`); None: the last full month.
    `ReportMonthError` for anything else and for a month that has not begun."""
    local = now.astimezone(tz)
    current = Month(local.year, local.month)
    if word is None or not word.strip():
        return current.shifted(-1)
    cleaned = word.strip().lower()
    if len(cleaned) > WORD_MAX:
        raise ReportMonthError("report.bad_month")
    if cleaned in RELATIVE:
        return current.shifted(-RELATIVE[cleaned])
    if match := NUMERIC.fullmatch(cleaned):
        year, month = int(match.group(1)), int(match.group(2))
    elif match := MONTH_ONLY.fullmatch(cleaned):
        year, month = current.year, int(match.group(1))
    else:
        raise ReportMonthError("report.bad_month")
    if not 1 <= month <= 12 or year < FIRST_YEAR:
        raise ReportMonthError("report.bad_month")
    if (year, month) > (current.year, current.month):
        raise ReportMonthError("report.future_month")
    return Month(year, month)


@dataclass(frozen=True, slots=True)
class MonthlyFigures:
    """Everything the monthly report says of one month."""

    month: Month
    wishes: int
    tips: int
    projects: int
    activities_held: int
    verified_hours: float
    media_products: int
    reports_published: int
    events: list[EventLevel]
    rates: list[Rates]

    @property
    def departments_with_cases(self) -> list[Rates]:
        """The ranking of the departments that were sent cases in the month."""
        return [r for r in self.rates if r.sent]

    @property
    def empty(self) -> bool:
        """Nothing at all happened in the month: nothing came in, nothing was done, no case was sent."""
        counts = (self.wishes, self.tips, self.activities_held, self.media_products, self.reports_published)
        return not any(counts) and not self.events and not self.departments_with_cases


async def monthly_figures(conn: AsyncConnection, month: Month, tz: zoneinfo.ZoneInfo) -> MonthlyFigures:
    """The figures of one local month."""
    start, end = month_bounds(month.year, month.month, tz)
    held = await activity_store.activity_figures(conn, start, end)
    return MonthlyFigures(
        month=month,
        wishes=await store.wishes_submitted(conn, start, end),
        tips=await store.tips_received(conn, start, end),
        projects=held.projects,
        activities_held=held.activities_held,
        verified_hours=round(held.verified_hours, 1),
        media_products=await store.tips_taken_on(conn, start, end),
        reports_published=await store.tips_published(conn, start, end),
        events=await store.events_section(conn, start, end),
        rates=await rates_between(conn, start, end),
    )
