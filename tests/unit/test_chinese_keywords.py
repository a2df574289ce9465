"""What staff type is read in Chinese first, and the English keywords keep working (issue 27): the tiers of /case,
the kinds of /export, the categories of /newdept, the periods of /stats; what a choice button carries reads back."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from rules.cases import (
    CaseInputError,
    CaseOrder,
    CaseRequest,
    DepartmentDraft,
    missed_deadline,
    parse_case_request,
    parse_department,
    parse_tier_choice,
    tier_choice,
)
from rules.exports import ExportError, kind_choice, local_range, parse_export
from rules.staff import Target, invite_role, parse_role_change
from rules.stats import parse_period

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
CATEGORIES = ["environment", "traffic_guidance", "other"]
AREAS = ["东城社区", "西城社区"]
NAMES = {"环境整治": "environment", "交通劝导": "traffic_guidance", "Traffic guidance": "traffic_guidance"}


@pytest.mark.parametrize(
    ("word", "tier"),
    [
        ("紧急", "urgent"),
        ("水电气", "utility"),
        ("一般", "general"),
        ("复杂", "complex"),
        ("urgent", "urgent"),
        ("Utility", "utility"),
        ("GENERAL", "general"),
        ("complex", "complex"),
    ],
)
def test_every_tier_has_its_chinese_word_and_the_english_keeps_working(word: str, tier: str) -> None:
    assert parse_case_request(["W-0042", "城管", word]) == CaseRequest("wish", 42, "城管", tier)


@pytest.mark.parametrize("word", ["很急", "soon", "紧", ""])
def test_another_tier_word_is_refused_with_the_tiers_named(word: str) -> None:
    with pytest.raises(CaseInputError) as caught:
        parse_case_request(["W-1", "城管", word])
    assert caught.value.reason == "case.bad_tier"


def test_a_case_without_a_tier_asks_for_one_and_the_button_carries_it_back() -> None:
    request = parse_case_request(["T-7", "城管"])
    assert request.tier is None
    carried = tier_choice(request.source, request.number, "utility")
    assert carried == "t7.utility"
    assert parse_tier_choice("城管", carried) == CaseOrder("tip", 7, "城管", "utility")
    with pytest.raises(CaseInputError):
        parse_tier_choice("城管", "t7.soon")
    with pytest.raises(CaseInputError):
        parse_tier_choice("城管", "x7.urgent")


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("心愿", "wishes"),
        ("报料", "tips"),
        ("时长", "hours"),
        ("服务时长", "hours"),
        ("案件", "cases"),
        ("部门案件", "cases"),
        ("wishes", "wishes"),
        ("Tips", "tips"),
        ("HOURS", "hours"),
        ("cases", "cases"),
    ],
)
def test_every_export_kind_has_its_chinese_word_and_the_english_keeps_working(word: str, kind: str) -> None:
    assert parse_export([word], NOW, TZ)[0] == kind


def test_an_export_without_a_kind_keeps_its_dates_for_the_kind_buttons() -> None:
    kind, since, until = parse_export(["2026-11-01", "2026-11-30"], NOW, TZ)
    assert kind is None
    first, last = local_range(since, until, TZ)
    assert (first, last) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    carried = kind_choice("hours", first, last)
    assert carried == "hours_2026-11-01_2026-11-30"
    assert parse_export(carried.split("_"), NOW, TZ) == ("hours", since, until)
    # Nothing typed: the last 30 days, ending today.
    kind, since, until = parse_export([], NOW, TZ)
    assert kind is None
    assert local_range(since, until, TZ) == (dt.date(2026, 11, 8), dt.date(2026, 12, 7))


@pytest.mark.parametrize(("args", "reason"), [(["照片"], "export.usage"), (["心愿", "昨天"], "export.bad_date")])
def test_an_export_that_cannot_be_read_says_why(args: list[str], reason: str) -> None:
    with pytest.raises(ExportError) as caught:
        parse_export(args, NOW, TZ)
    assert caught.value.reason == reason


def test_department_categories_are_typed_by_their_chinese_names() -> None:
    draft = parse_department(["城管", "环境整治、交通劝导", "东城社区"], CATEGORIES, AREAS, NAMES)
    assert draft == DepartmentDraft("城管", ("environment", "traffic_guidance"), ("东城社区",))
    # The keys and the English labels (any case) keep working; 全部 means every category.
    assert parse_department(["城管", "environment,traffic guidance"], CATEGORIES, AREAS, NAMES).categories == (
        "environment",
        "traffic_guidance",
    )
    assert parse_department(["城管", "全部", "全部"], CATEGORIES, AREAS, NAMES) == DepartmentDraft(
        "城管", tuple(CATEGORIES), tuple(AREAS)
    )
    with pytest.raises(CaseInputError) as caught:
        parse_department(["城管", "环境,交通"], CATEGORIES, AREAS, NAMES)
    assert (caught.value.reason, caught.value.values) == ("department.bad_category", {"value": "环境, 交通"})


def test_a_department_without_categories_typed_has_them_chosen_by_toggles() -> None:
    draft = parse_department(["水务"], CATEGORIES, AREAS, NAMES)
    assert draft == DepartmentDraft("水务", (), tuple(AREAS))
    chosen = draft.toggled("environment").toggled("other").toggled("environment")
    assert chosen.categories == ("other",)
    assert DepartmentDraft.from_json(chosen.to_json()) == chosen
    assert DepartmentDraft.from_json({"name": 3}) is None


@pytest.mark.parametrize(
    ("word", "period"), [("7天", "7d"), ("30天", "30d"), ("全部", "all"), ("7d", "7d"), ("all", "all")]
)
def test_stats_periods_in_chinese(word: str, period: str) -> None:
    assert parse_period(word) == period


def test_the_deadline_an_open_case_missed() -> None:
    ack, resolve = NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=1)
    assert missed_deadline("sent", ack, resolve, NOW) == ack
    assert missed_deadline("acknowledged", ack, resolve, NOW) is None
    assert missed_deadline("acknowledged", ack, NOW, NOW) == NOW
    assert missed_deadline("resolved", ack, ack, NOW) is None


@pytest.mark.parametrize(
    ("word", "role"),
    [
        ("协调员", "coordinator"),
        ("编辑", "editor"),
        ("舆情监测员", "monitor"),
        ("监测员", "monitor"),
        ("Editor", "editor"),
    ],
)
def test_roles_are_granted_by_their_chinese_names(word: str, role: str) -> None:
    change = parse_role_change([word, "P-12"])
    assert (change.role.value, change.target) == (role, Target(person_id=12))


@pytest.mark.parametrize(
    ("word", "role"),
    [
        ("志愿者", "volunteer"),
        ("记者", "reporter"),
        ("流动记者", "reporter"),
        ("协调员", "coordinator"),
        ("Reporter", "reporter"),
    ],
)
def test_invites_name_their_role_in_chinese_or_english(word: str, role: str) -> None:
    assert invite_role(word) == role
