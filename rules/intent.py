"""What a person means by plain words typed outside any conversation (offline, no external service).

A small multinomial naive Bayes classifier reads the text: its features are the character 1–2-grams (Chinese
has no spaces, and people type with typos: "志原者" still shares "志", "者" and "原者"…), the Latin words, and how
many words of each intent's keyword list (from the message catalogues, both languages) the text contains — the
keywords are evidence, not the decision; when no intent is likely enough, the words are not understood (OTHER).
It is trained, once and lazily by the caller, on the labelled examples shipped beside this module
(`intent_examples.tsv`, written the way people in a county district type); a fifth of them is held out,
deterministically, to measure it (`python -m benchmarks.intent`, tests/unit/test_intent.py).

The person's roles then decide what the bot offers (`answer_for`): a reporter's news becomes a tip offer, an
accident or hazard from anyone else is offered both as a wish and as a tip, "I want to volunteer" starts the
registration. Pure functions and plain data: the caller supplies the keyword lists and the examples.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path

EXAMPLES = Path(__file__).with_name("intent_examples.tsv")
HELD_OUT_EVERY = 5  # one example in five (by a checksum of its text) is held out for the benchmark
# Chosen by five-fold cross-validation on the training part only (the held-out part measures, never tunes).
NGRAM_SIZES = (1, 2)  # 3-grams added nothing but noise on a few hundred examples
SMOOTHING = 0.05  # additive smoothing of the feature counts
KEYWORD_WEIGHT = 6  # a keyword hit counts as this many n-grams
SURE = 0.6  # below this probability for the likeliest intent, the words are not understood (OTHER): the menu is safe

_LATIN = re.compile(r"[a-z0-9']+")
_NOT_TEXT = re.compile(r"[^\w?]+")  # punctuation, spaces and emoji separate; "?" is kept (a question's mark)


class Intent(StrEnum):
    """What plain words most likely mean."""

    TASKS = "tasks"  # a volunteer asking for work ("有什么任务")
    NEWS = "news"  # a lead: an event, a harvest, the weather, an achievement
    HAZARD = "hazard"  # an accident or a danger now ("桥头发生一起车祸")
    NEED = "need"  # someone needs help: offer to submit a wish
    VOLUNTEER = "volunteer"  # "我想当志愿者"
    THANKS = "thanks"
    GREETING = "greeting"
    QUESTION = "question"
    OTHER = "other"


class Answer(StrEnum):
    """What the bot does with plain words, once the person's roles are known."""

    TASKS = "tasks"  # open /tasks
    TIP = "tip"  # offer to send the words as a tip
    WISH = "wish"  # offer to submit the words as a wish
    WISH_OR_TIP = "wish_or_tip"  # an accident or hazard: offer both
    VOLUNTEER = "volunteer"  # offer the volunteer registration
    ALREADY_VOLUNTEER = "already_volunteer"
    THANKS = "thanks"
    GREETING = "greeting"
    QUESTION = "question"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Keywords:
    """Keyword lists per intent and per wish category (lower case; Chinese words or English words)."""

    intents: Mapping[Intent, frozenset[str]]
    categories: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text."""

    intent: Intent
    text: str


def parse_list(text: str) -> frozenset[str]:
    """A catalogue's keyword list ("帮忙, 求助, help") as a set of lower-case words."""
    return frozenset(part.strip().lower() for part in re.split(r"[,，、\n]", text) if part.strip())


def _hits(text: str, words: Iterable[str], latin: frozenset[str] | None = None) -> int:
    """How many of `words` the (lower-case) text contains: a Latin word must be one of its whole words (`latin`,
    found when not given), a Chinese one may be part of a longer run (no spaces tell where a Chinese word ends)."""
    if latin is None:
        latin = frozenset(_LATIN.findall(text))
    return sum((word in latin) if _is_latin(word) else (word in text) for word in words)


@cache
def _is_latin(word: str) -> bool:
    """Whether a keyword is written in Latin letters (then it must match a whole word)."""
    return _LATIN.fullmatch(word) is not None


def normalized(text: str) -> str:
    """Lower case, full-width forms folded ("？" → "?"), separators collapsed to one space."""
    return _NOT_TEXT.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def features_of(text: str, keywords: Keywords) -> Counter[str]:
    """The features of a text: character 1–2-grams (with ^ and $ at the ends; a Latin word counts as one
    character there), Latin words and pairs of them, and the keyword hits of each intent."""
    plain = normalized(text)
    found: Counter[str] = Counter()
    if not plain:
        return found  # emoji or punctuation only: nothing to go on
    words = _LATIN.findall(plain)
    padded = f"^{_LATIN.sub('_', plain)}$"
    for size in NGRAM_SIZES:
        for start in range(len(padded) - size + 1):
            gram = padded[start : start + size]
            if gram.strip() and gram not in ("^", "$", "_"):
                found[gram] += 1
    found.update(f"w:{word}" for word in words)
    found.update(f"w:{first} {second}" for first, second in itertools.pairwise(words))
    lowered = unicodedata.normalize("NFKC", text).lower()
    latin = frozenset(_LATIN.findall(lowered))
    for intent, listed in keywords.intents.items():
        if hits := _hits(lowered, listed, latin):
            found[f"kw:{intent.value}"] += KEYWORD_WEIGHT * hits
    return found


@dataclass(frozen=True, slots=True)
class Model:
    """A trained classifier: per intent, its log prior and the log likelihood of each known feature."""

    keywords: Keywords
    priors: Mapping[Intent, float]
    likelihoods: Mapping[str, Mapping[Intent, float]]

    def predict(self, text: str) -> Intent:
        """The most likely intent of the text; OTHER when none of its features was ever seen."""
        known = [(self.likelihoods[f], n) for f, n in features_of(text, self.keywords).items() if f in self.likelihoods]
        if not known:
            return Intent.OTHER
        scores = {
            intent: prior + sum(n * likelihood[intent] for likelihood, n in known)
            for intent, prior in self.priors.items()
        }
        best = max(scores, key=scores.__getitem__)
        spread = sum(math.exp(score - scores[best]) for score in scores.values())  # 1 / the best's probability
        return best if 1 / spread >= SURE else Intent.OTHER


def train(examples: Sequence[Example], keywords: Keywords, smoothing: float = SMOOTHING) -> Model:
    """Multinomial naive Bayes over `features_of`, with additive smoothing."""
    counts: dict[Intent, Counter[str]] = {}
    for example in examples:
        counts.setdefault(example.intent, Counter()).update(features_of(example.text, keywords))
    vocabulary = set().union(*counts.values()) if counts else set()
    labels = Counter(example.intent for example in examples)
    priors = {intent: math.log(labels[intent] / len(examples)) for intent in counts}
    totals = {intent: sum(found.values()) + smoothing * len(vocabulary) for intent, found in counts.items()}
    likelihoods = {
        feature: {intent: math.log((found[feature] + smoothing) / totals[intent]) for intent, found in counts.items()}
        for feature in vocabulary
    }
    return Model(keywords, priors, likelihoods)


def read_examples(path: Path = EXAMPLES) -> list[Example]:
    """The labelled examples of a `label<TAB>text` file (lines starting with # are comments)."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or not text.strip() or label not in Intent.__members__.values():
            raise ValueError(f"{path.name}:{number}: expected a known label, a tab and a text")
        examples.append(Example(Intent(label), text.strip()))
    return examples


def is_held_out(example: Example) -> bool:
    """Whether an example belongs to the held-out part (the same every run: a checksum of its text)."""
    return zlib.crc32(example.text.encode()) % HELD_OUT_EVERY == 0


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """The training part and the held-out part."""
    return [e for e in examples if not is_held_out(e)], [e for e in examples if is_held_out(e)]


def accuracy(model: Model, examples: Sequence[Example]) -> float:
    """The share of examples whose intent the model predicts."""
    return sum(model.predict(e.text) is e.intent for e in examples) / len(examples) if examples else 0.0


def answer_for(intent: Intent, *, volunteer: bool = False, reporter: bool = False) -> Answer:
    """What to do with words of this intent from this person: news becomes a tip offer only for reporters (for
    others it is not understood); an accident or hazard is a tip for a reporter and both offers for anyone
    else; asking for tasks or to volunteer leads a non-volunteer to the registration."""
    if intent is Intent.TASKS or intent is Intent.VOLUNTEER:
        if volunteer:
            return Answer.TASKS if intent is Intent.TASKS else Answer.ALREADY_VOLUNTEER
        return Answer.VOLUNTEER
    if intent is Intent.NEWS:
        return Answer.TIP if reporter else Answer.OTHER
    if intent is Intent.HAZARD:
        return Answer.TIP if reporter else Answer.WISH_OR_TIP
    if intent is Intent.NEED:
        return Answer.WISH
    return Answer(intent.value)


def guess_category(text: str, keywords: Keywords, categories: Iterable[str], default: str = "other") -> str:
    """The wish category (among `categories`) whose keywords the text shares most; `default` when none."""
    lowered = text.strip().lower()
    best, best_hits = default, 0
    for category in categories:
        found = _hits(lowered, keywords.categories.get(category, frozenset()))
        if found > best_hits:
            best, best_hits = category, found
    return best
