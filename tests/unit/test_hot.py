"""Hot topics as plain rules: segmentation with the district dictionary, stopwords, top terms, the planted spike
rising first, terms ranked by their rise, messages grouped into topics and quoted without names or numbers."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections import Counter
from pathlib import Path

import pytest

from rules.hot import (
    count_terms,
    dictionary,
    group_topics,
    hot_report,
    parse_days,
    rank_terms,
    redact,
    rise_of,
    rising_terms,
    stopwords,
    terms_of,
    use_places,
)

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


# --- topics, not words (issue 29) --------------------------------------------------------------------------------

# The demo's top ten before the district dictionary and the filler stopwords: 社区 5 · 一次 2 · 义诊 2 · 南湖 2 ·
# 实践 2 · 志愿者 2 · 我家 2 · 文明 2 · 方便 2 · 时代 2.
FILLER = ("一次", "我家", "方便", "现在", "时候", "今天", "大家", "一下", "这个", "那个", "还是")
FRAGMENTS = ("时代", "文明", "实践", "南湖")


@pytest.mark.parametrize("word", FILLER)
def test_spoken_filler_is_never_a_term(word: str) -> None:
    assert word in stopwords()
    assert word not in terms_of(f"我家楼下{word}停水了，{word}真不方便")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("西城社区新时代文明实践站今天上午举办义诊", "新时代文明实践站"),
        ("新时代文明实践中心组织志愿者上门服务", "新时代文明实践中心"),
        ("参加文明实践活动的志愿者", "文明实践"),
        ("南湖社区湖滨路的路灯坏了", "南湖社区"),
        ("融媒体中心和网络安全应急指挥中心一起开会", "网络安全应急指挥中心"),
    ],
)
def test_the_names_of_centres_and_places_stay_one_term(text: str, name: str) -> None:
    terms = terms_of(text)
    assert name in terms
    assert not terms & {*FRAGMENTS, "社区", "中心"}


def test_a_configured_area_stays_one_term() -> None:
    assert terms_of("白鹭洲街道停电了") != {"白鹭洲街道", "停电"}
    use_places(["白鹭洲街道"])
    assert terms_of("白鹭洲街道停电了") == {"白鹭洲街道", "停电"}


def test_the_issues_bad_top_ten_cannot_come_back() -> None:
    texts = [
        "我家老人想参加一次新时代文明实践中心的义诊，现在方便吗",
        "南湖社区的志愿者今天来过一次，大家都说方便",
        "新时代文明实践站组织义诊，南湖社区居民这个时候都在",
    ]
    counted = count_terms(texts)
    assert not counted.keys() & {*FILLER, *FRAGMENTS, "社区"}
    assert {"新时代文明实践中心", "新时代文明实践站", "南湖社区", "义诊", "志愿者"} <= counted.keys()


def test_a_brand_new_mention_does_not_outrank_a_real_rise() -> None:
    current = Counter({"社区": 100, "停水": 10, "新词": 1, "两次": 2})
    baseline = Counter({"社区": 400, "停水": 8})
    ranked = rank_terms(current, 200, baseline, 800, min_count=1)
    assert [r.term for r in ranked] == ["停水", "两次", "新词", "社区"]
    assert ranked[-1].rise == pytest.approx(1.0)  # as frequent as always
    assert ranked[0].rise == pytest.approx((10 + 3) / (2 + 3))
    assert rise_of(1, 200, 0, 800) == pytest.approx(4 / 3)


def test_without_any_history_terms_rank_by_count() -> None:
    ranked = rank_terms(Counter({"路灯": 5, "停水": 7, "义诊": 2}), 20, Counter(), 0)
    assert [r.term for r in ranked] == ["停水", "路灯", "义诊"]


def test_messages_group_under_shared_leading_terms() -> None:
    texts = {
        1: frozenset({"停水", "自来水", "南湖社区"}),
        2: frozenset({"停水", "自来水", "南湖社区", "老人"}),
        3: frozenset({"停水", "南湖社区"}),
        4: frozenset({"老人", "义诊"}),
        5: frozenset({"老人", "义诊"}),
        6: frozenset({"老人"}),
    }
    baseline = Counter({"老人": 12, "义诊": 8, "南湖社区": 4})
    ranked = rank_terms(count_terms_of(texts), 6, baseline, 24)
    # A place is where a topic is, never what it is about.
    assert "南湖社区" not in [r.term for r in ranked]
    groups = group_topics(texts, ranked)
    assert [(g.terms, g.members) for g in groups] == [
        (("停水", "自来水"), (1, 2, 3)),
        (("老人", "义诊"), (4, 5, 6)),
    ]
    assert group_topics(texts, ranked, limit=1)[0].terms == ("停水", "自来水")


def test_a_surge_told_in_other_words_stays_one_topic() -> None:
    # "没水" is new (it rises fastest), "停水" also rises but had a baseline: one outage, one topic.
    texts = {n: frozenset({"停水", "没水"}) for n in range(1, 6)} | {n: frozenset({"停水"}) for n in range(6, 9)}
    texts |= {n: frozenset({"老人"}) for n in range(9, 12)}
    ranked = rank_terms(count_terms_of(texts), 11, Counter({"停水": 8, "老人": 12}), 44)
    assert [r.term for r in ranked[:2]] == ["没水", "停水"]
    [outage, elderly] = group_topics(texts, ranked)
    assert outage.terms == ("停水", "没水")  # the term most of its messages hold first
    assert outage.members == tuple(range(1, 9))
    assert outage.seed.term == "没水"
    assert outage.claims == ("没水", "停水")  # its messages are those holding either word
    assert elderly.terms == ("老人",)


def count_terms_of(texts: dict[int, frozenset[str]]) -> Counter[str]:
    return Counter(term for terms in texts.values() for term in terms)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("南湖社区停水两天了，电话13812345678", "南湖社区停水两天了，电话*"),
        ("老李家3号楼停水了，小周来看过", "某家*号楼停水了，某来看过"),
        ("融媒体中心记者刘晓东来采访", "融媒体中心记者某某来采访"),
        ("请联系陈丽华，赵志刚师傅来修过", "请联系某某，某某师傅来修过"),
        ("张秀英阿姨说家里的橘子熟了", "某某阿姨说家里的橘子熟了"),
    ],
)
def test_examples_are_quoted_without_names_and_numbers(text: str, quoted: str) -> None:
    assert redact(text) == quoted


def test_a_long_example_is_cut() -> None:
    assert redact("停水" * 50) == "停水" * 29 + "停…"
    assert len(redact("停水" * 50)) == 60


def test_a_way_of_calling_someone_is_not_a_term() -> None:
    assert not terms_of("王大爷和小周说停水了") & {"王大爷", "小周"}


def test_what_is_loaded_with_the_dictionary_is_out_of_the_collectors_reach() -> None:
    """A full garbage collection walked every object of the process (20-40 ms); once the dictionary is loaded
    the collector no longer walks what was loaded with it."""
    dictionary()
    assert gc.get_freeze_count() > 10_000
