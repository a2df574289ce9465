"""What the command-centre screen shows, gathered from the database in one read: the seed's counters, open cases by
area (for the map), overdue cases, open public-opinion events with their clocks, this month's 三率, hot topics and
the 30-day trends, with the page's labels in
the deployment's language. Hot topics need word segmentation and grouping, which are slow: they are worked out off
the event loop and kept for a minute."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import hot as hot_actions
from core.i18n import Catalogues
from core.settings import Settings
from rules import cases as case_rules
from rules.cases import case_ref, percent
from rules.events import Level, clock_state, event_ref, minutes_left, source_ref
from rules.hot import use_places
from storage import cases as case_store
from storage import events as event_store
from storage import screen as store
from storage.db import Database

TREND_DAYS = 30
RATES_DAYS = 30  # the screen's 三率 are rolling (the first days of a month would show almost nothing)
HOT_DAYS = 7
HOT_KEEP = dt.timedelta(minutes=1)
HOT_SHOWN = 10
OVERDUE_SHOWN = 12
EVENTS_SHOWN = 8
LABELS = (
    "title",
    "needs",
    "projects",
    "media",
    "reports",
    "open_cases",
    "overdue_cases",
    "map",
    "overdue",
    "rates",
    "response",
    "resolution",
    "satisfaction",
    "hot",
    "trend",
    "wishes",
    "tips",
    "cases",
    "updated",
    "none",
    "no_data",
    "hours_late",
    "events",
    "event_left",
    "event_over",
    "event_met",
)


class HotTerms:
    """The hot topics of the last week (`actions.hot.topics`), recomputed at most once a minute (of the bot's
    clock)."""

    def __init__(self) -> None:
        self._at: dt.datetime | None = None
        self._terms: list[dict[str, Any]] = []

    async def terms(self, db: Database, now: dt.datetime, places: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The top topics (leading terms, count, rise, areas, an example), from the cache if it is fresh."""
        if self._at is not None and dt.timedelta() <= now - self._at < HOT_KEEP:
            return self._terms
        use_places(places)
        async with db.read() as conn:
            topics = await hot_actions.period_topics(conn, now=now, days=HOT_DAYS, limit=HOT_SHOWN, places=places)
        self._terms = [
            {
                "name": "、".join(topic.terms),
                "value": topic.count,
                "rise": topic.rise,
                "rising": topic.rising,
                "areas": "、".join(topic.areas),
                "example": topic.examples[0] if topic.examples else "",
            }
            for topic in topics
        ]
        self._at = now
        return self._terms


async def event_panel(
    conn: AsyncConnection, now: dt.datetime, settings: Settings, catalogues: Catalogues, language: str
) -> list[dict[str, Any]]:
    """Open public-opinion events, gravest first, with each clock's due moment (ISO, for the page's countdown),
    state and minutes left at `now`."""
    found = await event_store.open_events(conn, EVENTS_SHOWN)
    clocks = await event_store.clocks_of(conn, [event.id for event in found])
    return [
        {
            "ref": event_ref(event.ref_no),
            "level": event.level,
            "colour": Level(event.level).colour,
            "level_name": catalogues.text(language, f"event.level.{event.level}"),
            "title": event.title,
            "source": source_ref(event.source, event.source_id),
            "raised": event.raised_at.astimezone(settings.tz).strftime("%m-%d %H:%M"),
            "clocks": [
                {
                    "kind": clock.kind,
                    "name": catalogues.text(language, f"event.clock.{clock.kind}"),
                    "due": clock.due_at.astimezone(dt.UTC).isoformat(),
                    "state": clock_state(clock.due_at, clock.met_at, now),
                    "minutes_left": minutes_left(clock.due_at, now),
                    "missed": clock.escalated_at is not None,
                }
                for clock in clocks[event.id]
            ],
        }
        for event in found
    ]


def daily_series(moments: list[dt.datetime], days: list[dt.date], settings: Settings) -> list[int]:
    """How many of `moments` fall on each local day."""
    counts = dict.fromkeys(days, 0)
    for moment in moments:
        day = moment.astimezone(settings.tz).date()
        if day in counts:
            counts[day] += 1
    return [counts[day] for day in days]


async def figures(
    db: Database, settings: Settings, catalogues: Catalogues, now: dt.datetime, hot: HotTerms, language: str
) -> dict[str, Any]:
    """Everything the screen shows, as JSON-ready data."""
    today = now.astimezone(settings.tz).date()
    days = [today - dt.timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    local = now.astimezone(settings.tz)
    async with db.read() as conn:
        counters = {
            "needs": await store.count_wishes(conn),
            "projects": await store.count_projects(conn),
            "media": await store.count_tips(conn, ("accepted", "published")),
            "reports": await store.count_tips(conn, ("published",)),
            "open_cases": await case_store.count_open(conn),
        }
        by_area = await case_store.open_by_area(conn)
        late = await case_store.overdue_cases(conn, now, limit=200)
        names = await case_store.department_names(conn)
        rates = await case_rules.rates_between(conn, now - dt.timedelta(days=RATES_DAYS), now)
        open_events = await event_panel(conn, now, settings, catalogues, language)
        created = await store.created_since(
            conn, dt.datetime.combine(days[0], dt.time(), tzinfo=settings.tz).astimezone(dt.UTC)
        )
    counters["overdue_cases"] = len(late)
    label = {name: catalogues.text(language, f"screen.{name}") for name in LABELS}
    return {
        "labels": label,
        "counters": counters,
        "areas": [{"name": area, "value": by_area.get(area, 0)} for area in settings.areas],
        "overdue": [
            {
                "ref": case_ref(case.ref_no),
                "department": names.get(case.department_id, "—"),
                "area": case.area or "—",
                "tier": catalogues.text(language, f"case.tier.{case.tier}"),
                "hours_late": round(
                    (now - (case.ack_due_at if case.status == "sent" else case.resolve_due_at)).total_seconds() / 3600,
                    1,
                ),
            }
            for case in late[:OVERDUE_SHOWN]
        ],
        "rates": [
            {
                "name": r.name,
                "sent": r.sent,
                "response": None if r.response_rate is None else round(r.response_rate * 100, 1),
                "resolution": None if r.resolution_rate is None else round(r.resolution_rate * 100, 1),
                "satisfaction": None if r.satisfaction_rate is None else round(r.satisfaction_rate * 100, 1),
                "text": f"{percent(r.response_rate)} / {percent(r.resolution_rate)} / {percent(r.satisfaction_rate)}",
            }
            for r in rates
            if r.sent
        ],
        "hot": await hot.terms(db, now, settings.areas),
        "trend": {
            "days": [day.strftime("%m-%d") for day in days],
            "wishes": daily_series(created["wishes"], days, settings),
            "tips": daily_series(created["tips"], days, settings),
            "cases": daily_series(created["cases"], days, settings),
        },
        "events": open_events,
        "now": now.astimezone(dt.UTC).isoformat(),
        "updated": local.strftime("%Y-%m-%d %H:%M:%S"),
    }
