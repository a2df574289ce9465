"""Hot topics: what people write about most in wishes and tips, and which terms are rising.

Texts are segmented with jieba (Chinese has no spaces between words), function words and request
filler are dropped with a stopword list, and each term counts once per text (ten people writing
"停水" matter more than one person writing it ten times). A term is rising when its share of the
texts of the current period is well above its share of the period before. Pure functions: the
caller supplies the texts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jieba

STOPWORDS_FILE = Path(__file__).with_name("hot_stopwords.txt")
MIN_TERM_LENGTH = 2
MAX_TERM_LENGTH = 16
# A rising term must appear in at least this many texts of the current period...
MIN_RISING_COUNT = 3
# ...and its share of the texts must be at least this many times its (smoothed) share before.
MIN_RISE = 2.0
WORDLIKE = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{3,}")

jieba.setLogLevel(logging.WARNING)


@cache
def stopwords() -> frozenset[str]:
    """The shipped stopword list."""
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def terms_of(text: str) -> set[str]:
    """The distinct meaningful terms of one text."""
    words = stopwords()
    terms = set()
    for token in jieba.lcut(text):
        token = token.strip().lower()
        if MIN_TERM_LENGTH <= len(token) <= MAX_TERM_LENGTH and token not in words and WORDLIKE.search(token):
            terms.add(token)
    return terms


def count_terms(texts: Iterable[str]) -> Counter[str]:
    """In how many of the texts each term appears."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(terms_of(text))
    return counts


@dataclass(frozen=True, slots=True)
class TermCount:
    """A term and in how many texts of the period it appears."""

    term: str
    count: int


@dataclass(frozen=True, slots=True)
class RisingTerm:
    """A term appearing clearly more often than in the period before."""

    term: str
    current: int
    previous: int
    rise: float  # current share of texts divided by the smoothed previous share


@dataclass(frozen=True, slots=True)
class HotReport:
    """Top terms of a period and the terms rising against the period before it."""

    since: dt.datetime
    until: dt.datetime
    texts: int
    top: list[TermCount]
    rising: list[RisingTerm]


def top_terms(counts: Counter[str], limit: int = 10) -> list[TermCount]:
    """The most frequent terms, ties by the term so the order is stable."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [TermCount(term, count) for term, count in ranked[:limit]]


def rising_terms(
    current: Counter[str],
    current_texts: int,
    previous: Counter[str],
    previous_texts: int,
    *,
    limit: int = 5,
    min_count: int = MIN_RISING_COUNT,
    min_rise: float = MIN_RISE,
) -> list[RisingTerm]:
    """Terms whose share of texts grew at least `min_rise` times, the steepest first.

    The previous share is smoothed (+1 on both sides) so a term never seen before rises steeply but
    finitely, and a quiet previous period does not make every term look new.
    """
    if current_texts == 0:
        return []
    rising = []
    for term, count in current.items():
        if count < min_count:
            continue
        before = previous.get(term, 0)
        rise = (count / current_texts) / ((before + 1) / (previous_texts + 1))
        if rise >= min_rise:
            rising.append(RisingTerm(term, count, before, round(rise, 2)))
    rising.sort(key=lambda r: (-r.rise, -r.current, r.term))
    return rising[:limit]


def hot_report(texts: Sequence[tuple[dt.datetime, str]], *, now: dt.datetime, days: int, limit: int = 10) -> HotReport:
    """Top terms of the last `days` days and the rising ones against the `days` days before."""
    since = now - dt.timedelta(days=days)
    before = since - dt.timedelta(days=days)
    current = [text for at, text in texts if since <= at < now]
    previous = [text for at, text in texts if before <= at < since]
    return report_from_counts(
        count_terms(current), len(current), count_terms(previous), len(previous), now=now, days=days, limit=limit
    )


def report_from_counts(
    current: Counter[str],
    current_texts: int,
    previous: Counter[str],
    previous_texts: int,
    *,
    now: dt.datetime,
    days: int,
    limit: int = 10,
) -> HotReport:
    """The report of the last `days` days from term counts already summed per period (`hot_report` counts
    them from texts; the bot sums stored terms in the database)."""
    return HotReport(
        since=now - dt.timedelta(days=days),
        until=now,
        texts=current_texts,
        top=top_terms(current, limit),
        rising=rising_terms(current, current_texts, previous, previous_texts),
    )


def segment_all(texts: Iterable[str]) -> list[set[str]]:
    """The terms of each text (CPU-heavy: callers run it in a worker thread, never on the event loop)."""
    return [terms_of(text) for text in texts]


def parse_days(word: str | None, default: int = 7, maximum: int = 90) -> int:
    """The period of /hot [N]: N days between 1 and `maximum`, or the default."""
    if word is None or not word.strip().isdecimal():
        return default
    return max(1, min(int(word), maximum))
