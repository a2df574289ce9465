"""Plain words: the intent and the category guessed from the catalogues' keyword lists, in both languages."""

from __future__ import annotations

import pytest

from bot.i18n import Catalogues
from handlers.plain_words import keywords_of
from rules.intent import Intent, Keywords, classify, guess_category, parse_list
from rules.text import word_count

CATEGORIES = [
    "policy_talk",
    "free_clinic",
    "hardship_help",
    "elderly_disabled",
    "environment",
    "farm_help",
    "traffic_guidance",
    "other",
]


@pytest.fixture(scope="module")
def keywords() -> Keywords:
    return keywords_of(Catalogues())


@pytest.mark.parametrize(
    ("text", "volunteer", "reporter", "expected"),
    [
        ("你好，我想找人帮忙", False, False, Intent.NEED),
        ("家里水管坏了，没人会修", False, False, Intent.NEED),
        ("Hello, is anybody there? My street light is broken.", False, False, Intent.NEED),
        ("你好", False, False, Intent.GREETING),
        ("hi", False, False, Intent.GREETING),
        ("谢谢你们", False, False, Intent.THANKS),
        ("Thank you!", False, False, Intent.THANKS),
        ("这是干什么的？", False, False, Intent.QUESTION),
        ("What is this?", False, False, Intent.QUESTION),
        ("有什么任务吗", True, False, Intent.TASKS),
        ("有什么任务吗", False, False, Intent.QUESTION),  # not a volunteer: no tasks to show
        ("Any tasks for me today?", True, False, Intent.TASKS),
        ("今天下午城关镇桥头发生一起车祸，现场有交警", False, True, Intent.NEWS),
        ("今天下午城关镇桥头发生一起车祸，现场有交警", False, False, Intent.OTHER),
        ("banana", False, False, Intent.OTHER),
        ("🙏🙏🙏", False, False, Intent.OTHER),
    ],
)
def test_intent(keywords: Keywords, text: str, volunteer: bool, reporter: bool, expected: Intent) -> None:
    assert classify(text, keywords, volunteer=volunteer, reporter=reporter) == expected


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我家老人行动不便，想找人帮忙买菜", "elderly_disabled"),
        ("My grandmother lives alone and needs groceries", "elderly_disabled"),
        ("楼下的路灯坏了，垃圾也没人收", "environment"),
        ("想请医生帮忙量量血压", "free_clinic"),
        ("果园的收成卖不出去", "farm_help"),
        ("家里水管坏了", "other"),
    ],
)
def test_category_guess(keywords: Keywords, text: str, category: str) -> None:
    assert guess_category(text, keywords, CATEGORIES) == category


def test_keyword_lists_are_parsed_in_both_separators() -> None:
    assert parse_list("帮忙, 求助，help、 Fix ") == frozenset({"帮忙", "求助", "help", "fix"})


def test_latin_keywords_match_whole_words_only(keywords: Keywords) -> None:
    assert classify("this is a helpless situation of a shipment", keywords) is not Intent.NEED
    assert classify("please help", keywords) is Intent.NEED


@pytest.mark.parametrize(("text", "count"), [("🙏🙏🙏🙏🙏", 0), ("😀😀👍", 0), ("帮我买菜", 4), ("ok!", 2)])
def test_word_count_ignores_emoji_and_punctuation(text: str, count: int) -> None:
    assert word_count(text) == count
