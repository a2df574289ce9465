"""Public-opinion events as plain rules: the four levels, each level's clocks and their defaults, when a clock warns,
the level suggested, and what staff type."""

from __future__ import annotations

import datetime as dt

import pytest

from core.settings import load_settings
from rules.events import (
    Clock,
    ClockHours,
    CloseRequest,
    EventInputError,
    Level,
    RaiseRequest,
    Record,
    RecordRequest,
    Signals,
    Source,
    clock_state,
    clocks_for,
    level_choice,
    matching_topic,
    parse_command,
    parse_level_choice,
    suggest_level,
    topic_signals,
    warn_moment,
)
from rules.hot import Topic

T0 = dt.datetime(2026, 11, 3, 2, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def test_the_four_levels_and_their_colours() -> None:
    assert [(level.roman, level.colour) for level in Level] == [
        ("I", "red"),
        ("II", "orange"),
        ("III", "yellow"),
        ("IV", "blue"),
    ]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Level.I, {Clock.REPORT: 0.25 * H, Clock.FIRST_RESPONSE: 4 * H, Clock.INFORMATION: 5 * H, Clock.PRESS: 24 * H}),
        (
            Level.II,
            {Clock.REPORT: 0.25 * H, Clock.FIRST_RESPONSE: 4 * H, Clock.INFORMATION: 5 * H, Clock.PRESS: 24 * H},
        ),
        (Level.III, {Clock.REPORT: 1 * H, Clock.FIRST_RESPONSE: 4 * H, Clock.RESPONSE: 48 * H}),
        (Level.IV, {Clock.REPORT: 6 * H, Clock.FIRST_RESPONSE: 4 * H, Clock.RESPONSE: 48 * H}),
    ],
)
def test_each_level_runs_its_clocks_with_the_default_times(level: Level, expected: dict[Clock, dt.timedelta]) -> None:
    clocks = clocks_for(level, ClockHours())
    assert clocks == expected
    assert list(clocks.values()) == sorted(clocks.values()), "in the order they fall due"


def test_the_settings_defaults_are_the_rules_defaults() -> None:
    settings = load_settings(bot_token="123456:EVENTS", _env_file=None)
    from_settings = ClockHours(
        report_major=settings.event_report_major_hours,
        report_large=settings.event_report_large_hours,
        report_general=settings.event_report_general_hours,
        first_response=settings.event_first_response_hours,
        information=settings.event_information_hours,
        press=settings.event_press_hours,
        response=settings.event_response_hours,
    )
    assert from_settings == ClockHours()


def test_a_configured_time_changes_the_clock() -> None:
    assert clocks_for(Level.II, ClockHours(information=3))[Clock.INFORMATION] == 3 * H


@pytest.mark.parametrize(
    ("allowed", "warns_after"),
    [
        (5 * H, 4.5 * H),  # 80 % would be 4 h: at most 30 minutes before
        (0.25 * H, 12 * dt.timedelta(minutes=1)),  # a short clock warns at 80 %
        (48 * H, 47.5 * H),
    ],
)
def test_a_clock_warns_at_80_percent_or_30_minutes_before(allowed: dt.timedelta, warns_after: dt.timedelta) -> None:
    assert warn_moment(T0, T0 + allowed, share=0.8, most_before=dt.timedelta(minutes=30)) == T0 + warns_after


def test_a_clock_is_running_overdue_met_or_met_late() -> None:
    due = T0 + 5 * H
    assert clock_state(due, None, T0 + H) == "running"
    assert clock_state(due, None, due) == "overdue"
    assert clock_state(due, T0 + H, T0 + 9 * H) == "met"
    assert clock_state(due, due + H, due + 2 * H) == "met_late"


@pytest.mark.parametrize(
    ("signals", "level"),
    [
        (Signals(volume=3, rise=1.0, areas=1, text="路灯不亮"), Level.IV),
        (Signals(volume=25, rise=2.5, areas=1, text="路灯不亮"), Level.III),
        (Signals(volume=25, rise=2.5, areas=2, text="南湖社区停水"), Level.II),
        (Signals(volume=60, rise=6.0, areas=3, text="化工厂爆炸"), Level.I),
        (Signals(volume=1, rise=1.0, areas=1, text="小区有人中毒"), Level.III),  # a sensitive word alone: III
    ],
)
def test_the_level_is_suggested_from_volume_rise_areas_and_sensitive_words(signals: Signals, level: Level) -> None:
    assert suggest_level(signals) == level


def test_what_event_commands_mean() -> None:
    assert parse_command(["H-3"]) == RaiseRequest(Source("hot", 3), None)
    assert parse_command(["W-0042", "II"]) == RaiseRequest(Source("wish", 42), Level.II)
    assert parse_command(["C-0001", "重大"]) == RaiseRequest(Source("case", 1), Level.II)
    assert parse_command(["南湖社区", "停水"]) == RaiseRequest(Source("text", text="南湖社区 停水"), None)
    assert parse_command(["E-1", "上报", "已电话报告区委"]) == RecordRequest(1, Record(Clock.REPORT, "已电话报告区委"))
    assert parse_command(["e1", "发布", "T-0003"]) == RecordRequest(1, Record(Clock.INFORMATION, "T-0003", tip=3))
    assert parse_command(["E-2", "记录", "约谈物业"]) == RecordRequest(2, Record(None, "约谈物业"))
    assert parse_command(["E-1", "结案", "已恢复供水"]) == CloseRequest(1, "已恢复供水")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ([], "event.usage"),
        (["停" * 61], "event.title_too_long"),
        (["E-1"], "event.record_usage"),
        (["E-1", "开会", "讨论"], "event.record_usage"),
        (["E-1", "上报"], "event.record_usage"),
        (["E-1", "上报", "字" * 301], "event.text_too_long"),
        (["E-1", "结案"], "event.close_usage"),
    ],
)
def test_what_is_refused_says_why(args: list[str], reason: str) -> None:
    with pytest.raises(EventInputError) as refused:
        parse_command(args)
    assert refused.value.reason == reason


def test_a_level_button_carries_its_source_and_level_and_nothing_else() -> None:
    assert level_choice(Source("hot", 3), Level.II) == "h3.2"
    assert parse_level_choice("h3.2") == (Source("hot", 3), Level.II)
    assert parse_level_choice("x7.4") == (Source("text", 7), Level.IV)
    with pytest.raises(EventInputError):
        parse_level_choice("h3.5")


def test_a_topics_words_name_the_weeks_topic_and_take_its_signals() -> None:
    lights = Topic(("路灯",), 3, 1.2, False, ("东城社区",), ("路灯不亮",))
    water = Topic(("停水", "来水"), 12, 4.5, True, ("南湖社区", "西城社区"), ("停水两天了",))
    assert matching_topic("南湖社区停水", [water, lights]) == water
    assert matching_topic("路灯", [water, lights]) == lights
    assert matching_topic("垃圾", [water, lights]) is None
    signals = topic_signals("停水", water)
    assert (signals.volume, signals.rise, signals.areas) == (12, 4.5, 2)
    assert suggest_level(signals) == Level.II  # rise ×4.5 (1), two areas (1), 停水 (2)
