"""The /stats chart renders Chinese as characters: the font used has the glyphs and nothing was reported missing."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from rules.charts import Panel, cjk_font, draw_chart, has_glyphs, percent_panel, render_chart
from rules.stats import median_hours, parse_period

LABELS = ["待认领", "已认领", "已确认", "助老助残", "义诊", "已发布"]


def test_the_chart_font_has_chinese_glyphs() -> None:
    path = cjk_font().get_file()
    assert path is not None
    assert has_glyphs(str(path), "".join(LABELS) + "同心数据统计心愿状态")


def test_a_font_cache_older_than_the_font_install_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib writes its font list once; a CJK font installed later is missing from it (seen in CI)."""
    from matplotlib import font_manager

    def not_in_cache(*_args: object, **_kwargs: object) -> str:
        raise ValueError("not in the cached font list")

    monkeypatch.setattr(font_manager, "findfont", not_in_cache)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    cjk_font.cache_clear()
    try:
        path = cjk_font().get_file()
    finally:
        cjk_font.cache_clear()
    assert path is not None
    assert has_glyphs(str(path), "".join(LABELS))


def test_chart_with_chinese_labels_renders_without_missing_glyphs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(
            "同心 · 数据统计（最近 7 天）",
            [Panel("心愿状态", LABELS[:3], [5, 3, 2]), Panel("心愿类别", LABELS[3:5], [4, 1])],
        )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5000
    missing = [str(w.message) for w in caught if "missing" in str(w.message).lower()]
    assert missing == []
    assert not [r for r in caplog.records if "missing" in r.getMessage().lower()]


def test_empty_period_still_draws() -> None:
    assert render_chart("空", [Panel("心愿状态", [], [])]).startswith(b"\x89PNG")


def texts_of(figure_axes: object) -> list[str]:
    """The words drawn on one panel (besides its title and ticks)."""
    return [text.get_text().strip() for text in getattr(figure_axes, "texts", [])]


def test_rates_run_from_0_to_100_and_no_ratings_yet_is_no_data_not_0_percent() -> None:
    """The 三率 chart (issue 27): 城管 has every rate, 水务 has no ratings yet; nobody has a resolution rate."""
    figure = draw_chart(
        "部门三率 2026-12（%）",
        [
            percent_panel("满意率", ["城管", "水务"], [0.5, None], "暂无数据"),
            percent_panel("办结率", ["城管", "水务"], [None, None], "暂无数据"),
            percent_panel("响应率", ["城管", "水务"], [1.0, 0.0], "暂无数据"),
        ],
    )
    satisfaction, resolution, response = figure.axes
    assert satisfaction.get_xlim() == (0, 100)
    assert [bar.get_width() for bar in satisfaction.patches] == [50.0]  # 水务 has no bar at all
    assert texts_of(satisfaction) == ["50%", "暂无数据"]
    # A real 0 % is a rate, drawn as one; the axis still runs to 100.
    assert response.get_xlim() == (0, 100)
    assert texts_of(response) == ["100%", "0%"]
    # A panel without any value has no axes (not -0.04..0.04 around a 0), only its title and the label.
    assert not resolution.axison
    assert len(resolution.patches) == 0
    assert texts_of(resolution) == ["暂无数据"]
    assert resolution.get_title() == "办结率"


def test_a_panel_with_missing_rates_is_laid_out_like_the_full_ones() -> None:
    """满意率 with two departments unrated: its bars are as thick and its rows as tall as the other panels', and the
    last row's "暂无数据" sits on its label's row, inside the axes, not on the x-axis."""
    names = ["城管", "卫健", "民政"]
    figure = draw_chart(
        "部门三率 2026-12（%）",
        [
            percent_panel("响应率", names, [1.0, 0.5, 1.0], "暂无数据"),
            percent_panel("满意率", names, [0.8, None, None], "暂无数据"),
        ],
    )
    response, satisfaction = figure.axes
    assert satisfaction.get_ylim() == response.get_ylim() == (2.5, -0.5)  # three rows, 城管 on top
    assert {bar.get_height() for bar in satisfaction.patches} == {bar.get_height() for bar in response.patches}
    assert [label.get_text() for label in satisfaction.get_yticklabels()] == names
    last_row = satisfaction.texts[-1]
    assert last_row.get_text().strip() == "暂无数据"
    assert last_row.get_position()[1] == 2  # 民政's row, half a row above the x-axis at 2.5


def test_an_empty_count_panel_says_no_data_and_a_full_one_starts_at_0() -> None:
    figure = draw_chart(
        "同心 · 数据统计",
        [
            Panel("心愿状态", ["待认领", "已认领"], [5, 3], no_data="暂无数据"),
            Panel("报料结果", [], [], no_data="暂无数据"),
        ],
    )
    counts, empty = figure.axes
    low, high = counts.get_xlim()
    assert low == 0
    assert high > 5
    assert texts_of(counts) == ["5", "3"]
    assert not empty.axison
    assert texts_of(empty) == ["暂无数据"]


@pytest.mark.parametrize(("word", "period"), [(None, "7d"), ("30d", "30d"), ("30", "30d"), ("all", "all"), ("x", "7d")])
def test_stats_period(word: str | None, period: str) -> None:
    assert parse_period(word) == period


def test_median_waiting_time() -> None:
    import datetime as dt

    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    spans = [(t, t + dt.timedelta(hours=h)) for h in (1, 3, 10)] + [(t, None)]
    assert median_hours(spans) == 3.0
    assert median_hours([(t, None)]) is None


def test_a_fresh_process_with_an_empty_matplotlib_cache_draws_chinese(tmp_path: Path) -> None:
    """The font is found by its file, not through a font list matplotlib has yet to write (an empty cache)."""
    script = (
        "import warnings; warnings.simplefilter('error');"
        "from rules.charts import Panel, cjk_font, draw_chart, has_glyphs, percent_panel, render_chart;"
        "path = str(cjk_font().get_file()); assert has_glyphs(path, '心愿状态'), path;"
        "render_chart('同心', [Panel('心愿状态', ['待认领'], [1])]); print(path)"
    )
    environment = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "empty-cache")}
    done = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "CJK" in done.stdout or "wqy" in done.stdout or "Han" in done.stdout
