"""Plain words: the classifier's accuracy on the held-out examples, the answer by role, and the category guessed
from the catalogues' keyword lists, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.i18n import Catalogues
from handlers.plain_words import keywords_of
from rules.intent import (
    Answer,
    Intent,
    Keywords,
    Model,
    accuracy,
    answer_for,
    features_of,
    guess_category,
    parse_list,
    read_examples,
    split,
    train,
)
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


@pytest.fixture(scope="module")
def model(keywords: Keywords) -> Model:
    return train(read_examples(), keywords)


def test_held_out_accuracy_is_at_least_ninety_percent(keywords: Keywords) -> None:
    train_part, held_out = split(read_examples())
    assert len(held_out) >= 100
    assert not {e.text for e in train_part} & {e.text for e in held_out}
    assert accuracy(train(train_part, keywords), held_out) >= 0.9


def test_the_split_is_the_same_every_run_and_about_a_fifth() -> None:
    examples = read_examples()
    held_out = {e.text for e in split(examples)[1]}
    assert {e.text for e in split(list(reversed(examples)))[1]} == held_out  # by each text, not by its place
    assert 0.15 <= len(split(examples)[1]) / len(examples) <= 0.25
    assert {e.intent for e in split(examples)[1]} == set(Intent)


@pytest.mark.parametrize(
    ("text", "volunteer", "reporter", "expected"),
    [
        # The cases: a reporter's ordinary news, an accident, "I want to volunteer".
        ("今天西城社区举办了义诊活动，来了六十多位居民", False, True, Answer.TIP),
        ("今天西城社区举办了义诊活动，来了六十多位居民", False, False, Answer.OTHER),  # news: only reporters'
        ("河口镇的橘子丰收了…", False, True, Answer.TIP),
        ("今天下午城关镇桥头发生一起车祸，现场有交警", False, True, Answer.TIP),
        ("今天下午城关镇桥头发生一起车祸，现场有交警", False, False, Answer.WISH_OR_TIP),
        ("我想当志愿者", False, False, Answer.VOLUNTEER),
        ("我想当志愿者", True, False, Answer.ALREADY_VOLUNTEER),
        ("你好，我想找人帮忙", False, False, Answer.WISH),
        ("家里水管坏了，没人会修", False, True, Answer.WISH),
        ("Hello, is anybody there? My street light is broken.", False, False, Answer.WISH),
        ("你好", False, False, Answer.GREETING),
        ("hi", False, False, Answer.GREETING),
        ("谢谢你们", False, False, Answer.THANKS),
        ("Thank you!", False, False, Answer.THANKS),
        ("这是干什么的？", False, False, Answer.QUESTION),
        ("What is this?", False, False, Answer.QUESTION),
        ("有什么任务吗", True, False, Answer.TASKS),
        ("有什么任务吗", False, False, Answer.VOLUNTEER),  # not a volunteer yet: registration first
        ("Any tasks for me today?", True, False, Answer.TASKS),
        ("banana", False, False, Answer.OTHER),
        ("🙏🙏🙏", False, False, Answer.OTHER),
    ],
)
def test_answer(model: Model, text: str, volunteer: bool, reporter: bool, expected: Answer) -> None:
    assert answer_for(model.predict(text), volunteer=volunteer, reporter=reporter) == expected


def test_every_labelled_line_is_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("# comment\nneed\t家里水管坏了\nnews 没有制表符\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:3"):
        read_examples(bad)
    assert len({e.text for e in read_examples()}) == len(read_examples())  # no line twice


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
    assert features_of("this is a helpless situation", keywords)["kw:need"] == 0
    assert features_of("please help", keywords)["kw:need"] > 0


@pytest.mark.parametrize(("text", "count"), [("🙏🙏🙏🙏🙏", 0), ("😀😀👍", 0), ("帮我买菜", 4), ("ok!", 2)])
def test_word_count_ignores_emoji_and_punctuation(text: str, count: int) -> None:
    assert word_count(text) == count
