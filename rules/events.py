"""Public-opinion events (舆情事件): their four levels, the clocks each level runs, the level suggested for what is
raised, and what staff type about them. Plain functions over plain data.

Levels (the national grading of sudden public events, 国家突发公共事件总体应急预案 2006, §1.3, used for 舆情 too):
I 特别重大 (red), II 重大 (orange), III 较大 (yellow), IV 一般 (blue).

Clocks, counted from the moment an event is raised (defaults; each is a setting, see `ClockHours`):
  report          upward report (信息报送): 15 min for I–II, 1 h for III, 6 h for IV — provincial practice
                  (河南省突发事件信息报告办法: I–II by phone within 15 min, in writing within 35 min; III within 1 h;
                  IV within 6 h);
  first_response  first response, the "黄金4小时" of 舆情 practice (人民网舆情监测室), every level;
  information     authoritative information for I–II within 5 h (国务院办公厅《关于在政务公开工作中进一步做好政务舆情
                  回应的通知》, 国办发〔2016〕61号: 特别重大、重大突发事件 "最迟要在5小时内发布权威信息");
  press           a press conference for I–II within 24 h (same notice: "在24小时内举行新闻发布会");
  response        a response for III–IV within 48 h (same notice: 政务舆情 "原则上应在48小时内予以回应").
A clock warns its owners shortly before it runs out (at `warn_share` of its time, at most `warn_max` before) and,
missed, escalates to the admins once and stays marked missed even if met later.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from rules.hot import Topic
from rules.roles import Role
from rules.wishes import wish_ref

TITLE_MAX = 60
NOTE_MAX = 300
SUMMARY_MAX = 500


class Level(IntEnum):
    """An event's level: I is the gravest."""

    I = 1  # noqa: E741 - the levels are written I–IV in every government text
    II = 2
    III = 3
    IV = 4

    @property
    def roman(self) -> str:
        """I, II, III, IV."""
        return self.name

    @property
    def colour(self) -> str:
        """The warning colour the level is shown in: red, orange, yellow, blue."""
        return LEVEL_COLOURS[self]


LEVEL_COLOURS = {Level.I: "red", Level.II: "orange", Level.III: "yellow", Level.IV: "blue"}


class Clock(StrEnum):
    """What an event must get done by a time."""

    REPORT = "report"
    FIRST_RESPONSE = "first_response"
    INFORMATION = "information"
    PRESS = "press"
    RESPONSE = "response"


class EventStatus(StrEnum):
    """Where an event stands."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ClockHours:
    """The configured time of each clock, in hours (the settings `EVENT_*`)."""

    report_major: float = 0.25
    report_large: float = 1
    report_general: float = 6
    first_response: float = 4
    information: float = 5
    press: float = 24
    response: float = 48


def clocks_for(level: Level, hours: ClockHours) -> dict[Clock, dt.timedelta]:
    """The clocks a level runs and the time each allows, in the order they fall due."""
    major = level <= Level.II
    if major:
        report = hours.report_major
    else:
        report = hours.report_large if level == Level.III else hours.report_general
    allowed: dict[Clock, float] = {Clock.REPORT: report, Clock.FIRST_RESPONSE: hours.first_response}
    if major:
        allowed |= {Clock.INFORMATION: hours.information, Clock.PRESS: hours.press}
    else:
        allowed[Clock.RESPONSE] = hours.response
    return {clock: dt.timedelta(hours=h) for clock, h in sorted(allowed.items(), key=lambda item: item[1])}


def warn_moment(raised_at: dt.datetime, due_at: dt.datetime, *, share: float, most_before: dt.timedelta) -> dt.datetime:
    """When a clock warns its owners: at `share` of its time, but never more than `most_before` ahead of it."""
    allowed = due_at - raised_at
    return max(raised_at + allowed * share, due_at - most_before)


def clock_state(due_at: dt.datetime, met_at: dt.datetime | None, now: dt.datetime) -> str:
    """met (in time), met_late, overdue or running."""
    if met_at is not None:
        return "met" if met_at <= due_at else "met_late"
    return "overdue" if now >= due_at else "running"


def minutes_left(due_at: dt.datetime, now: dt.datetime) -> int:
    """Whole minutes until the clock runs out (negative: minutes overdue)."""
    return int((due_at - now).total_seconds() // 60)


# Who owns which clocks: they are warned before a clock runs out. Every clock belongs to the person who raised the
# event and the monitors; the newsroom also owns what is published (information, press conference).
OWNER_ROLES: dict[Clock, tuple[Role, ...]] = {
    Clock.REPORT: (Role.MONITOR,),
    Clock.FIRST_RESPONSE: (Role.MONITOR,),
    Clock.INFORMATION: (Role.MONITOR, Role.EDITOR),
    Clock.PRESS: (Role.MONITOR, Role.EDITOR),
    Clock.RESPONSE: (Role.MONITOR, Role.COORDINATOR),
}
RAISERS = frozenset({Role.MONITOR, Role.COORDINATOR, Role.ADMIN})
RECORDERS = frozenset({Role.MONITOR, Role.COORDINATOR, Role.EDITOR, Role.ADMIN})


# --- the suggested level -------------------------------------------------------------------------------------

# Words that make an event graver whatever its volume: harm to people, disasters, mass incidents, basic supplies.
SENSITIVE_WORDS = (
    "死亡",
    "伤亡",
    "遇难",
    "爆炸",
    "火灾",
    "中毒",
    "坍塌",
    "溺水",
    "疫情",
    "群体",
    "聚集",
    "上访",
    "维权",
    "停水",
    "停电",
    "污染",
    "食品安全",
    "欠薪",
)


@dataclass(frozen=True, slots=True)
class Signals:
    """What a level is suggested from: how many texts, how fast they rose, in how many areas, and the words."""

    volume: int
    rise: float
    areas: int
    text: str


def sensitive_words(text: str) -> list[str]:
    """The sensitive words a text holds."""
    return [word for word in SENSITIVE_WORDS if word in text]


def suggest_level(signals: Signals) -> Level:
    """A level to suggest (the person chooses): points for volume (20/50 texts), rise (×2/×5), areas (2/3) and
    sensitive words (2 for any); 6 or more I, 4 II, 2 III, else IV."""
    points = _step(signals.volume, 20, 50) + _step(signals.rise, 2, 5) + _step(signals.areas, 2, 3)
    points += 2 if sensitive_words(signals.text) else 0
    if points >= 6:
        return Level.I
    if points >= 4:
        return Level.II
    return Level.III if points >= 2 else Level.IV


def _step(value: float, some: float, many: float) -> int:
    return 2 if value >= many else 1 if value >= some else 0


def matching_topic(words: str, topics: Sequence[Topic]) -> Topic | None:
    """The first (fastest-rising) of the week's topics that the typed words name: one of its leading terms is in
    them, or they are in one of its terms."""
    for topic in topics:
        if any(term in words or words in term for term in topic.terms):
            return topic
    return None


def topic_signals(words: str, topic: Topic) -> Signals:
    """A topic's signals: its count, rise and areas, and its words and examples for the sensitive ones."""
    text = " ".join((words, *topic.terms, *topic.examples))
    return Signals(topic.count, topic.rise, len(topic.areas), text)


# --- what staff type -----------------------------------------------------------------------------------------


class EventInputError(ValueError):
    """Something staff typed about an event is wrong; `reason` is a message key, `values` fill it."""

    def __init__(self, reason: str, **values: str | int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


SOURCES = ("hot", "wish", "case", "text")
_SOURCE_PREFIX = {"h": "hot", "w": "wish", "c": "case"}
LEVEL_WORDS = {
    "i": Level.I,
    "1": Level.I,
    "一级": Level.I,
    "特别重大": Level.I,
    "ii": Level.II,
    "2": Level.II,
    "二级": Level.II,
    "重大": Level.II,
    "iii": Level.III,
    "3": Level.III,
    "三级": Level.III,
    "较大": Level.III,
    "iv": Level.IV,
    "4": Level.IV,
    "四级": Level.IV,
    "一般": Level.IV,
}
# Record words, Chinese first: which clock a record stops (None: only noted).
CLOCK_WORDS: dict[str, Clock | None] = {
    "上报": Clock.REPORT,
    "report": Clock.REPORT,
    "回应": Clock.FIRST_RESPONSE,
    "respond": Clock.FIRST_RESPONSE,
    "发布": Clock.INFORMATION,
    "publish": Clock.INFORMATION,
    "发布会": Clock.PRESS,
    "press": Clock.PRESS,
    "答复": Clock.RESPONSE,
    "answer": Clock.RESPONSE,
    "记录": None,
    "note": None,
}
CLOSE_WORDS = frozenset({"结案", "关闭", "close"})
TIP_REF = re.compile(r"[Tt]-?0*(\d{1,9})")


@dataclass(frozen=True, slots=True)
class Source:
    """What an event is raised from: a hot alert, a wish (its whistle), a case, or a topic's words."""

    kind: str
    number: int | None = None
    text: str | None = None


def parse_source(word: str) -> Source:
    """`H-3`, `W-0042`, `C-0001`, or a topic's words (bounded) → the source."""
    cleaned = " ".join(word.split())
    match = re.fullmatch(r"([HhWwCc])-?0*(\d{1,9})", cleaned)
    if match is not None and int(match.group(2)) > 0:
        return Source(_SOURCE_PREFIX[match.group(1).lower()], int(match.group(2)))
    if not cleaned:
        raise EventInputError("event.usage")
    if len(cleaned) > TITLE_MAX:
        raise EventInputError("event.title_too_long", limit=TITLE_MAX, length=len(cleaned))
    return Source("text", text=cleaned)


def parse_level(word: str) -> Level:
    """`II`, `2`, `二级`, `重大` → Level.II; `EventInputError` otherwise."""
    level = LEVEL_WORDS.get(word.strip().lower())
    if level is None:
        raise EventInputError("event.bad_level")
    return level


def event_ref(ref_no: int) -> str:
    """The reference people see: 1 → E-1."""
    return f"E-{ref_no}"


def source_ref(source: str, number: int | None) -> str:
    """Where an event came from, as people read it: H-3, W-0042, C-0001 (a topic's words: —)."""
    if number is None:
        return "—"
    if source == "wish":
        return wish_ref(number)
    if source == "case":
        return f"C-{number:04d}"
    return f"H-{number}"


def parse_event_ref(word: str) -> int | None:
    """`E-1`, `e1` → 1; None for anything else."""
    match = re.fullmatch(r"\s*[Ee]-?0*(\d{1,9})\s*", word)
    return int(match.group(1)) if match is not None and int(match.group(1)) > 0 else None


@dataclass(frozen=True, slots=True)
class Record:
    """A parsed `/event E-1 上报 已电话报区委` or `/event E-1 发布 T-3`: the clock it stops (None: a note), what
    was done, and the published tip it names."""

    clock: Clock | None
    what: str
    tip: int | None = None


def parse_record(args: Sequence[str]) -> Record:
    """The words after `/event E-1`: a record word and what was done (for 发布, a published tip `T-n` or a text)."""
    if not args:
        raise EventInputError("event.record_usage")
    word = args[0].strip().lower()
    if word not in CLOCK_WORDS:
        raise EventInputError("event.record_usage")
    what = check_text(" ".join(args[1:]), NOTE_MAX, "event.record_usage")
    tip = _tip_named(what) if CLOCK_WORDS[word] is Clock.INFORMATION else None
    return Record(CLOCK_WORDS[word], what, tip)


def _tip_named(what: str) -> int | None:
    match = TIP_REF.fullmatch(what.split()[0]) if what.split() else None
    return int(match.group(1)) if match is not None and int(match.group(1)) > 0 else None


def check_text(text: str, limit: int, empty: str) -> str:
    """Typed text, trimmed and bounded; `EventInputError` when empty (`empty` names the message) or too long."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise EventInputError(empty)
    if len(cleaned) > limit:
        raise EventInputError("event.text_too_long", limit=limit, length=len(cleaned))
    return cleaned


def level_choice(source: Source, level: Level) -> str:
    """What a level button carries: `h3.2` (the source and the level), read back by `parse_level_choice`."""
    return f"{'x' if source.kind == 'text' else source.kind[0]}{source.number}.{int(level)}"


def parse_level_choice(carried: str) -> tuple[Source, Level]:
    """The source and level behind a level button; `EventInputError` for anything else."""
    match = re.fullmatch(r"([hwcx])(\d{1,9})\.([1-4])", carried)
    if match is None:
        raise EventInputError("event.usage")
    kind = _SOURCE_PREFIX.get(match.group(1), "text")  # x7: the topic's words in the person's draft number 7
    return Source(kind, int(match.group(2))), Level(int(match.group(3)))


def distinct_areas(areas: Iterable[str | None]) -> int:
    """How many distinct areas are named."""
    return len({area for area in areas if area})


@dataclass(frozen=True, slots=True)
class RaiseRequest:
    """`/event H-3 [II]`: raise a source, at the level typed or (None) chosen with buttons."""

    source: Source
    level: Level | None


@dataclass(frozen=True, slots=True)
class RecordRequest:
    """`/event E-1 上报 …`: record against an event's clock."""

    ref_no: int
    record: Record


@dataclass(frozen=True, slots=True)
class CloseRequest:
    """`/event E-1 结案 …`: close an event with a summary."""

    ref_no: int
    summary: str


def parse_command(args: Sequence[str]) -> RaiseRequest | RecordRequest | CloseRequest:
    """What `/event …` asks for: `E-1 <record word> …`, `E-1 结案 <summary>`, or a source with an optional level
    last (`H-3 II`, `南湖社区停水 重大`)."""
    if not args:
        raise EventInputError("event.usage")
    ref_no = parse_event_ref(args[0])
    if ref_no is not None:
        if len(args) > 1 and args[1].strip().lower() in CLOSE_WORDS:
            return CloseRequest(ref_no, check_text(" ".join(args[2:]), SUMMARY_MAX, "event.close_usage"))
        return RecordRequest(ref_no, parse_record(args[1:]))
    level = LEVEL_WORDS.get(args[-1].strip().lower()) if len(args) > 1 else None
    words = args[:-1] if level is not None else args
    return RaiseRequest(parse_source(" ".join(words)), level)


def hours_minutes(minutes: int) -> tuple[int, int]:
    """Minutes (of either sign) as whole hours and minutes of their size: 200 → (3, 20)."""
    return divmod(abs(minutes), 60)
