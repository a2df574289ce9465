"""Counting a period from the daily roll-ups (migration 0016): whole UTC days from the roll-up tables, the
partial days at either end from the rows themselves (through their timestamp index), so a query reads at most
two days of rows whatever the size of the tables.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

DAY = dt.timedelta(days=1)


def day_of(at: dt.datetime) -> str:
    """The roll-up key of the UTC day holding `at`."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d")


def _midnight(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Split:
    """[since, until) as whole days [first_day, end_day) (None: unbounded; `whole` False: no whole day) and
    the timestamp ranges [start, end) of the partial days."""

    whole: bool
    first_day: str | None
    end_day: str | None
    partial: tuple[tuple[dt.datetime | None, dt.datetime | None], ...]


def split(since: dt.datetime | None, until: dt.datetime | None) -> Split:
    """Cut [since, until) (None: unbounded) into whole UTC days and the partial days around them."""
    first = None if since is None else (since if since == _midnight(since) else _midnight(since) + DAY)
    end = None if until is None else _midnight(until)
    if first is not None and end is not None and first >= end:
        return Split(
            False, None, None, ((since, until),) if since is not None and until is not None and since < until else ()
        )
    partial: list[tuple[dt.datetime | None, dt.datetime | None]] = []
    if since is not None and first is not None and since < first:
        partial.append((since, first))
    if until is not None and end is not None and end < until:
        partial.append((end, until))
    return Split(True, None if first is None else day_of(first), None if end is None else day_of(end), tuple(partial))


def between(column: Any, start: dt.datetime | str | None, end: dt.datetime | str | None) -> Any:
    """`start <= column < end` (either bound may be None: open)."""
    condition: Any = true()
    if start is not None:
        condition = and_(condition, column >= start)
    if end is not None:
        condition = and_(condition, column < end)
    return condition


async def counts(
    conn: AsyncConnection,
    since: dt.datetime | None,
    until: dt.datetime | None,
    *,
    rollup: Table,
    key: str,
    rows: Callable[[dt.datetime | None, dt.datetime | None], Any],
) -> Counter[str]:
    """Per value of the roll-up's `key` column, how many rows fall in [since, until): whole days summed from
    `rollup`, partial days counted by `rows(start, end)` (a SELECT of (key, count) grouped by key)."""
    parts = split(since, until)
    found: Counter[str] = Counter()
    if parts.whole:
        query = (
            select(rollup.c[key], func.sum(rollup.c.n))
            .where(between(rollup.c.day, parts.first_day, parts.end_day))
            .group_by(rollup.c[key])
        )
        found.update({str(k): int(n) for k, n in await conn.execute(query)})
    for start, end in parts.partial:
        found.update({"" if k is None else str(k): int(n) for k, n in await conn.execute(rows(start, end))})
    return +found
