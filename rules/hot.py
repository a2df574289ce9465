"""Hot topics: what people write about in wishes and tips, which terms are rising, and the topics they form.

Texts are segmented with jieba (Chinese has no spaces between words) after loading the district's dictionary
(`hot_dictionary.txt` plus the configured areas), so the names of the centres, places, organisations and
services stay one term ("新时代文明实践中心", "南湖社区", never 时代 + 文明 + 实践 or 南湖 + 社区); function words,
request filler and spoken filler are dropped with a stopword list, and each term counts once per text (ten
people writing "停水" matter more than one person writing it ten times).

Topics rank terms by their rise against their own baseline: the last `days` days against the `4 × days`
before (7 against 28 for /hot). With c the term's texts in the period, b its texts in the baseline, C and B
the numbers of all texts in each, the baseline predicts e = b × C / B texts (0 without a baseline) and

    rise = (c + K) / (e + K),  K = 3

so a term as frequent as always scores about 1, a brand-new term with 1 text scores 4/3 and one with 10 new
texts over an expectation of 2 scores 13/5: the smoothing keeps a single new mention below a real rise, and
without any history the order is simply by count. Places (the dictionary's and the configured areas) say
where a topic is, not what it is about: they never lead a topic. Messages are then grouped greedily: the
best-ranked term not yet used takes every ungrouped message containing it (a topic needs `MIN_TOPIC_TEXTS`),
and the candidate terms found in at least half of them become its other leading terms; a rising term already
leading a topic adds its messages to it. Only the newest `GROUPED_PAIRS` (text, candidate term) pairs are
grouped, so the cost stays bounded in a large district; a topic's count is exact all the same: the messages
of the whole period holding one of the terms that brought its messages (`Group.claims`: its best-ranked term
and any rising term that joined it), each counted once (the roll-ups give the first term's; the database the
few texts a joining term adds). A message holding the terms of two topics counts in both, as it is about
both; it is quoted and placed (areas) under the first only. Pure functions: the caller supplies the texts or
the counts.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Generic, TypeVar

import jieba

STOPWORDS_FILE = Path(__file__).with_name("hot_stopwords.txt")
DICTIONARY_FILE = Path(__file__).with_name("hot_dictionary.txt")
MIN_TERM_LENGTH = 2
MAX_TERM_LENGTH = 16
# A rising term must appear in at least this many texts of the current period...
MIN_RISING_COUNT = 3
# ...and its share of the texts must be at least this many times its (smoothed) share before.
MIN_RISE = 2.0
WORDLIKE = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{3,}")

# Ranking (see the module's docstring): the baseline spans this many periods before the current one...
BASELINE_PERIODS = 4
# ...and this many texts are added to both the observed and the expected count.
SMOOTHING = 3.0
# A topic groups at least this many messages; a term found in this share of them leads it too.
MIN_TOPIC_TEXTS = 2
CO_TERM_SHARE = 0.5
MAX_LEADING_TERMS = 3
# How many of the best-ranked terms may seed or lead a topic, and how many (text, term) pairs of them, the
# newest first, are read to group the messages: the cost of /hot stays bounded however many texts there are.
CANDIDATE_TERMS = 40
GROUPED_PAIRS = 8_000
EXAMPLES = 3
EXAMPLE_LENGTH = 60
AREAS_SHOWN = 3

jieba.setLogLevel(logging.WARNING)

Key = TypeVar("Key", bound=Hashable)


def _listed(path: Path) -> list[str]:
    """The words of a shipped list: one a line, # comments and blank lines skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@cache
def stopwords() -> frozenset[str]:
    """The shipped stopword list."""
    return frozenset(_listed(STOPWORDS_FILE))


# The places of the dictionary and the configured areas added to it so far (by `use_places`).
_PLACES: dict[str, None] = {}


@cache
def dictionary() -> frozenset[str]:
    """The shipped district dictionary, loaded into jieba once (every segmentation goes through `terms_of`)."""
    names = set()
    for line in _listed(DICTIONARY_FILE):
        name, _, tag = line.partition(" ")
        jieba.add_word(name, tag=tag.strip() or "nt")  # a frequency high enough to keep it whole
        names.add(name)
        if tag.strip() == "ns":
            _PLACES[name] = None
    # What is loaded by now (the modules, jieba's dictionary) lives as long as the process: out of the collector's
    # reach, a full collection no longer walks it (20-40 ms each time; /hot's allocations set one off every few
    # computations, which added about a third to its average CPU).
    gc.collect()
    gc.freeze()
    return frozenset(names)


def use_places(places: Iterable[str]) -> None:
    """Add the configured areas to the dictionary as places (idempotent; the actions call it before segmenting)."""
    dictionary()
    for place in (place.strip() for place in places):
        if place and place not in _PLACES:
            jieba.add_word(place, tag="ns")
            _PLACES[place] = None


def is_place(term: str) -> bool:
    """Whether a term is a place of the dictionary or a configured area: where a topic is, never what."""
    dictionary()
    return term in _PLACES


def places_in_use() -> tuple[str, ...]:
    """The dictionary's places and the configured areas added by `use_places` (for readers without the
    settings, e.g. a digest)."""
    dictionary()
    return tuple(_PLACES)


def terms_of(text: str) -> set[str]:
    """The distinct meaningful terms of one text."""
    dictionary()
    words = stopwords()
    terms = set()
    for token in jieba.lcut(text):
        token = token.strip().lower()
        meaningful = token not in words and WORDLIKE.search(token) and not is_name(token)
        if MIN_TERM_LENGTH <= len(token) <= MAX_TERM_LENGTH and meaningful:
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


# --- topics: terms ranked by their rise, messages grouped by shared leading terms ----------------------------


@dataclass(frozen=True, slots=True)
class RankedTerm:
    """A term of the period with its texts now (`current`), in the baseline (`baseline`) and its rise."""

    term: str
    current: int
    baseline: int
    rise: float


@dataclass(frozen=True, slots=True)
class Topic:
    """Messages grouped under shared leading terms: how many messages of the period it holds (`Group.claims`),
    the rise of its best-ranked term, where, examples, and in how many texts of the baseline its best-ranked
    term appears."""

    terms: tuple[str, ...]
    count: int
    rise: float
    rising: bool
    areas: tuple[str, ...]
    examples: tuple[str, ...]
    baseline: int = 0


@dataclass(frozen=True, slots=True)
class Group(Generic[Key]):
    """A topic before its areas and examples are looked up: its best-ranked term (`seed`), its leading terms,
    its messages (in the order given) and the terms that brought them (`claims`: the seed, then any rising
    term that joined it); a topic's messages in the whole period are those holding one of its `claims`."""

    seed: RankedTerm
    terms: tuple[str, ...]
    members: tuple[Key, ...]
    claims: tuple[str, ...]


def rise_of(current: int, current_texts: int, baseline: int, baseline_texts: int) -> float:
    """(c + K) / (e + K), e the texts the baseline predicts for the period (see the module's docstring)."""
    expected = baseline * current_texts / baseline_texts if baseline_texts else 0.0
    return (current + SMOOTHING) / (expected + SMOOTHING)


def rank_terms(
    current: Counter[str],
    current_texts: int,
    baseline: Counter[str],
    baseline_texts: int,
    *,
    min_count: int = MIN_TOPIC_TEXTS,
    limit: int = CANDIDATE_TERMS,
) -> list[RankedTerm]:
    """The terms of the period found in at least `min_count` texts, by rise (then by count, then the term);
    places are left out (they are a topic's areas)."""
    ranked = [
        RankedTerm(
            term, count, baseline.get(term, 0), rise_of(count, current_texts, baseline.get(term, 0), baseline_texts)
        )
        for term, count in current.items()
        if count >= min_count and term and not is_place(term)
    ]
    ranked.sort(key=lambda r: (-r.rise, -r.current, r.term))
    return ranked[:limit]


def is_rising(term: RankedTerm) -> bool:
    """Whether a ranked term is rising clearly: in `MIN_RISING_COUNT` texts, `MIN_RISE` times its expectation."""
    return term.current >= MIN_RISING_COUNT and term.rise >= MIN_RISE


def group_topics(
    texts: Mapping[Key, frozenset[str] | set[str]],
    ranked: Sequence[RankedTerm],
    *,
    limit: int = 10,
    min_texts: int = MIN_TOPIC_TEXTS,
) -> list[Group[Key]]:
    """Greedy grouping: each ranked term in turn takes the ungrouped messages containing it (at least
    `min_texts` of them) and is led also by the ranked terms found in at least `CO_TERM_SHARE` of those. A
    rising term that already leads a topic adds its messages to that topic (the same surge, told in other
    words: "没水" and "停水"). A topic's terms are ordered by how many of its messages hold them. `texts` maps
    each message (in order, the newest first) to its terms; deterministic."""
    order = {term.term: n for n, term in enumerate(ranked)}
    holding: dict[str, list[Key]] = {term: [] for term in order}
    for key, terms in texts.items():
        for term in terms:
            if term in holding:
                holding[term].append(key)
    grouped: set[Key] = set()
    drafts: list[tuple[RankedTerm, list[str], list[Key], list[str]]] = []
    for seed in ranked:
        members = [key for key in holding[seed.term] if key not in grouped]
        home = next((draft for draft in drafts if seed.term in draft[1]), None) if is_rising(seed) else None
        if home is not None:
            home[2].extend(members)
            home[3].append(seed.term)
            grouped.update(members)
            continue
        if len(members) < min_texts or len(drafts) == limit:
            continue
        together = Counter(chain.from_iterable(map(texts.__getitem__, members)))
        others = sorted(
            (
                term
                for term, n in together.items()
                if n >= CO_TERM_SHARE * len(members) and term in order and term != seed.term
            ),
            key=lambda term: (-together[term], order[term]),
        )
        grouped.update(members)
        drafts.append((seed, [seed.term, *others[: MAX_LEADING_TERMS - 1]], members, [seed.term]))
    position: dict[Key, int] = {}
    groups = []
    for seed, leading, members, claims in drafts:
        held = Counter(chain.from_iterable(map(texts.__getitem__, members)))
        leading.sort(key=lambda term: (-held[term], order[term]))
        if len(claims) > 1:  # messages joined from another term's list: back into the order given
            position = position or {key: n for n, key in enumerate(texts)}
            members.sort(key=position.__getitem__)
        groups.append(Group(seed, tuple(leading), tuple(members), tuple(claims)))
    return groups


def topic_areas(areas: Iterable[str | None]) -> tuple[str, ...]:
    """The areas of a topic's messages, the most frequent first (ties by name), at most `AREAS_SHOWN`."""
    counted = Counter(area for area in areas if area)
    return tuple(area for area, _n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:AREAS_SHOWN])


def area_of(text: str, places: Sequence[str]) -> str | None:
    """The first configured area a text names (for a tip or a wish written without one)."""
    return next((place for place in places if place and place in text), None)


# --- quoting residents without naming them ---------------------------------------------------------------------

NUMBERS = re.compile(r"[0-9０-９]+")
# A word jieba's dictionary counts fewer times than this is rare enough to be a person's name.
RARE_WORD = 30
# Common surnames, without those that also start everyday words after 小/老 (小石桥, 老方法, 小高兴…).
_SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范廖贾夏韦付邹孟熊秦邱尹薛闫段雷侯史陶黎贺顾毛郝龚邵严覃武戴莫孔汤"
)
_HONORIFICS = "大爷|大妈|大娘|阿姨|奶奶|爷爷|婆婆|阿婆|大伯|伯伯|叔叔|大哥|大姐|师傅|老师|医生|书记|主任|女士|先生|同志"
_CALLED = re.compile(rf"[{_SURNAMES}](?={_HONORIFICS})|[小老][{_SURNAMES}](?!子|女)")
_A_NAME = re.compile(rf"[{_SURNAMES}](?:{_HONORIFICS})|[小老][{_SURNAMES}]")


def is_name(term: str) -> bool:
    """Whether a term is how people call someone ("王大爷", "小周"): never a topic's term, it would name them."""
    return _A_NAME.fullmatch(term) is not None


def redact(text: str, *, length: int = EXAMPLE_LENGTH) -> str:
    """A resident's text fit to quote on a screen: numbers (phones, house numbers) and the person names found
    replaced, cut to `length`. A name is a word of two or three characters that starts with a common surname
    and that jieba's dictionary hardly knows ("刘晓东", "王建国"; its HMM finds such words), or such a rare word
    after a lone surname ("张" "秀英"), or how people call someone ("王大爷", "小周", "老李"). (jieba's tagger
    would name them too, at 50 MB more memory.)"""
    dictionary()
    parts: list[str] = []
    for word in jieba.lcut(text):
        rare = (jieba.get_FREQ(word) or 0) < RARE_WORD
        after_surname = bool(parts) and len(parts[-1]) == 1 and parts[-1] in _SURNAMES
        full_name = 2 <= len(word) <= 3 and word[0] in _SURNAMES
        given_name = 1 <= len(word) <= 2 and after_surname
        if rare and (full_name or given_name):
            if after_surname:
                parts[-1] = ""
            parts.append("某某")
        else:
            parts.append(word)
    quoted = NUMBERS.sub("*", _CALLED.sub("某", "".join(parts)))
    return quoted if len(quoted) <= length else quoted[: length - 1] + "…"
