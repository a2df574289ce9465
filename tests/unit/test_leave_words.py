"""Which messages ask to leave a conversation (`rules.text.is_leave`), on every channel."""

from __future__ import annotations

import pytest

from rules.text import is_help, is_leave


@pytest.mark.parametrize(
    "text", ["取消", "退出", "我不要了，退出", "算了吧", "不用了", "/cancel", "/cancel@tongxin_bot", "Cancel", "stop"]
)
def test_leave_words_leave(text: str) -> None:
    assert is_leave(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "旧家具不要了，想请人帮忙搬到楼下",
        "帮我取消订单号123",
        "家里漏水",
        "算了算了，楼道灯还是坏的，请人来修一下吧",
    ],
)
def test_answers_that_mention_a_leave_word_are_answers(text: str) -> None:
    assert not is_leave(text)


@pytest.mark.parametrize(
    "text", ["帮助", "帮助？", "怎么填", "怎么填呀？", "help", "Help!", "？", "不会填", "我看不懂"]
)
def test_help_words_ask_for_help(text: str) -> None:
    assert is_help(text)


@pytest.mark.parametrize("text", ["", "请帮助我家老人买菜", "帮忙", "我需要帮助", "家里水管坏了怎么办", "取消"])
def test_answers_that_mention_help_are_answers(text: str) -> None:
    assert not is_help(text)
