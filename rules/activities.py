"""Rules of projects, teams and activities as plain functions: who may organize, what an organizer may type,
where a sign-up lands (a place or the waitlist), the check-in code, the radius, and how hours are rounded."""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
import zoneinfo
from collections.abc import Iterable

from rules.matching import haversine_km
from rules.roles import Role
from storage.errors import NotAllowed

TITLE_MAX = 60
PLACE_MAX = 120
NOTES_MAX = 300
NAME_MAX = 40
DESCRIPTION_MAX = 300
HEADCOUNT_MAX = 500
DURATION_MAX_HOURS = 12
CODE_DIGITS = 6
# The check-in screen works from this long before the start until this long after the planned end.
CHECKIN_BEFORE = dt.timedelta(hours=2)
CHECKIN_AFTER = dt.timedelta(hours=4)
# Reminders: the day before (at this local time, or right away if signed up later), and an hour before.
DAY_BEFORE_AT = dt.time(18, 0)
HOUR_BEFORE = dt.timedelta(hours=1)
# A second scan this soon after checking in is a double scan, not a check-out (it would count 0 hours).
MIN_STAY = dt.timedelta(minutes=15)

COORDINATING = frozenset({Role.COORDINATOR, Role.ADMIN})


class InvalidInput(ValueError):  # noqa: N818 - reads as the domain fact
    """Something typed cannot be used; `reason` is the message key saying why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal_key(error: Exception, missing: str = "activity.not_found") -> str:
    """The message key saying why a press or command was refused (not allowed, or the record is gone)."""
    return "error.not_allowed" if isinstance(error, NotAllowed) else missing


def activity_ref(ref_no: int) -> str:
    """How people see an activity's number: A-0007."""
    return f"A-{ref_no:04d}"


def parse_activity_ref(text: str) -> int | None:
    """The number in "A-0007" / "a7" / "7", or None."""
    match = re.fullmatch(r"\s*[Aa]?-?0*(\d{1,9})\s*", text)
    return int(match.group(1)) if match else None


def volunteer_number(person_id: int) -> str:
    """The volunteer number printed on a certificate."""
    return f"TX-V{person_id:06d}"


def is_coordinator(roles: Iterable[Role]) -> bool:
    """Whether these roles run projects, teams and any activity."""
    return bool(COORDINATING & frozenset(roles))


def check_name(text: str, limit: int = NAME_MAX) -> str:
    """A name or title: trimmed, not empty, not too long."""
    value = " ".join(text.split())
    if not value:
        raise InvalidInput("activity.error.empty")
    if len(value) > limit:
        raise InvalidInput("activity.error.too_long")
    return value


def parse_start(text: str, now: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """ "2026-12-05 09:30" or "12-05 09:30" (this year or the next), local time → aware UTC, in the future."""
    match = re.fullmatch(r"\s*(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?\s+(\d{1,2})[:：点](\d{2})分?\s*", text)
    if match is None:
        raise InvalidInput("activity.error.when")
    year_text, month, day, hour, minute = match.groups()
    local_now = now.astimezone(tz)
    year = int(year_text) if year_text else local_now.year
    try:
        moment = dt.datetime(year, int(month), int(day), int(hour), int(minute), tzinfo=tz)
        if not year_text and moment < local_now:
            moment = moment.replace(year=year + 1)
    except ValueError:
        raise InvalidInput("activity.error.when") from None
    if moment <= local_now:
        raise InvalidInput("activity.error.past")
    if moment > local_now + dt.timedelta(days=366):
        raise InvalidInput("activity.error.when")
    return moment.astimezone(dt.UTC)


def parse_duration(text: str) -> int:
    """Hours ("2", "1.5", "2小时") → minutes, between half an hour and DURATION_MAX_HOURS."""
    match = re.fullmatch(r"\s*(\d{1,2}(?:\.\d)?)\s*(?:h|小时|个小时)?\s*", text)
    if match is None:
        raise InvalidInput("activity.error.duration")
    minutes = round(float(match.group(1)) * 60)
    if not 30 <= minutes <= DURATION_MAX_HOURS * 60:
        raise InvalidInput("activity.error.duration")
    return minutes


def parse_headcount(text: str) -> int:
    """How many volunteers are wanted: 1 … HEADCOUNT_MAX."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*人?\s*", text)
    if match is None or not 1 <= int(match.group(1)) <= HEADCOUNT_MAX:
        raise InvalidInput("activity.error.headcount")
    return int(match.group(1))


def place_for(signed_up: int, headcount: int) -> str:
    """Where a new sign-up lands: a place while there is one, else the waitlist."""
    return "signed_up" if signed_up < headcount else "waitlisted"


def new_code() -> str:
    """A short check-in code people can type: CODE_DIGITS digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def checkin_window(starts_at: dt.datetime, ends_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When the organizer may show a code for the activity."""
    return starts_at - CHECKIN_BEFORE, ends_at + CHECKIN_AFTER


def within_radius(place: tuple[float, float], here: tuple[float, float], radius_m: int) -> bool:
    """Whether `here` is within `radius_m` metres of the activity's place."""
    return haversine_km(place, here) * 1000 <= radius_m


def distance_m(place: tuple[float, float], here: tuple[float, float]) -> int:
    """Metres between the place and where someone is (for the refusal message)."""
    return round(haversine_km(place, here) * 1000)


def rounded_hours(checked_in: dt.datetime, checked_out: dt.datetime, step_minutes: int) -> float:
    """Hours between check-in and check-out, rounded DOWN to the step (a certificate never overstates)."""
    minutes = max(0.0, (checked_out - checked_in).total_seconds() / 60)
    if step_minutes <= 1:
        return round(minutes / 60, 2)
    return math.floor(minutes / step_minutes) * step_minutes / 60


def day_before_moment(starts_at: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """When the day-before reminder is due: DAY_BEFORE_AT local time on the day before the start."""
    local_day = starts_at.astimezone(tz).date() - dt.timedelta(days=1)
    return dt.datetime.combine(local_day, DAY_BEFORE_AT, tzinfo=tz).astimezone(dt.UTC)


def adjusted_hours(current: float | None, step: str) -> float:
    """The organizer's −/+ half an hour on one person's hours (never below zero, at most a day)."""
    value = (current or 0.0) + (0.5 if step == "up" else -0.5)
    return min(24.0, max(0.0, value))
