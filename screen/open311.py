"""Open311 GeoReport v2, read only: categories as services, wishes and cases as service requests.

What a request shows is public by construction: its reference (W-0042, C-0007), category, area, status, times,
the department responsible and the area's centroid (`rules.district`) — never a name, phone number, address,
exact coordinates or anything a person typed (the description is the category and the area).

Filters of `requests.json` (spec: https://wiki.open311.org/GeoReport_v2): `status` (open, closed; comma list),
`service_code` (comma list), `start_date` / `end_date` (W3C datetimes; naive ones are local time). Without
dates the last 90 days are returned; at most 1000 requests, newest first.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.i18n import Catalogues
from rules.cases import case_ref
from rules.district import District
from rules.wishes import wish_ref
from storage.screen import PublicRequest

DEFAULT_SPAN = dt.timedelta(days=90)
MAX_REQUESTS = 1000
WISH_OPEN = ("open", "claimed", "done")
WISH_CLOSED = ("confirmed", "cancelled", "expired", "referred")  # referred: its case carries it on
CASE_OPEN = ("sent", "acknowledged")
CASE_CLOSED = ("resolved", "returned")
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "lat",
    "long",
    "media_url",
)


class Open311Error(ValueError):
    """A request the endpoint refuses, with the HTTP code and a description (the spec's error format)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description

    def body(self) -> list[dict[str, Any]]:
        """The error as GeoReport v2 returns it."""
        return [{"code": self.code, "description": self.description}]


def services(categories: list[str], catalogues: Catalogues, language: str) -> list[dict[str, Any]]:
    """services.json: one service per category."""
    return [
        {
            "service_code": code,
            "service_name": catalogues.text(language, f"category.{code}"),
            "description": catalogues.text(language, "open311.service_description"),
            "metadata": False,
            "type": "realtime",
            "keywords": "",
            "group": "",
        }
        for code in categories
    ]


@dataclass(frozen=True, slots=True)
class Query:
    """A validated requests.json query."""

    since: dt.datetime
    until: dt.datetime
    wish_statuses: tuple[str, ...] | None
    case_statuses: tuple[str, ...] | None
    category: str | None


def _when(value: str, name: str, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?", text):
        raise Open311Error(400, f"{name} must be a W3C datetime such as 2026-11-01T00:00:00+08:00")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} is not a valid datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.UTC)


def parse_query(params: Mapping[str, str], now: dt.datetime, tz: zoneinfo.ZoneInfo, categories: list[str]) -> Query:
    """The filters of requests.json, validated; `Open311Error` (400) for anything it cannot read."""
    until = _when(params["end_date"], "end_date", tz) if params.get("end_date") else now
    since = _when(params["start_date"], "start_date", tz) if params.get("start_date") else until - DEFAULT_SPAN
    if since > until:
        raise Open311Error(400, "start_date is after end_date")
    wish_statuses: tuple[str, ...] | None = None
    case_statuses: tuple[str, ...] | None = None
    if params.get("status"):
        wanted = {part.strip().lower() for part in params["status"].split(",") if part.strip()}
        if not wanted or not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed")
        wish_statuses = (*(WISH_OPEN if "open" in wanted else ()), *(WISH_CLOSED if "closed" in wanted else ()))
        case_statuses = (*(CASE_OPEN if "open" in wanted else ()), *(CASE_CLOSED if "closed" in wanted else ()))
    category = None
    if params.get("service_code"):
        category = params["service_code"].strip()
        if category not in categories:
            raise Open311Error(400, "unknown service_code")
    return Query(since, until + dt.timedelta(microseconds=1), wish_statuses, case_statuses, category)


def parse_request_id(text: str) -> tuple[str, int]:
    """`W-0042` → ("wish", 42), `C-7` → ("case", 7); `Open311Error` (404) otherwise."""
    match = re.fullmatch(r"([WwCc])-?0*(\d{1,9})", text.strip())
    if match is None or int(match.group(2)) == 0:
        raise Open311Error(404, "no such service request")
    return ("wish" if match.group(1).lower() == "w" else "case"), int(match.group(2))


def _iso(moment: dt.datetime | None, tz: zoneinfo.ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(tz).replace(microsecond=0).isoformat()


def to_request(
    row: PublicRequest,
    *,
    catalogues: Catalogues,
    language: str,
    tz: zoneinfo.ZoneInfo,
    district: District,
    departments: Mapping[int, str],
    agency: str,
) -> dict[str, Any]:
    """One service request in GeoReport v2 fields (public data only)."""
    service_name = catalogues.text(language, f"category.{row.category}")
    area = row.area or ""
    lat, lon = district.centroids.get(area, (None, None))
    if row.kind == "wish":
        status = "open" if row.status in WISH_OPEN else "closed"
        ref = wish_ref(row.ref_no)
        responsible = agency
    else:
        status = "open" if row.status in CASE_OPEN else "closed"
        ref = case_ref(row.ref_no)
        responsible = departments.get(row.department_id or 0, agency)
    return {
        "service_request_id": ref,
        "status": status,
        "status_notes": catalogues.text(language, f"open311.{row.kind}.{row.status}"),
        "service_name": service_name,
        "service_code": row.category,
        "description": f"{service_name} · {area}" if area else service_name,
        "agency_responsible": responsible,
        "service_notice": "",
        "requested_datetime": _iso(row.created_at, tz),
        "updated_datetime": _iso(row.updated_at, tz),
        "expected_datetime": _iso(row.due_at, tz),
        "lat": lat,
        "long": lon,
        "media_url": "",
    }
