"""Case rules: tiers and their deadlines, escalation moments, what staff type, the lifecycle table, centroids."""

from __future__ import annotations

import datetime as dt

import pytest

from rules.cases import (
    CaseAction,
    CaseInputError,
    CaseRequest,
    deadlines,
    escalation_moments,
    next_status,
    parse_case_request,
    parse_department,
    parse_month,
    rates_of,
)
from rules.district import load_district, ring_centroid
from storage.errors import Conflict

SENT = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
HOURS = {"urgent": 2.0, "utility": 24.0, "general": 168.0, "complex": 360.0}


@pytest.mark.parametrize(
    ("tier", "ack", "resolve"),
    [("urgent", 0.5, 2), ("utility", 6, 24), ("general", 24, 168), ("complex", 24, 360)],
)
def test_each_tier_has_its_deadlines(tier: str, ack: float, resolve: float) -> None:
    due = deadlines(SENT, tier, HOURS, ack_share=0.25, ack_max_hours=24)
    assert due.ack_due == SENT + dt.timedelta(hours=ack)
    assert due.resolve_due == SENT + dt.timedelta(hours=resolve)


def test_escalation_is_at_the_deadline_then_at_twice_the_time() -> None:
    assert escalation_moments(SENT, SENT + dt.timedelta(hours=6)) == (
        SENT + dt.timedelta(hours=6),
        SENT + dt.timedelta(hours=12),
    )


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("sent", CaseAction.ACKNOWLEDGE, "acknowledged"),
        ("acknowledged", CaseAction.RESOLVE, "resolved"),
        ("sent", CaseAction.RETURN, "returned"),
        ("acknowledged", CaseAction.RETURN, "returned"),
        ("sent", CaseAction.RESOLVE, None),
        ("acknowledged", CaseAction.ACKNOWLEDGE, None),
        ("resolved", CaseAction.RETURN, None),
        ("returned", CaseAction.ACKNOWLEDGE, None),
    ],
)
def test_the_lifecycle_table(status: str, action: CaseAction, after: str | None) -> None:
    if after is None:
        with pytest.raises(Conflict):
            next_status(status, action)
    else:
        assert next_status(status, action) == after


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["W-0042", "城管", "urgent"], CaseRequest("wish", 42, "城管", "urgent")),
        (["t7", "民政"], CaseRequest("tip", 7, "民政", None)),
        (["H-3", "交通", "COMPLEX"], CaseRequest("hot", 3, "交通", "complex")),
    ],
)
def test_case_orders(args: list[str], expected: CaseRequest) -> None:
    assert parse_case_request(args) == expected


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ([], "case.usage"),
        (["W-1"], "case.usage"),
        (["X-1", "城管"], "case.bad_source"),
        (["W-0", "城管"], "case.bad_source"),
        (["W-1", "城管", "soon"], "case.bad_tier"),
    ],
)
def test_bad_case_orders(args: list[str], reason: str) -> None:
    with pytest.raises(CaseInputError) as caught:
        parse_case_request(args)
    assert caught.value.reason == reason


def test_departments_are_validated_against_the_settings() -> None:
    draft = parse_department(
        ["城管", "environment,other", "东城社区、西城社区"], ["environment", "other"], ["东城社区", "西城社区"]
    )
    assert (draft.name, draft.categories, draft.areas) == ("城管", ("environment", "other"), ("东城社区", "西城社区"))
    assert parse_department(["民政", "*"], ["a", "b"], ["x"]).categories == ("a", "b")
    with pytest.raises(CaseInputError) as caught:
        parse_department(["城管", "nope"], ["environment"], ["东城社区"])
    assert caught.value.reason == "department.bad_category"
    with pytest.raises(CaseInputError):
        parse_department(["x" * 33], ["environment"], ["东城社区"])


def test_months() -> None:
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_month("2026-11", SENT, shanghai) == (2026, 11)
    assert parse_month(None, dt.datetime(2026, 11, 30, 17, tzinfo=dt.UTC), shanghai) == (2026, 12)
    with pytest.raises(CaseInputError):
        parse_month("2026-13", SENT, shanghai)


def test_rates_without_cases_are_none() -> None:
    rates = rates_of(1, "城管", [])
    assert (rates.response_rate, rates.resolution_rate, rates.satisfaction_rate, rates.score) == (
        None,
        None,
        None,
        None,
    )


def test_the_shipped_map_names_every_default_area_and_centroids_fall_inside_the_district() -> None:
    from core.settings import DEFAULT_AREAS

    district = load_district()
    assert set(district.centroids) == set(DEFAULT_AREAS)
    for lat, lon in district.centroids.values():
        assert 34.0 < lat < 34.35
        assert 112.25 < lon < 112.7
    assert ring_centroid([[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]) == (1.0, 1.0)
