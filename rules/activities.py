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


# A check-in's location must be where the person is now: sent just now, not forwarded, not a place picked from a list.
LOCATION_FRESH_FOR = dt.timedelta(minutes=2)


def location_is_live(*, forwarded: bool, venue: bool, sent_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a shared location says where the person is now (a forwarded pin, a venue or an old message does not:
    a volunteer 2 km away forwarded the venue's pin and was checked in)."""
    return not forwarded and not venue and abs(now - sent_at) <= LOCATION_FRESH_FOR


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


def adjusted_hours(current: float | None, step: str, cap: float = 24.0) -> float:
    """The organizer's −/+ half an hour on one person's hours (never below zero, never past `cap`: the time from
    their check-in to the activity's end)."""
    value = (current or 0.0) + (0.5 if step == "up" else -0.5)
    return min(cap, max(0.0, value))


EXTENSION_MAX_HOURS = DURATION_MAX_HOURS
REASON_MIN, REASON_MAX = 4, 200


def parse_extension(words: list[str]) -> tuple[int, str]:
    """`/extend A-0002 1.5 原因…` after the reference: (minutes, reason); the reason is required."""
    if not words:
        raise InvalidInput("activity.extend_usage")
    minutes = _half_hours(words[0], EXTENSION_MAX_HOURS)
    return minutes, parse_reason(" ".join(words[1:]))


def parse_recorded_hours(words: list[str]) -> tuple[str, float, str]:
    """`/addhours A-0002 <who> 2 原因…` after the reference: (who, hours, reason); the reason is required."""
    if len(words) < 2:
        raise InvalidInput("activity.addhours_usage")
    # Up to a day typed; the action caps it at the activity's planned length.
    return words[0], _half_hours(words[1], 24) / 60, parse_reason(" ".join(words[2:]))


def parse_reason(text: str) -> str:
    """Why hours were extended or entered after the fact: required, a sentence, bounded."""
    reason = " ".join(text.split())
    if len(reason) < REASON_MIN:
        raise InvalidInput("activity.reason_needed")
    if len(reason) > REASON_MAX:
        raise InvalidInput("activity.reason_too_long")
    return reason


def _half_hours(word: str, most: float) -> int:
    """Hours typed ("1.5", "2小时") → minutes, a positive multiple of half an hour up to `most` hours."""
    text = word.strip().removesuffix("小时").removesuffix("h")
    try:
        hours = float(text)
    except ValueError:
        raise InvalidInput("activity.bad_hours") from None
    minutes = round(hours * 60)
    if not 30 <= minutes <= most * 60 or minutes % 30:
        raise InvalidInput("activity.bad_hours")
    return minutes
