"""Which open wishes a volunteer sees first: matching skills and area, nearest first, in pages.

Plain functions over anything shaped like a wish (category, created_at, location); no database, no
Telegram. Distances use the haversine formula on a spherical Earth, which is within a fraction of a
percent at district scale.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

EARTH_RADIUS_KM = 6371.0088
PAGE_SIZE = 5


class Placed(Protocol):
    """What ordering needs to know about a wish."""

    @property
    def id(self) -> int: ...
    @property
    def category(self) -> str: ...
    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def location(self) -> tuple[float, float] | None: ...


T = TypeVar("T", bound=Placed)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def matches_skills(category: str, skills: Iterable[str]) -> bool:
    """A volunteer with no skills listed is offered everything; otherwise only their categories."""
    skill_set = set(skills)
    return not skill_set or category in skill_set


def matches_volunteer(category: str, area: str | None, skills: Iterable[str], volunteer_area: str | None) -> bool:
    """Skills match, and the areas agree when both are known (dispatching a wish to the right people)."""
    same_area = area is None or volunteer_area is None or area == volunteer_area
    return matches_skills(category, skills) and same_area


def distance_km(origin: tuple[float, float] | None, wish: Placed) -> float | None:
    """How far the wish is from the volunteer, when both locations are known."""
    if origin is None or wish.location is None:
        return None
    return haversine_km(origin, wish.location)


def order_tasks(wishes: Iterable[T], origin: tuple[float, float] | None) -> list[T]:
    """Nearest first among wishes with a location (when the volunteer has one), then the rest oldest first."""

    def key(wish: T) -> tuple[int, float, dt.datetime, int]:
        distance = distance_km(origin, wish)
        if distance is None:
            return (1, 0.0, wish.created_at, wish.id)
        return (0, distance, wish.created_at, wish.id)

    return sorted(wishes, key=key)


def select_tasks(
    wishes: Iterable[T], *, skills: Iterable[str], origin: tuple[float, float] | None, show_all: bool
) -> list[T]:
    """The open wishes a volunteer is offered, in order: matching skills unless `show_all`."""
    skill_set = frozenset(skills)
    chosen = [w for w in wishes if show_all or matches_skills(w.category, skill_set)]
    return order_tasks(chosen, origin)


def page_of(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[list[T], int, int]:
    """(items on the page, the page actually shown, number of pages); a page out of range is clamped."""
    pages = max(1, math.ceil(len(items) / size))
    page = min(max(0, page), pages - 1)
    return list(items[page * size : (page + 1) * size]), page, pages
