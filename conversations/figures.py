"""The staff's figures (/stats) in words and as a chart, written once for every channel: Telegram's /stats and
统计 in the WeCom application say the same thing. A channel passes how it fills a catalogue text in the person's
language (`Fill`: Telegram HTML, or the plain text of WeChat and WeCom) and which keys the language defines."""

from __future__ import annotations

from collections.abc import Callable, Collection

from rules.charts import Panel, render_chart
from rules.stats import Figures

Fill = Callable[..., str]  # (key, **values) → the text, as the channel shows it


def label(fill: Fill, known: Collection[str], key: str, raw: str) -> str:
    """A translated label for a stored value, or the value itself when there is no message for it."""
    return fill(key) if key in known else (raw or fill("stats.none"))


def stats_text(fill: Fill, known: Collection[str], figures: Figures) -> str:
    """The figures of a period: one block per question staff ask."""

    def breakdown(counts: dict[str, int], prefix: str) -> str:
        if not counts:
            return fill("stats.none")
        return "、".join(f"{label(fill, known, prefix + key, key)} {count}" for key, count in counts.items())

    def hours(value: float | None) -> str:
        return fill("stats.none") if value is None else fill("stats.hours", hours=value)

    return fill(
        "stats.text",
        period=fill(f"stats.period.{figures.period}"),
        wishes=figures.wishes,
        by_status=breakdown(figures.wishes_by_status, "stats.wish_status."),
        by_category=breakdown(figures.wishes_by_category, "category."),
        by_area=breakdown(figures.wishes_by_area, "stats.area."),
        to_claim=hours(figures.median_hours_to_claim),
        to_done=hours(figures.median_hours_to_done),
        volunteer_hours=figures.volunteer_hours,
        tasks=figures.volunteer_tasks,
        tips=figures.tips,
        tips_by_status=breakdown(figures.tips_by_status, "tip.status."),
    )


def stats_chart(fill: Fill, plain: Fill, known: Collection[str], figures: Figures) -> bytes:
    """The chart (PNG): wishes by status and by category, tips by outcome (`plain` fills what is drawn as is)."""

    def panel(title_key: str, counts: dict[str, int], prefix: str) -> Panel:
        labels = [label(fill, known, prefix + k, k) for k in counts]
        return Panel(fill(title_key), labels, list(counts.values()), no_data=plain("stats.chart_no_data"))

    return render_chart(
        fill("stats.chart_title", period=fill(f"stats.period.{figures.period}")),
        [
            panel("stats.chart_status", figures.wishes_by_status, "stats.wish_status."),
            panel("stats.chart_category", figures.wishes_by_category, "category."),
            panel("stats.chart_tips", figures.tips_by_status, "tip.status."),
        ],
    )
