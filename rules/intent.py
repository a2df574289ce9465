"""What a person means by plain words typed outside any conversation (no external service).

A text is segmented with jieba (the same segmenter as the hot topics) and compared with keyword lists
that live in the message catalogues, in both languages (a resident whose chat is set to Chinese may
still type English, and the other way round). The result is one `Intent` and, for a need, the wish
category whose keywords the text shares most. Pure functions: the caller supplies the keyword lists.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import jieba

jieba.setLogLevel(logging.WARNING)

_LATIN = re.compile(r"[a-z0-9']+")


class Intent(StrEnum):
    """What plain words most likely mean, in the order they are tried."""

    TASKS = "tasks"  # a volunteer asking for work ("有什么任务")
    NEWS = "news"  # a reporter's lead
    NEED = "need"  # someone needs help: offer to submit a wish
    THANKS = "thanks"
    GREETING = "greeting"
    QUESTION = "question"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Keywords:
    """Keyword lists per intent and per wish category (lower case; Chinese words or English words)."""

    intents: Mapping[Intent, frozenset[str]]
    categories: Mapping[str, frozenset[str]] = field(default_factory=dict)


def parse_list(text: str) -> frozenset[str]:
    """A catalogue's keyword list ("帮忙, 求助, help") as a set of lower-case words."""
    return frozenset(part.strip().lower() for part in re.split(r"[,，、\n]", text) if part.strip())


def tokens_of(text: str) -> frozenset[str]:
    """The words of a text: jieba's segments and the Latin words, lower case."""
    lowered = text.lower()
    tokens = {token.strip() for token in jieba.lcut(lowered) if token.strip()}
    tokens.update(_LATIN.findall(lowered))
    return frozenset(tokens)


def _hits(text: str, tokens: frozenset[str], words: Iterable[str]) -> int:
    """How many of `words` the text contains: a Latin word must be a whole word, a Chinese one may be
    part of a longer segment (jieba may glue "水管" and "坏了" differently from the list)."""
    count = 0
    for word in words:
        if _LATIN.fullmatch(word):
            count += word in tokens
        else:
            count += word in text
    return count


def classify(text: str, keywords: Keywords, *, volunteer: bool = False, reporter: bool = False) -> Intent:
    """The intent of plain words. A volunteer asking for tasks and a reporter's news come first (only for
    those roles); then a need; then thanks, a greeting, a question; anything else is OTHER."""
    lowered = text.strip().lower()
    tokens = tokens_of(lowered)

    def hits(intent: Intent) -> int:
        return _hits(lowered, tokens, keywords.intents.get(intent, frozenset()))

    if volunteer and hits(Intent.TASKS):
        return Intent.TASKS
    need = hits(Intent.NEED)
    if reporter and hits(Intent.NEWS) > need:
        return Intent.NEWS
    if need:
        return Intent.NEED
    for intent in (Intent.THANKS, Intent.GREETING):
        if hits(intent):
            return intent
    if hits(Intent.QUESTION) or lowered.endswith(("?", "？", "吗", "呢")):
        return Intent.QUESTION
    return Intent.OTHER


def guess_category(text: str, keywords: Keywords, categories: Iterable[str], default: str = "other") -> str:
    """The wish category (among `categories`) whose keywords the text shares most; `default` when none."""
    lowered = text.strip().lower()
    tokens = tokens_of(lowered)
    best, best_hits = default, 0
    for category in categories:
        found = _hits(lowered, tokens, keywords.categories.get(category, frozenset()))
        if found > best_hits:
            best, best_hits = category, found
    return best
