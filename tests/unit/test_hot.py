"""Hot topics as plain rules: segmentation, stopwords, top terms and the planted spike rising first."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from rules.hot import count_terms, hot_report, parse_days, rising_terms, stopwords, terms_of

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "hot_needs.json"
NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


def fixture_texts() -> tuple[str, list[tuple[dt.datetime, str]]]:
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    texts = [(NOW - dt.timedelta(days=item["days_ago"]), item["text"]) for item in document["items"]]
    return document["spike_term"], texts


def test_chinese_is_segmented_and_filler_dropped() -> None:
    terms = terms_of("小区停水三天了，希望有人帮忙送水")
    assert "停水" in terms
    assert "小区" in terms
    assert not terms & {"希望", "有人", "帮忙", "了", "，"}


def test_the_stopword_list_is_shipped() -> None:
    assert {"的", "希望", "需要"} <= stopwords()


def test_a_term_counts_once_per_text() -> None:
    assert count_terms(["停水停水停水", "停水"])["停水"] == 2


def test_planted_spike_comes_first_among_rising_terms() -> None:
    spike, texts = fixture_texts()
    report = hot_report(texts, now=NOW, days=7)
    assert report.rising, "the fixture must produce rising terms"
    assert report.rising[0].term == spike
    assert report.rising[0].previous == 1
    # Terms as common in both weeks (the elderly, medicine) are top terms but not rising.
    assert "老人" in [t.term for t in report.top[:3]]
    assert "老人" not in [r.term for r in report.rising]


def test_nothing_rises_in_an_empty_period() -> None:
    assert rising_terms(count_terms([]), 0, count_terms(["停水"]), 1) == []


@pytest.mark.parametrize(("word", "days"), [(None, 7), ("30", 30), ("0", 1), ("999", 90), ("abc", 7)])
def test_period_of_hot(word: str | None, days: int) -> None:
    assert parse_days(word) == days
