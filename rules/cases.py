"""Cases sent to departments: response tiers and their deadlines, the case lifecycle, escalation moments,
and the monthly response / resolution / satisfaction rates (三率). Plain functions over plain data.

Lifecycle: `sent` → `acknowledged` (签收, by one member) → `resolved` (with a note and an optional photo);
`sent | acknowledged` → `returned` (handed back with a reason; coordinators may send it elsewhere). The
resident rates a resolved case once (1–5).

Deadlines: a tier's time (settings: urgent 2 h, utility 24 h, general 7 d, complex 15 d) is the time to
resolve; the time to acknowledge is a share of it, capped (`case_ack_share`, `case_ack_max_hours`: urgent
30 min, utility 6 h, general and complex 24 h by default). An overdue acknowledgment or resolution escalates
to the coordinators at the deadline, and to the admins at twice the time allowed.

三率 of a department for a month (cases sent to it in that local month):
  response rate     = cases acknowledged (or handed back) by the acknowledgment deadline / cases sent;
  resolution rate   = cases resolved by the resolution deadline / cases sent that were not handed back;
  satisfaction rate = cases rated 4 or 5 / cases rated.
Departments are ranked by the mean of the rates they have (a rate without cases does not count).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from storage import cases as store
from storage.errors import Conflict

TIERS = ("urgent", "utility", "general", "complex")
SOURCES = ("wish", "tip", "hot")
SATISFIED_FROM = 4
NAME_MAX = 32
NOTE_MAX = 500
LIST_MAX = 20


class CaseStatus(StrEnum):
    """Where a case stands."""

    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    RETURNED = "returned"


class CaseAction(StrEnum):
    """What can happen to a case."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    RETURN = "return"
    # The member who acknowledged it left the department: the case waits for another member to take it.
    RELEASE = "release"


OPEN_STATUSES = frozenset({CaseStatus.SENT, CaseStatus.ACKNOWLEDGED})
_NEXT: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (CaseStatus.SENT, CaseAction.ACKNOWLEDGE): CaseStatus.ACKNOWLEDGED,
    (CaseStatus.ACKNOWLEDGED, CaseAction.RESOLVE): CaseStatus.RESOLVED,
    (CaseStatus.SENT, CaseAction.RETURN): CaseStatus.RETURNED,
    (CaseStatus.ACKNOWLEDGED, CaseAction.RETURN): CaseStatus.RETURNED,
    (CaseStatus.ACKNOWLEDGED, CaseAction.RELEASE): CaseStatus.SENT,
}


def next_status(current: str, action: CaseAction) -> CaseStatus:
    """The status after `action`, or `Conflict` carrying the current status."""
    try:
        return _NEXT[(CaseStatus(current), action)]
    except (KeyError, ValueError):
        raise Conflict(f"cannot {action} a case that is {current}", current=current) from None


def case_ref(ref_no: int) -> str:
    """The reference people see: 1 → C-0001."""
    return f"C-{ref_no:04d}"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """When a case must be acknowledged and resolved."""

    ack_due: dt.datetime
    resolve_due: dt.datetime


def tier_hours(tier: str, hours_by_tier: dict[str, float]) -> float:
    """The hours a tier allows to resolve; `ValueError` for an unknown tier."""
    if tier not in hours_by_tier:
        raise ValueError(f"unknown tier {tier!r}")
    return hours_by_tier[tier]


def deadlines(
    sent_at: dt.datetime, tier: str, hours_by_tier: dict[str, float], *, ack_share: float, ack_max_hours: float
) -> Deadlines:
    """The acknowledgment and resolution deadlines of a case sent at `sent_at` with `tier`."""
    resolve = dt.timedelta(hours=tier_hours(tier, hours_by_tier))
    ack = min(resolve * ack_share, dt.timedelta(hours=ack_max_hours))
    return Deadlines(sent_at + ack, sent_at + resolve)


def missed_deadline(
    status: str, ack_due: dt.datetime, resolve_due: dt.datetime, now: dt.datetime
) -> dt.datetime | None:
    """The deadline an open case has missed by `now` (acknowledgment while `sent`, else resolution), or None."""
    if status not in OPEN_STATUSES:
        return None
    if status == CaseStatus.SENT and ack_due <= now:
        return ack_due
    return resolve_due if resolve_due <= now else None


def escalation_moments(sent_at: dt.datetime, due: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(coordinators, admins): at the deadline, and at twice the time allowed."""
    return due, sent_at + 2 * (due - sent_at)


class CaseInputError(ValueError):
    """Something staff typed for a case or department is wrong; `reason` is a message key, `values` fill it."""

    def __init__(self, reason: str, **values: str | int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True, slots=True)
class CaseOrder:
    """A parsed `/case W-0042 城管 紧急`: what to send (source and number), to which department, how urgently."""

    source: str
    number: int
    department: str
    tier: str


@dataclass(frozen=True, slots=True)
class CaseRequest:
    """What `/case` was given: the tier is None when none was typed (it is then chosen with buttons)."""

    source: str
    number: int
    department: str
    tier: str | None

    def order(self, tier: str) -> CaseOrder:
        """The order with this tier."""
        return CaseOrder(self.source, self.number, self.department, tier)


_SOURCE_PREFIX = {"w": "wish", "t": "tip", "h": "hot"}
# Typed tier words, Chinese first as the tier labels read (紧急（2 小时）…); the English names keep working.
TIER_WORDS = {"紧急": "urgent", "水电气": "utility", "一般": "general", "复杂": "complex"}


def parse_source(word: str) -> tuple[str, int]:
    """`W-0042` → ("wish", 42), `T-7` → ("tip", 7), `H-3` → ("hot", 3)."""
    match = re.fullmatch(r"\s*([WwTtHh])-?0*(\d{1,9})\s*", word)
    if match is None or int(match.group(2)) == 0:
        raise CaseInputError("case.bad_source")
    return _SOURCE_PREFIX[match.group(1).lower()], int(match.group(2))


def parse_tier(word: str) -> str:
    """`紧急` or `urgent` → "urgent" (any case); `CaseInputError` for another word."""
    cleaned = word.strip().lower()
    tier = TIER_WORDS.get(cleaned, cleaned)
    if tier not in TIERS:
        raise CaseInputError("case.bad_tier")
    return tier


def parse_case_request(args: Sequence[str]) -> CaseRequest:
    """`/case <W-n|T-n|H-n> <department> [紧急|水电气|一般|复杂]` (or the English tier names)."""
    if len(args) < 2:
        raise CaseInputError("case.usage")
    source, number = parse_source(args[0])
    tier = parse_tier(args[2]) if len(args) > 2 else None
    return CaseRequest(source, number, args[1].strip()[:NAME_MAX], tier)


def tier_choice(source: str, number: int, tier: str) -> str:
    """What a tier button carries besides the department: `w42.urgent` (read back by `parse_tier_choice`)."""
    return f"{source[0]}{number}.{tier}"


def parse_tier_choice(department: str, carried: str) -> CaseOrder:
    """The order behind a tier button for `department`; `CaseInputError` when it carries something else."""
    source_word, _, tier_word = carried.partition(".")
    source, number = parse_source(source_word)
    return CaseOrder(source, number, department, parse_tier(tier_word))


@dataclass(frozen=True, slots=True)
class DepartmentDraft:
    """A parsed `/newdept 城管 环境整治,交通劝导 东城社区,西城社区` (`*`, `全部`: all). Without categories typed, the
    categories are empty: they are chosen with buttons."""

    name: str
    categories: tuple[str, ...]
    areas: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """The draft as JSON-ready data (kept between button presses)."""
        return {"name": self.name, "categories": list(self.categories), "areas": list(self.areas)}

    @classmethod
    def from_json(cls, data: object) -> DepartmentDraft | None:
        """The draft back from `to_json` (None when `data` is not one)."""
        if not isinstance(data, dict):
            return None
        name, categories, areas = data.get("name"), data.get("categories"), data.get("areas")
        if not isinstance(name, str) or not isinstance(categories, list) or not isinstance(areas, list):
            return None
        return cls(name, tuple(map(str, categories)), tuple(map(str, areas)))

    def toggled(self, category: str) -> DepartmentDraft:
        """The draft with `category` added, or taken out when it was chosen."""
        if category in self.categories:
            return DepartmentDraft(self.name, tuple(c for c in self.categories if c != category), self.areas)
        return DepartmentDraft(self.name, (*self.categories, category), self.areas)


ALL_WORDS = frozenset({"*", "全部", "所有", "all"})


def _pick(word: str | None, known: Sequence[str], error: str, names: Mapping[str, str]) -> tuple[str, ...]:
    """The known values a typed list names (by value or by one of `names`, any case); all for `*`, `全部`."""
    if word is None or word.strip().lower() in ALL_WORDS or not word.strip():
        return tuple(known)
    by_name = {name.lower(): value for name, value in names.items()}
    typed = [part.strip() for part in re.split(r"[,，、]", word) if part.strip()]
    chosen = tuple(dict.fromkeys(by_name.get(part.lower(), part) for part in typed))
    unknown = [part for part in chosen if part not in known]
    if unknown or len(chosen) > LIST_MAX:
        raise CaseInputError(error, value=", ".join(unknown[:3]))
    return chosen


def parse_department(
    args: Sequence[str], categories: Sequence[str], areas: Sequence[str], names: Mapping[str, str] | None = None
) -> DepartmentDraft:
    """A new department's name (1–32 characters, no spaces), categories and areas, validated. Categories are typed
    by their names (`names`: name → category, e.g. 环境整治 → environment) or keys; none typed: none yet (the
    caller offers buttons); no areas typed: all."""
    if not args:
        raise CaseInputError("department.usage")
    name = args[0].strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise CaseInputError("department.bad_name")
    typed = args[1] if len(args) > 1 else None
    return DepartmentDraft(
        name,
        () if typed is None else _pick(typed, categories, "department.bad_category", names or {}),
        _pick(args[2] if len(args) > 2 else None, areas, "department.bad_area", {}),
    )


def check_note(text: str) -> str:
    """A resolution note or a reason, trimmed and bounded; `CaseInputError` otherwise."""
    cleaned = text.strip()
    if not cleaned:
        raise CaseInputError("case.note_empty")
    if len(cleaned) > NOTE_MAX:
        raise CaseInputError("case.note_too_long", limit=NOTE_MAX)
    return cleaned


# --- 三率 ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the rates need of one case."""

    department_id: int
    created_at: dt.datetime
    ack_due_at: dt.datetime
    resolve_due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    returned_at: dt.datetime | None
    rating: int | None


@dataclass(frozen=True, slots=True)
class Rates:
    """三率 of one department in one period, with the counts behind them (a rate is None without cases)."""

    department_id: int
    name: str
    sent: int
    responded_in_time: int
    counted_for_resolution: int
    resolved_in_time: int
    rated: int
    satisfied: int

    @property
    def response_rate(self) -> float | None:
        """Share acknowledged (or handed back) by the acknowledgment deadline."""
        return self.responded_in_time / self.sent if self.sent else None

    @property
    def resolution_rate(self) -> float | None:
        """Share of the cases kept that were resolved by the resolution deadline."""
        return self.resolved_in_time / self.counted_for_resolution if self.counted_for_resolution else None

    @property
    def satisfaction_rate(self) -> float | None:
        """Share of the ratings that were 4 or 5."""
        return self.satisfied / self.rated if self.rated else None

    @property
    def score(self) -> float | None:
        """The mean of the rates this department has (what the ranking orders by)."""
        have = [r for r in (self.response_rate, self.resolution_rate, self.satisfaction_rate) if r is not None]
        return sum(have) / len(have) if have else None


def rates_of(department_id: int, name: str, cases: Iterable[CaseFacts]) -> Rates:
    """三率 of one department over the given cases (those sent to it in the period)."""
    sent = responded = kept = resolved = rated = satisfied = 0
    for case in cases:
        sent += 1
        first_response = min((t for t in (case.acknowledged_at, case.returned_at) if t is not None), default=None)
        if first_response is not None and first_response <= case.ack_due_at:
            responded += 1
        if case.returned_at is None:
            kept += 1
            if case.resolved_at is not None and case.resolved_at <= case.resolve_due_at:
                resolved += 1
        if case.rating is not None:
            rated += 1
            satisfied += case.rating >= SATISFIED_FROM
    return Rates(department_id, name, sent, responded, kept, resolved, rated, satisfied)


def ranked(departments: Iterable[tuple[int, str]], cases: Iterable[CaseFacts]) -> list[Rates]:
    """三率 of every department, best first (departments without cases last, by name)."""
    by_department: dict[int, list[CaseFacts]] = {}
    for case in cases:
        by_department.setdefault(case.department_id, []).append(case)
    rows = [rates_of(dep_id, name, by_department.get(dep_id, [])) for dep_id, name in departments]
    return sorted(rows, key=lambda r: (r.score is None, -(r.score or 0.0), r.name))


def month_bounds(year: int, month: int, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of a local month and of the next, in UTC."""
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def parse_month(word: str | None, now: dt.datetime, tz: zoneinfo.ZoneInfo) -> tuple[int, int]:
    """`2026-11` → (2026, 11); None: the current local month; `CaseInputError` for anything else."""
    if word is None:
        local = now.astimezone(tz)
        return local.year, local.month
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", word.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise CaseInputError("rates.bad_month")
    return int(match.group(1)), int(match.group(2))


def percent(rate: float | None) -> str:
    """A rate as people read it: 87.5% (— without cases)."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


async def month_rates(conn: AsyncConnection, year: int, month: int, tz: zoneinfo.ZoneInfo) -> list[Rates]:
    """三率 of every department for the cases sent to it in one local month, ranked."""
    since, until = month_bounds(year, month, tz)
    return await rates_between(conn, since, until)


async def rates_between(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> list[Rates]:
    """三率 of every department for the cases sent to it in [since, until), ranked."""
    facts = [
        CaseFacts(
            c.department_id,
            c.created_at,
            c.ack_due_at,
            c.resolve_due_at,
            c.acknowledged_at,
            c.resolved_at,
            c.returned_at,
            c.rating,
        )
        for c in await store.cases_between(conn, since, until)
    ]
    names = await store.department_names(conn)
    return ranked(sorted(names.items()), facts)


def rates_line(rates: Sequence[Rates], limit: int = 5) -> str:
    """The ranking in one line: "城管 响应 100.0% 办结 50.0% 满意 100.0%" per department with cases."""
    shown = [r for r in rates if r.sent][:limit]
    return " ; ".join(
        f"{i}. {r.name} {percent(r.response_rate)}/{percent(r.resolution_rate)}/{percent(r.satisfaction_rate)}"
        for i, r in enumerate(shown, start=1)
    )
