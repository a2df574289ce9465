"""Hot topics: what people keep writing about, the daily alert to staff when a topic rises ("the centre
blows the whistle"), and the alert's one tap that turns it into work.

Effects, per action:
  topics (/hot, the editors' digest, the screen): nothing written; the messages of the last N days grouped
    into topics, ranked by the rise of their leading term against its own baseline (`rules.hot`).
  report: nothing written; the top terms of the last N days with the rising ones.
  alert_spike (the sweep, once a local day at the editors' digest time): the week's fastest-rising topic (the
    first of /hot 7, when rising) recorded as an alert (once a day) with its leading terms, messages, rise,
    areas and a quoted example and, in the same transaction, one notice per coordinator and editor (admins
    included) with "to a wish draft" (coordinators) and "to a story lead" (editors) buttons, while the
    recipient still holds one of those roles.
  to_wish (a coordinator presses "to a wish draft"): a wish `pending_review` in the coordinator's name,
    linked to the alert (once per alert: a second press, or someone else's, gets `Conflict`).
  to_lead (an editor presses "to a story lead"): a tip `new` in the editors' queue, linked the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Notice
from rules import tips as tip_rules
from rules import wishes as wish_rules
from rules.hot import (
    BASELINE_PERIODS,
    EXAMPLES,
    GROUPED_PAIRS,
    NUMBERS,
    HotReport,
    Topic,
    area_of,
    group_topics,
    is_rising,
    rank_terms,
    redact,
    report_from_counts,
    segment_all,
    topic_areas,
    use_places,
)
from rules.roles import Role
from rules.staff import STAFF_ACTIONS
from rules.tips import tip_reference
from rules.wishes import Actor
from storage import hot
from storage.errors import Conflict, NotAllowed
from storage.hot import HotAlert

log = logging.getLogger(__name__)

ALERT_PERIOD_DAYS = 7
HOT_LEAD_CATEGORY = "livelihood"
HOT_WISH_CATEGORY = "other"
ALERTED = (Role.COORDINATOR.value, Role.EDITOR.value)
# Texts younger than this are not stored by the backlog yet (they are counted on the fly meanwhile).
SETTLE = dt.timedelta(minutes=1)
# A topic's areas are read from its newest messages, at most this many.
AREA_SAMPLE = 200
QUOTE_TRIES = 3 * EXAMPLES

# Writes the text of the wish or lead made from an alert, in the language of whoever pressed.
Describe = Callable[[HotAlert], str]


@dataclass(frozen=True, slots=True)
class Made:
    """The wish draft (`W-0001`) or the story lead (`T-0001`) an alert became."""

    ref: str
    term: str


def staff_id(actor: Actor, action: str) -> int:
    """The actor's id; `NotAllowed` unless they are a person holding a role the staff table allows."""
    if actor.user_id is None or actor.roles.isdisjoint(STAFF_ACTIONS[action]):
        raise NotAllowed(f"{actor.user_id} may not {action}")
    return actor.user_id


async def shown_topics(env: Env, actor: Actor, days: int) -> list[Topic]:
    """/hot: the topics of the last `days` days (`topics`), for staff allowed to see them; `NotAllowed` else."""
    staff_id(actor, "hot")
    return await topics(env, env.now(), days)


async def report(env: Env, actor: Actor, days: int) -> HotReport:
    """The top terms of the last `days` days, and the rising ones against the days before: the stored terms
    summed by a query, plus the few texts the sweep has not segmented yet (segmented in a worker thread)."""
    staff_id(actor, "hot")
    now = env.now()
    async with env.db.read() as conn:
        return await period_report(conn, now=now, days=days)


async def segment_backlog(env: Env, now: dt.datetime, *, since: dt.datetime, limit: int) -> int:
    """Segment, in a worker thread, up to `limit` texts above the watermarks and store their terms; texts
    older than `since` (no report reaches them) are passed over. The watermark stops before texts younger
    than `SETTLE` (a text whose transaction is still open could otherwise get a lower id than one already
    stored, and be passed over). Returns how many texts were stored. The sweep calls it every minute."""
    stored = 0
    async with env.db.read() as conn:  # one read for both sources: the sweep usually finds nothing
        marks = await hot.watermarks(conn)
        found = {}
        for source, mark in marks.items():
            found[source] = await hot.unsegmented(conn, source, mark, since=since, limit=limit)
    for source, pending in found.items():
        settled = []
        for text in pending:
            if text.at > now - SETTLE:
                break
            settled.append(text)
        if not settled:
            continue
        use_places(env.settings.areas)
        terms = await asyncio.to_thread(segment_all, [text.text for text in settled])
        async with env.db.write() as conn:
            stored += await hot.store_terms(conn, zip(settled, terms, strict=True))
            await hot.set_watermark(conn, source, settled[-1].source_id)
    return stored


async def counts_between(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> tuple[Counter[str], int]:
    """(in how many texts of [since, until) each term appears, how many texts): the stored terms summed by a
    query, plus any text not segmented yet, segmented in a worker thread (and not stored: `conn` may be a
    reader's)."""
    counts, texts = await hot.term_counts(conn, since, until)
    unstored = await _unstored(conn, since, until)
    for _text, terms in unstored:
        counts.update(terms)
    return counts, texts + len(unstored)


async def _unstored(
    conn: AsyncConnection, since: dt.datetime, until: dt.datetime, state: hot.TextsState | None = None
) -> list[tuple[hot.PendingText, set[str]]]:
    """The texts of [since, until) whose terms are not stored yet, with their terms (segmented in a worker
    thread), the newest first (`state`: the newest texts and watermarks, when just read)."""
    pending = await hot.unsegmented_since(conn, since, until=until, state=state)
    if not pending:
        return []
    segmented = await asyncio.to_thread(segment_all, [text.text for text in pending])
    return sorted(zip(pending, segmented, strict=True), key=lambda item: item[0].at, reverse=True)


async def topics(env: Env, now: dt.datetime, days: int = 7, limit: int = 10) -> list[Topic]:
    """The messages of the `days` days before `now` grouped into at most `limit` topics, the fastest-rising
    first: leading terms, count, rise against the `4 × days` before, areas and up to three quoted examples
    with names and numbers removed. Reads only; the segmentation and grouping run in a worker thread."""
    use_places(env.settings.areas)
    async with env.db.read() as conn:
        return await period_topics(conn, now=now, days=days, limit=limit, places=env.settings.areas)


# Topics computed lately, per database: the screen asks every 3 seconds, a monitor's /hot may repeat it. An entry
# holds for the minute it was computed and only while no text was added or segmented since (`hot.texts_state`);
# an erasure empties it at once (`forget_cached_topics`).
_CACHED: weakref.WeakKeyDictionary[object, dict[tuple[object, ...], list[Topic]]] = weakref.WeakKeyDictionary()
CACHED_KEYS = 32


def forget_cached_topics() -> None:
    """Drop every cached topic list (a person's texts were erased: no example may quote them any more)."""
    _CACHED.clear()


async def period_topics(
    conn: AsyncConnection, *, now: dt.datetime, days: int, limit: int, places: Sequence[str]
) -> list[Topic]:
    """`topics` on an open connection (the digest reads it inside its own transaction). A topic's areas come
    from its newest `AREA_SAMPLE` messages (a wish's area, else a configured area the text names), its
    examples are the newest of those. The same question in the same minute, with no new text, is answered from
    the last computation."""
    cache = _CACHED.setdefault(conn.sync_engine, {})
    state = await hot.texts_state(conn)
    key = (days, limit, tuple(places), now.replace(second=0, microsecond=0), state)
    if (found := cache.get(key)) is not None:
        return found
    computed = await _period_topics(conn, now=now, days=days, limit=limit, places=places, state=state)
    if len(cache) >= CACHED_KEYS:
        cache.clear()
    cache[key] = computed
    return computed


async def _period_topics(
    conn: AsyncConnection, *, now: dt.datetime, days: int, limit: int, places: Sequence[str], state: hot.TextsState
) -> list[Topic]:
    since = now - dt.timedelta(days=days)
    before = since - dt.timedelta(days=BASELINE_PERIODS * days)
    # The texts not stored yet are read and segmented once for both periods (the sweep stores them within a minute).
    unstored = await _unstored(conn, before, now, state)
    fresh = {(text.source, text.source_id): terms for text, terms in unstored if text.at >= since}
    stored, stored_texts = await hot.term_counts(conn, since, now, now=now)
    current, current_texts = stored.copy(), stored_texts + len(fresh)
    for terms in fresh.values():
        current.update(terms)
    baseline, baseline_texts = await hot.term_counts(conn, before, since, now=now)
    for text, terms in unstored:
        if text.at < since:
            baseline.update(terms)
            baseline_texts += 1
    ranked = rank_terms(current, current_texts, baseline, baseline_texts)
    wanted = {term.term for term in ranked}
    held = {
        (text.source, text.source_id): hot.HeldText(frozenset(terms & wanted), text.area)
        for text, terms in unstored
        if text.at >= since and terms & wanted
    }
    # The texts to read for the sample: as many as hold GROUPED_PAIRS pairs at the period's rate, to begin with.
    pairs = sum(term.current for term in ranked)
    rate = current_texts / pairs if pairs else None
    held.update(await hot.texts_holding(conn, since, now, wanted, limit=GROUPED_PAIRS, texts_per_pair=rate))
    groups = await asyncio.to_thread(group_topics, {key: text.terms for key, text in held.items()}, ranked, limit=limit)
    counts = []
    for group in groups:
        recent = sum(1 for terms in fresh.values() if not terms.isdisjoint(group.claims))
        counts.append(recent + await hot.union_count(conn, since, now, group.claims, stored))

    sampled = [group.members[:AREA_SAMPLE] for group in groups]
    # A tip's or an unplaced wish's area: the first configured one its text names, found only for the messages
    # whose areas are counted (a text not stored yet here, the others by the database).
    unplaced = list(dict.fromkeys(key for keys in sampled for key in keys if held[key].area is None))
    written = {(text.source, text.source_id): text.text for text, _terms in unstored}
    named = {key: area_of(written[key], places) for key in unplaced if key in written}
    named.update(await hot.places_named(conn, [key for key in unplaced if key not in written], places))
    examples = await _examples(conn, sampled)
    return [
        Topic(
            terms=group.terms,
            count=count,
            rise=round(group.seed.rise, 1),
            rising=is_rising(group.seed),
            areas=topic_areas(held[key].area or named.get(key) for key in keys),
            examples=quoted_examples,
            baseline=group.seed.baseline,
        )
        for group, keys, count, quoted_examples in zip(groups, sampled, counts, examples, strict=True)
    ]


async def _examples(conn: AsyncConnection, members: Sequence[Sequence[hot.TextKey]]) -> list[tuple[str, ...]]:
    """Each topic's quoted examples (`quote`) from its messages (the newest first), whose texts are read a page
    of `QUOTE_TRIES` at a time, for the topics still short of examples."""
    quoters = [Quoter() for _ in members]
    for start in range(0, max((len(keys) for keys in members), default=0), QUOTE_TRIES):
        pages = [
            keys[start : start + QUOTE_TRIES] if not quoter.done else ()
            for keys, quoter in zip(members, quoters, strict=True)
        ]
        if not any(pages):
            break
        texts = await hot.quoted_texts(conn, [key for page in pages for key in page])
        found = [[text.text for text in sorted((texts[k] for k in page if k in texts), key=newest)] for page in pages]
        await asyncio.to_thread(_feed, quoters, found)
    return [quoter.examples for quoter in quoters]


def _feed(quoters: Sequence[Quoter], pages: Sequence[Sequence[str]]) -> None:
    """Each quoter its page of texts (redacting is CPU work: in a worker thread)."""
    for quoter, page in zip(quoters, pages, strict=True):
        quoter.add(page)


async def period_report(conn: AsyncConnection, *, now: dt.datetime, days: int, limit: int = 10) -> HotReport:
    """Top terms of the last `days` days and the rising ones against the `days` days before."""
    since = now - dt.timedelta(days=days)
    current, current_texts = await counts_between(conn, since, now)
    previous, previous_texts = await counts_between(conn, since - dt.timedelta(days=days), since)
    return report_from_counts(current, current_texts, previous, previous_texts, now=now, days=days, limit=limit)


def newest(text: hot.QuotedText) -> float:
    """Sort key: the newest text first (texts of the same moment stay in the order given: the latest id first)."""
    return -text.at.timestamp()


def topic_line(topic: Topic) -> str:
    """A topic in one line of any language (a digest's value): terms, count, rise, areas and its first example."""
    line = f"{'🔺 ' if topic.rising else ''}{'、'.join(topic.terms)} · {topic.count} · ↑{topic.rise:g}"
    if topic.areas:
        line += f" · {'、'.join(topic.areas)}"
    return line + (f"「{topic.examples[0]}」" if topic.examples else "")


def quote(texts: Sequence[str]) -> tuple[str, ...]:
    """Up to `EXAMPLES` different texts of a topic (the newest first), names and numbers removed; at most
    `QUOTE_TRIES` different texts are tried, however alike they turn out."""
    quoter = Quoter()
    quoter.add(texts)
    return quoter.examples


class Quoter:
    """`quote` fed a page of texts at a time. Texts that differ only in their numbers are redacted once (the
    numbers are removed anyway): a jieba pass each costs more than the rest of /hot."""

    def __init__(self) -> None:
        self.tried: dict[str, None] = {}
        self.redacted: dict[str, str] = {}
        self.quoted: list[str] = []

    @property
    def done(self) -> bool:
        return len(self.quoted) == EXAMPLES or len(self.tried) == QUOTE_TRIES

    @property
    def examples(self) -> tuple[str, ...]:
        return tuple(self.quoted)

    def add(self, texts: Sequence[str]) -> None:
        for text in texts:
            if self.done:
                return
            if text in self.tried:
                continue
            self.tried[text] = None
            alike = NUMBERS.sub("0", text)
            if alike not in self.redacted:
                self.redacted[alike] = redact(text)
            if (example := self.redacted[alike]) not in self.quoted:
                self.quoted.append(example)


async def alert_spike(env: Env, day: str, now: dt.datetime) -> int:
    """Alert coordinators and editors to the week's fastest-rising topic, once per local `day`: the first topic
    of /hot (`topics`, the same computation, so the two never disagree) when it is rising; returns how many
    notices were queued (0 when nothing rises or the day had its alert)."""
    async with env.db.read() as conn:
        if await hot.alerted_on(conn, day):
            return 0
    found = await topics(env, now, days=ALERT_PERIOD_DAYS)
    if not found or not found[0].rising:
        return 0
    topic = found[0]
    async with env.db.write() as conn:
        alert = await hot.record_alert(
            conn,
            day=day,
            term="、".join(topic.terms),
            current=topic.count,
            previous=topic.baseline,
            now=now,
            rise=topic.rise,
            areas=topic.areas,
            example=topic.examples[0] if topic.examples else None,
        )
        if alert is None:
            return 0
        recipients = await hot.alert_recipients(conn, ALERTED, admin_ids=env.settings.admin_ids)
        queued = 0
        for user_id, roles in sorted(recipients.items()):
            queued += await notices.queue(
                conn,
                user_id,
                alert_notice(alert, roles),
                now=now,
                dedupe_key=f"hot:{day}:{alert.id}:{user_id}",
                condition=[notices.holds_role(*ALERTED)],
            )
    env.wake()
    log.info("hot-topic alert %r sent to %d staff", alert.term, queued)
    return queued


def alert_notice(alert: HotAlert, roles: set[str]) -> Notice:
    """The alert (the topic's leading terms, messages, rise, areas and an example), with the buttons of the
    roles its recipient holds."""
    buttons: list[Button] = []
    if Role.COORDINATOR.value in roles:
        buttons.append(Button("hot.to_wish_button", Act.HOT_WISH, alert.id))
    if Role.EDITOR.value in roles:
        buttons.append(Button("hot.to_lead_button", Act.HOT_LEAD, alert.id))
    values: dict[str, str | int | float] = {
        "terms": alert.term,
        "count": alert.current_count,
        "rise": f"{alert.rise:g}" if alert.rise is not None else "—",
        "days": ALERT_PERIOD_DAYS,
        "baseline": BASELINE_PERIODS * ALERT_PERIOD_DAYS,
        "hot_id": alert.id,
    }
    if alert.areas:
        values["areas"] = "、".join(alert.areas)
    else:
        values["areas_key"] = "hot.no_area"
    if alert.example:
        values["example"] = alert.example
    key = "hot.alert" if alert.example else "hot.alert_no_example"
    return Notice(key, values, tuple((button,) for button in buttons))


async def to_wish(env: Env, actor: Actor, alert_id: int, describe: Describe) -> Made:
    """A wish draft from the alert, waiting for review in the coordinator's name.

    `NotAllowed` for others than coordinators, `NotFound` for an unknown alert, `Conflict` when the alert
    was already turned into work, `LimitReached` when the coordinator hit the daily wish limit.
    """
    person_id = staff_id(actor, "hot_to_wish")
    async with env.db.write() as conn:
        alert = await hot.get_alert(conn, alert_id)
        if alert.wish_id is not None:
            raise Conflict(f"alert {alert_id} is already wish {alert.wish_id}")
        wish = await wish_rules.submit_wish(
            conn,
            wish_rules.WishDraft(category=HOT_WISH_CATEGORY, description=describe(alert)),
            resident_id=person_id,
            now=env.now(),
            review=True,
            daily_limit=env.settings.wishes_per_day,
        )
        if not await hot.link_alert(conn, alert.id, wish_id=wish.id):
            raise Conflict("made by someone else meanwhile")  # rolls the draft back
    return Made(wish_rules.wish_ref(wish.ref_no), alert.term)


async def to_lead(env: Env, actor: Actor, alert_id: int, describe: Describe) -> Made:
    """A story lead from the alert, `new` in the editors' queue.

    `NotAllowed` for others than editors, `NotFound` for an unknown alert, `Conflict` when the alert was
    already turned into a lead.
    """
    person_id = staff_id(actor, "hot_to_lead")
    async with env.db.write() as conn:
        alert = await hot.get_alert(conn, alert_id)
        if alert.tip_id is not None:
            raise Conflict(f"alert {alert_id} is already tip {alert.tip_id}")
        tip = await tip_rules.create_tip(
            conn,
            reporter_id=person_id,
            by_reporter=False,
            category=HOT_LEAD_CATEGORY,
            description=describe(alert),
            location=None,
            media=[],
            now=env.now(),
        )
        if not await hot.link_alert(conn, alert.id, tip_id=tip.id):
            raise Conflict("made by someone else meanwhile")
    return Made(tip_reference(tip.id), alert.term)
