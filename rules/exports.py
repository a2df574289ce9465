"""CSV exports for coordinators: which columns each export has, the date range, and the bytes Excel opens.

Excel only reads UTF-8 as such when the file starts with a byte-order mark, so Chinese stays intact.
Cells that start like a formula are defused, so an exported description cannot run in a spreadsheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from rules.cases import case_ref
from rules.tips import tip_reference
from rules.wishes import wish_ref
from storage import cases as case_store
from storage import exports as store

KINDS = ("wishes", "tips", "hours", "cases")
DEFAULT_DAYS = 30
MAX_DAYS = 366 * 3
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

WISH_COLUMNS = (
    "ref",
    "created_at",
    "category",
    "area",
    "status",
    "claimed_by",
    "claimed_at",
    "done_at",
    "hours",
    "rating",
    "description",
)
TIP_COLUMNS = ("ref", "created_at", "category", "status", "reporter_id", "published_url", "description")
HOURS_COLUMNS = ("volunteer_id", "name", "area", "tasks", "activities", "hours", "verified_hours")
CASE_COLUMNS = (
    "ref",
    "created_at",
    "department",
    "tier",
    "status",
    "source",
    "category",
    "area",
    "ack_due_at",
    "acknowledged_at",
    "resolve_due_at",
    "resolved_at",
    "returned_at",
    "rating",
    "summary",
)


class ExportError(ValueError):
    """The /export request cannot be read; `reason` is a message key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def export_rows(
    conn: AsyncConnection,
    kind: str,
    since: dt.datetime,
    until: dt.datetime,
    *,
    after: tuple[dt.datetime, int] | None = None,
    limit: int | None = None,
    columns: Sequence[str] | None = None,
) -> list[dict[str, object]]:
    """The rows of one export (`KINDS`) for [since, until); wishes and tips carry the reference people see.
    Wishes and tips come in chunks of `limit` after the row at `after` (its created_at and id); hours (one
    row per volunteer) all at once, and only without `after`. `columns`: read only these (and what the
    references need)."""
    if kind == "wishes":
        wanted = None if columns is None else [*columns, "ref_no"]
        rows = await store.wish_rows(conn, since, until, after=after, limit=limit, columns=wanted)
        return [{**row, "ref": wish_ref(row["ref_no"])} for row in rows]
    if kind == "tips":
        rows = await store.tip_rows(conn, since, until, after=after, limit=limit, columns=columns)
        return [{**row, "ref": tip_reference(row["id"])} for row in rows]
    if kind == "cases":
        return await case_rows(conn, since, until) if after is None else []
    return await store.hours_rows(conn, since, until) if after is None else []


async def case_rows(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> list[dict[str, object]]:
    """The cases sent to departments in [since, until) (issue 15)."""
    names = await case_store.department_names(conn)
    return [_case_row(case, names) for case in await case_store.cases_between(conn, since, until)]


def _case_row(case: case_store.Case, names: dict[int, str]) -> dict[str, object]:
    prefixes = {"wish": "W-", "tip": "T-", "hot": "H-"}
    return {
        **{column: getattr(case, column) for column in CASE_COLUMNS if hasattr(case, column)},
        "ref": case_ref(case.ref_no),
        "department": names.get(case.department_id, ""),
        "source": f"{prefixes.get(case.source, '')}{case.source_id:04d}",
    }


async def stream_rows(
    conn: AsyncConnection, kind: str, since: dt.datetime, until: dt.datetime, size: int
) -> AsyncIterator[list[dict[str, object]]]:
    """The rows of an export that has no keyset order of its own (hours: summed per volunteer, most first; cases)
    in lists of `size`, through one server-side cursor on `conn`."""
    if kind == "cases":
        names = await case_store.department_names(conn)
        async for cases in case_store.stream_cases_between(conn, since, until, size):
            yield [_case_row(case, names) for case in cases]
        return
    async for rows in store.stream_hours(conn, since, until, size):
        yield list(rows)


def columns_for(kind: str, *, with_phones: bool) -> tuple[str, ...]:
    """The columns of an export; phone numbers only go to coordinators."""
    if kind == "wishes":
        return (*WISH_COLUMNS[:5], "address", "phone", *WISH_COLUMNS[5:]) if with_phones else WISH_COLUMNS
    if kind == "tips":
        return TIP_COLUMNS
    if kind == "cases":
        return CASE_COLUMNS
    return HOURS_COLUMNS


# Typed export words, Chinese first (the kinds' names as the buttons read them); the English names keep working.
KIND_WORDS = {
    "心愿": "wishes",
    "报料": "tips",
    "时长": "hours",
    "服务时长": "hours",
    "案件": "cases",
    "部门案件": "cases",
}
DATE_WORD = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def parse_kind(word: str) -> str | None:
    """`时长` or `hours` → "hours" (any case); None for another word."""
    cleaned = word.strip().lower()
    kind = KIND_WORDS.get(cleaned, cleaned)
    return kind if kind in KINDS else None


def parse_export(args: Sequence[str], now: dt.datetime, tz: ZoneInfo) -> tuple[str | None, dt.datetime, dt.datetime]:
    """`/export 心愿 [FROM [TO]]` (local dates, TO inclusive) → (kind, since, until) as aware UTC. Without a kind
    (nothing typed, or only dates) the kind is None: the caller offers it as buttons."""
    kind = parse_kind(args[0]) if args else None
    if args and kind is None and DATE_WORD.fullmatch(args[0].strip()) is None:
        raise ExportError("export.usage")
    try:
        dates = [dt.date.fromisoformat(word) for word in args[1 if kind else 0 :][:2]]
    except ValueError:
        raise ExportError("export.bad_date") from None
    today = now.astimezone(tz).date()
    first = dates[0] if dates else today - dt.timedelta(days=DEFAULT_DAYS - 1)
    last = dates[1] if len(dates) > 1 else today
    if last < first or (last - first).days > MAX_DAYS:
        raise ExportError("export.bad_range")
    since = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    return kind, since, until


def local_range(since: dt.datetime, until: dt.datetime, tz: ZoneInfo) -> tuple[dt.date, dt.date]:
    """The first and last local day of [since, until)."""
    return since.astimezone(tz).date(), until.astimezone(tz).date() - dt.timedelta(days=1)


def kind_choice(kind: str, first: dt.date, last: dt.date) -> str:
    """What a kind button carries: `hours_2026-11-01_2026-11-30` (the words `parse_export` reads back)."""
    return f"{kind}_{first.isoformat()}_{last.isoformat()}"


def _cell(value: object, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def append_csv(
    path: Path, columns: Sequence[str], rows: Iterable[dict[str, object]], tz: ZoneInfo, *, header: bool
) -> None:
    """Append rows to a CSV file as `to_csv` writes them (the BOM and the header with `header`). CPU work for a
    worker thread: the file grows chunk by chunk, so an export never sits whole in memory."""
    with path.open("a", encoding="utf-8-sig" if header else "utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        if header:
            writer.writerow(columns)
        writer.writerows([_cell(row.get(column), tz) for column in columns] for row in rows)


def zip_file(path: Path, target: Path, name: str) -> None:
    """Compress one file into a zip archive (CSV shrinks about tenfold) — for a worker thread."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.write(path, arcname=name)


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, object]], tz: ZoneInfo) -> bytes:
    """UTF-8 with BOM, comma-separated, CRLF line ends (what Excel expects)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column), tz) for column in columns])
    return buffer.getvalue().encode("utf-8-sig")
