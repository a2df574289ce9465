"""The /stats chart renders Chinese as characters: the font used has the glyphs and nothing was reported missing."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from rules.charts import Panel, cjk_font, has_glyphs, render_chart
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
        "from rules.charts import Panel, cjk_font, has_glyphs, render_chart;"
        "path = str(cjk_font().get_file()); assert has_glyphs(path, '心愿状态'), path;"
        "render_chart('同心', [Panel('心愿状态', ['待认领'], [1])]); print(path)"
    )
    environment = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "empty-cache")}
    done = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "CJK" in done.stdout or "wqy" in done.stdout or "Han" in done.stdout
