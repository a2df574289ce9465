"""Matching open wishes to a volunteer: skills, nearest first, oldest first without a location, pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from rules.matching import haversine_km, matches_volunteer, order_tasks, page_of, select_tasks

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class W:
    id: int
    category: str
    created_at: dt.datetime
    location: tuple[float, float] | None = None


def test_haversine_known_distance() -> None:
    # Shanghai People's Square to Beijing Tiananmen: about 1067 km.
    assert haversine_km((31.2304, 121.4737), (39.9087, 116.3975)) == pytest.approx(1067, rel=0.01)
    assert haversine_km((31.0, 121.0), (31.0, 121.0)) == 0


def test_nearest_first_then_oldest_without_location() -> None:
    far = W(1, "other", T0, (31.5, 121.0))
    near = W(2, "other", T0 + dt.timedelta(hours=5), (31.01, 121.0))
    old_unplaced = W(3, "other", T0 - dt.timedelta(days=1))
    new_unplaced = W(4, "other", T0 + dt.timedelta(days=1))
    ordered = order_tasks([new_unplaced, far, old_unplaced, near], (31.0, 121.0))
    assert [w.id for w in ordered] == [2, 1, 3, 4]


def test_oldest_first_when_the_volunteer_has_no_location() -> None:
    wishes = [W(1, "other", T0 + dt.timedelta(hours=2), (31.0, 121.0)), W(2, "other", T0)]
    assert [w.id for w in order_tasks(wishes, None)] == [2, 1]


def test_skills_filter_and_show_all() -> None:
    wishes = [W(1, "free_clinic", T0), W(2, "environment", T0)]
    assert [w.id for w in select_tasks(wishes, skills={"environment"}, origin=None, show_all=False)] == [2]
    assert len(select_tasks(wishes, skills={"environment"}, origin=None, show_all=True)) == 2
    # No skills listed: offered everything.
    assert len(select_tasks(wishes, skills=set(), origin=None, show_all=False)) == 2


def test_area_matching() -> None:
    assert matches_volunteer("other", "东城社区", {"other"}, "东城社区")
    assert not matches_volunteer("other", "东城社区", {"other"}, "西城社区")
    assert matches_volunteer("other", None, {"other"}, "西城社区")


@pytest.mark.parametrize(("page", "shown", "ids"), [(0, 0, [0, 1, 2, 3, 4]), (2, 2, [10, 11]), (9, 2, [10, 11])])
def test_pages_of_five(page: int, shown: int, ids: list[int]) -> None:
    items = [W(i, "other", T0) for i in range(12)]
    got, actual, pages = page_of(items, page)
    assert ([w.id for w in got], actual, pages) == (ids, shown, 3)
