"""Public-opinion events (舆情事件): a monitor or coordinator raises a hot alert, a wish (its whistle), a case or a
topic's words to an event with a level I–IV; the level's clocks run from that moment; what is done is recorded
against them; the sweep warns before a clock runs out and escalates a missed one to the admins.

Effects, per action (each in one transaction, with its record and audit entry):
  propose (monitors, coordinators): nothing written; the source's title and the level suggested from its volume,
    rise, areas and sensitive words (`rules.events.suggest_level`); a topic's words from the week's topic they
    name (`actions.hot.topics`).
  raise_event (monitors, coordinators): the event `open` with its level's clocks (`rules.events.clocks_for`,
    settings `EVENT_*`); every owner of its clocks (monitors; editors for information and press; coordinators for
    the response) and, for I–II, the admins are told, urgently, while it is open. Audit `event.raise`.
  record (monitors, coordinators, editors): a clock met (`上报`, `回应`, `发布 T-3`, `发布会`, `答复`) or a note;
    `发布 T-n` needs the tip published; a clock the level does not run is refused. Whoever raised the event is
    told when someone else met a clock.
    Audit `event.record`.
  close (monitors, coordinators): `open → closed` with a summary; whoever raised it is told. Audit `event.close`.
  check_clocks (the sweep): first the clocks met elsewhere: a published tip made from the event's source (the
    lead of its hot alert, a tip from its wish) meets the information clock, its case resolved meets the response
    clock, at the moment they happened; then each unmet clock at its warning moment warns its owners (not the
    admins, who hold every role) and the person who raised it (once: dedupe key per clock and person, while the
    clock is unmet), and each clock past due escalates to the admins once and is marked missed (`escalated_at`)
    for good.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.env import Env
from actions.hot import topics
from actions.messages import Notice, Value
from rules import events as rules
from rules.events import Clock, ClockHours, EventStatus, Level, Record, Signals, Source, event_ref, source_ref
from rules.roles import Role
from rules.staff import HOT_WATCHERS
from rules.tips import TipStatus, tip_reference
from rules.wishes import Actor
from storage import audit, hot, people, tips, users
from storage import events as store
from storage import wishes as wish_store
from storage.errors import Conflict, NotAllowed, NotFound
from storage.events import Event, EventClock

PREFIX = "event:"
SIGNAL_DAYS = 7  # volume and areas are counted over the last week, the rise against the four weeks before
TOPICS_LOOKED_AT = 20  # a topic's words are looked for among this many of the week's topics


@dataclass(frozen=True, slots=True)
class Proposal:
    """What /event shows before the level is chosen: the source, its title and the suggested level."""

    source: Source
    title: str
    suggested: Level
    signals: Signals


@dataclass(frozen=True, slots=True)
class ClockView:
    """A clock as people see it: its kind, due moment, state (running, overdue, met, met_late) and minutes left."""

    clock: EventClock
    state: str
    minutes_left: int
    missed: bool


@dataclass(frozen=True, slots=True)
class EventView:
    """An event with its clocks, as /events, the notices and the screen show it."""

    event: Event
    clocks: tuple[ClockView, ...]

    @property
    def ref(self) -> str:
        """E-1."""
        return event_ref(self.event.ref_no)

    @property
    def level(self) -> Level:
        """The event's level."""
        return Level(self.event.level)


def clock_hours(env: Env) -> ClockHours:
    """The clocks' hours from the settings."""
    s = env.settings
    return ClockHours(
        report_major=s.event_report_major_hours,
        report_large=s.event_report_large_hours,
        report_general=s.event_report_general_hours,
        first_response=s.event_first_response_hours,
        information=s.event_information_hours,
        press=s.event_press_hours,
        response=s.event_response_hours,
    )


def _staff(actor: Actor, allowed: frozenset[Role]) -> int:
    if actor.user_id is None or not actor.roles & allowed:
        raise NotAllowed(f"{actor.user_id} may not do this to events")
    return actor.user_id


async def _topic_signals(env: Env, source: Source, now: dt.datetime) -> Signals | None:
    """For a topic's words, the signals of the week's topic they name (None: another source, or no such topic).
    Read before the transaction: grouping the week's texts into topics runs in a worker thread."""
    if source.kind != "text" or not source.text:
        return None
    topic = rules.matching_topic(source.text, await topics(env, now, days=SIGNAL_DAYS, limit=TOPICS_LOOKED_AT))
    return rules.topic_signals(source.text, topic) if topic is not None else None


async def _read_source(
    conn: AsyncConnection, source: Source, now: dt.datetime, topic: Signals | None = None
) -> tuple[str, Signals]:
    """The title of what an event is raised from and the signals its level is suggested from (`NotFound`); a
    topic's words take their topic's signals when the week has one."""
    since = now - dt.timedelta(days=SIGNAL_DAYS)
    if source.kind == "hot" and source.number is not None:
        alert = await hot.get_alert(conn, source.number)
        if alert.rise is not None:  # a topic's alert (migration 0030): the signals /hot showed that day
            words = " ".join((alert.term, alert.example or ""))
            return alert.term, Signals(alert.current_count, alert.rise, rules.distinct_areas(alert.areas), words)
        areas = await store.areas_mentioning(conn, alert.term, since)
        rise = alert.current_count / max(alert.previous_count, 1)
        return alert.term, Signals(alert.current_count, rise, rules.distinct_areas(areas), alert.term)
    if source.kind == "wish" and source.number is not None:
        wish = await wish_store.get_wish_by_ref(conn, source.number)
        return wish.description[: rules.TITLE_MAX], Signals(1, 1.0, 1 if wish.area else 0, wish.description)
    if source.kind == "case" and source.number is not None:
        case = (await store.case_facts(conn, [source.number])).get(source.number)
        if case is None:
            raise NotFound(f"case {source.number}")
        return case.summary[: rules.TITLE_MAX], Signals(1, 1.0, 1 if case.area else 0, case.summary)
    words = source.text or ""
    if topic is not None:
        return words, topic
    areas = await store.areas_mentioning(conn, words, since)
    return words, Signals(len(areas), 1.0, rules.distinct_areas(areas), words)


async def propose(env: Env, actor: Actor, source: Source) -> Proposal:
    """The source's title and suggested level (`NotFound`: no such source; `Conflict`: an event is open for it)."""
    _staff(actor, rules.RAISERS)
    topic = await _topic_signals(env, source, env.now())
    async with env.db.read() as conn:
        await _not_raised(conn, source)
        title, signals = await _read_source(conn, source, env.now(), topic)
    return Proposal(source, title, rules.suggest_level(signals), signals)


async def _not_raised(conn: AsyncConnection, source: Source) -> None:
    if source.kind == "text" or source.number is None:
        return
    if (await store.open_event_for(conn, source.kind, source.number)) is not None:
        raise Conflict("an event is open for this source", current="open")


async def raise_event(env: Env, actor: Actor, source: Source, level: Level) -> EventView:
    """Raise what `source` names to an event of `level`, with its clocks running from now."""
    actor_id = _staff(actor, rules.RAISERS)
    now = env.now()
    async with env.db.write() as conn:
        await _not_raised(conn, source)
        title, _ = await _read_source(conn, source, now)
        allowed = rules.clocks_for(level, clock_hours(env))
        event = await store.insert_event(
            conn,
            source=source.kind,
            source_id=source.number if source.kind != "text" else None,
            level=int(level),
            title=title,
            raised_by=actor_id,
            now=now,
            clocks={clock.value: now + time for clock, time in allowed.items()},
        )
        shown = await _view(conn, event, now)
        told = await _owners(conn, env, allowed) | (await _admins(conn, env) if level <= Level.II else set())
        values = {**card_values(shown, env), **next_clock(shown, env), "name": await _name(conn, actor_id)}
        await notices.queue_many(
            conn,
            sorted(told - {actor_id}),
            Notice("event.raised", values),
            now=now,
            lane="urgent",
            dedupe_prefix=f"{PREFIX}raised:{event.id}",
            concerns={"event": [event.id]},
            condition=[notices.event_in(event.id, EventStatus.OPEN)],
        )
        await audit.record(
            conn, actor_id=actor_id, action="event.raise", subject=shown.ref, now=now, detail=level.roman
        )
    env.wake()
    return shown


async def record(env: Env, actor: Actor, ref_no: int, typed: Record) -> EventView:
    """Record what was done against a clock (or a note); `发布 T-n` needs that tip published (`Conflict`
    `tip:<status>` otherwise); a clock met before gives `Conflict` `met`, one the level does not run `NotFound`."""
    actor_id = _staff(actor, rules.RECORDERS)
    now = env.now()
    async with env.db.write() as conn:
        event = await _open_event(conn, ref_no)
        if typed.clock is not None and typed.clock not in rules.clocks_for(Level(event.level), ClockHours()):
            raise rules.EventInputError("event.not_this_level")
        what = typed.what
        if typed.tip is not None:
            tip = await tips.get_tip(conn, typed.tip)
            if tip.status != TipStatus.PUBLISHED:
                raise Conflict(f"tip {tip.id} is {tip.status}", current=f"tip:{tip.status}")
            what = f"{tip_reference(tip.id)} {tip.published_url or ''}".strip()
        if typed.clock is not None:
            await store.meet_clock(conn, event.id, typed.clock.value, by=actor_id, what=what, now=now)
        await store.add_record(
            conn, event.id, actor_id=actor_id, now=now, clock=typed.clock.value if typed.clock else None, what=what
        )
        shown = await _view(conn, event, now)
        if typed.clock is not None:
            extra: dict[str, Value] = {"clock_key": f"event.clock.{typed.clock.value}", "what": what}
            await _tell_raiser(conn, env, shown, actor_id, "clock_met", f"met:{typed.clock.value}", extra, now)
        await audit.record(conn, actor_id=actor_id, action="event.record", subject=shown.ref, now=now, detail=what)
    env.wake()
    return shown


async def close(env: Env, actor: Actor, ref_no: int, summary: str) -> EventView:
    """Close an open event with a summary (`Conflict` `closed` when it was closed before)."""
    actor_id = _staff(actor, rules.RAISERS)
    text = rules.check_text(summary, rules.SUMMARY_MAX, "event.close_usage")
    now = env.now()
    async with env.db.write() as conn:
        event = await store.get_event_by_ref(conn, ref_no)
        event = await store.close_event(conn, event.id, by=actor_id, summary=text, now=now)
        shown = await _view(conn, event, now)
        await _tell_raiser(conn, env, shown, actor_id, "closed", "closed", {"summary": text}, now)
        await audit.record(conn, actor_id=actor_id, action="event.close", subject=shown.ref, now=now, detail=text)
    env.wake()
    return shown


async def _tell_raiser(
    conn: AsyncConnection,
    env: Env,
    shown: EventView,
    actor_id: int,
    kind: str,
    stage: str,
    extra: dict[str, Value],
    now: dt.datetime,
) -> None:
    """Tell whoever raised the event what someone else did to it (`event.<kind>`, once per stage)."""
    raiser = shown.event.raised_by
    if raiser is None or raiser == actor_id:
        return
    values = {**card_values(shown, env), **extra, "name": await _name(conn, actor_id)}
    await notices.queue(
        conn,
        raiser,
        Notice(f"event.{kind}", values),
        now=now,
        dedupe_key=f"{PREFIX}{stage}:{shown.event.id}",
        concerns={"event": [shown.event.id]},
    )


async def open_views(env: Env, actor: Actor) -> list[EventView]:
    """/events: the open events, gravest first, with their clocks (staff who watch hot topics)."""
    _staff(actor, HOT_WATCHERS)
    async with env.db.read() as conn:
        return await screen_views(conn, env.now())


async def screen_views(conn: AsyncConnection, now: dt.datetime, limit: int = 50) -> list[EventView]:
    """The open events with their clocks at `now` (also the screen's events panel)."""
    found = await store.open_events(conn, limit)
    clocks = await store.clocks_of(conn, [event.id for event in found])
    return [EventView(event, tuple(_clock_view(c, now) for c in clocks[event.id])) for event in found]


async def _open_event(conn: AsyncConnection, ref_no: int) -> Event:
    event = await store.get_event_by_ref(conn, ref_no)
    if event.status != EventStatus.OPEN:
        raise Conflict(f"event {ref_no} is closed", current="closed")
    return event


async def _view(conn: AsyncConnection, event: Event, now: dt.datetime) -> EventView:
    clocks = (await store.clocks_of(conn, [event.id]))[event.id]
    return EventView(event, tuple(_clock_view(c, now) for c in clocks))


def _clock_view(clock: EventClock, now: dt.datetime) -> ClockView:
    state = rules.clock_state(clock.due_at, clock.met_at, now)
    return ClockView(clock, state, rules.minutes_left(clock.due_at, now), clock.escalated_at is not None)


def local(moment: dt.datetime, env: Env) -> str:
    """A moment in local time, as people read it."""
    return moment.astimezone(env.settings.tz).strftime("%m-%d %H:%M")


def card_values(shown: EventView, env: Env) -> dict[str, Value]:
    """What every event message says: reference, level, title, source and when it was raised."""
    return {
        "ref": shown.ref,
        "level_key": f"event.level.{int(shown.level)}",
        "title": shown.event.title,
        "source": source_ref(shown.event.source, shown.event.source_id),
        "raised": local(shown.event.raised_at, env),
    }


def next_clock(shown: EventView, env: Env) -> dict[str, Value]:
    """The first clock to fall due and when (every event runs at least the upward report and first response)."""
    first = shown.clocks[0].clock
    return {"next_key": f"event.clock.{first.kind}", "next_due": local(first.due_at, env)}


async def _name(conn: AsyncConnection, person_id: int | None) -> str:
    if person_id is None:
        return "—"
    try:
        return (await users.get_user(conn, person_id)).display_name
    except NotFound:
        return "—"


async def _owners(conn: AsyncConnection, env: Env, clocks: Iterable[Clock]) -> set[int]:
    """The people holding a role that owns one of these clocks (admins hold every role), reachable."""
    roles = {role.value for clock in clocks for role in rules.OWNER_ROLES[clock]}
    return set(await hot.alert_recipients(conn, tuple(sorted(roles)), admin_ids=env.settings.admin_ids))


async def _admins(conn: AsyncConnection, env: Env) -> set[int]:
    return set(await people.admin_person_ids(conn, env.settings.admin_ids))


# --- the sweep -----------------------------------------------------------------------------------------------


async def check_clocks(env: Env, now: dt.datetime) -> int:
    """Meet the clocks met elsewhere, then write the warnings and escalations that are due; how many notices."""
    most_before = dt.timedelta(minutes=env.settings.event_warn_max_minutes)
    async with env.db.read() as conn:
        if not await store.count_open(conn):
            return 0  # the usual minute: one indexed count, no write transaction
    async with env.db.write() as conn:
        await _met_elsewhere(conn, now)
        due = await store.unmet_clocks_due(conn, now + most_before)
        if not due:
            return 0
        admins = await _admins(conn, env)
        queued = 0
        for item in due:
            queued += await _check_clock(conn, env, item, now, admins)
    env.wake()
    return queued


async def _met_elsewhere(conn: AsyncConnection, now: dt.datetime) -> None:
    """A post published from the event's source meets its information clock, its case resolved its response clock."""
    for event in await store.open_from(conn, "hot") + await store.open_from(conn, "wish"):
        if event.source_id is None:
            continue
        for post in (await store.posts_from(conn, event.source, event.source_id))[:1]:
            what = f"{tip_reference(post.tip_id)} {post.url or ''}".strip()
            await _meet_quietly(conn, event, Clock.INFORMATION, post.by, what, min(post.at, now))
    cases = await store.open_from(conn, "case")
    facts = await store.case_facts(conn, [e.source_id for e in cases if e.source_id is not None])
    for event in cases:
        case = facts.get(event.source_id or 0)
        if case is not None and case.resolved_at is not None:
            what = f"C-{case.ref_no:04d}"
            await _meet_quietly(conn, event, Clock.RESPONSE, case.acknowledged_by, what, min(case.resolved_at, now))


async def _meet_quietly(
    conn: AsyncConnection, event: Event, clock: Clock, by: int | None, what: str, at: dt.datetime
) -> None:
    """Meet a clock if the event runs it and it is unmet, recording what met it; nothing otherwise."""
    try:
        await store.meet_clock(conn, event.id, clock.value, by=by, what=what, now=at)
    except (NotFound, Conflict):
        return
    await store.add_record(conn, event.id, actor_id=by, now=at, clock=clock.value, what=what)


async def _check_clock(
    conn: AsyncConnection, env: Env, item: store.DueClock, now: dt.datetime, admins: set[int]
) -> int:
    """The warning or escalation one unmet clock is due for (each once)."""
    event, clock = item.event, item.clock
    shown = EventView(event, (_clock_view(clock, now),))
    values = {
        **card_values(shown, env),
        "clock_key": f"event.clock.{clock.kind}",
        "due": local(clock.due_at, env),
        "minutes": max(rules.minutes_left(clock.due_at, now), 0),
    }
    if now >= clock.due_at:
        if not await store.mark_clock(conn, clock.id, "escalated_at", now):
            return 0
        await store.add_record(conn, event.id, actor_id=None, now=now, clock=clock.kind, what="missed")
        missed = Notice("event.clock_missed", values)
        return await _tell(conn, admins, missed, event, f"missed:{clock.id}", notices.event_in(event.id, "open"), now)
    warn_at = rules.warn_moment(
        event.raised_at,
        clock.due_at,
        share=env.settings.event_warn_share,
        most_before=dt.timedelta(minutes=env.settings.event_warn_max_minutes),
    )
    if now < warn_at or not await store.mark_clock(conn, clock.id, "warned_at", now):
        return 0
    # The admins hold every role, but they hear of a clock when it is missed (unless they raised the event).
    owners = await _owners(conn, env, [Clock(clock.kind)]) - admins
    if event.raised_by is not None:
        owners.add(event.raised_by)
    warning = Notice("event.clock_warning", values)
    return await _tell(conn, owners, warning, event, f"warn:{clock.id}", notices.clock_unmet(clock.id), now)


async def _tell(
    conn: AsyncConnection,
    people: set[int],
    notice: Notice,
    event: Event,
    stage: str,
    condition: notices.Check,
    now: dt.datetime,
) -> int:
    """A clock's warning or escalation to these people, urgently, once each (keyed by stage, clock and person)."""
    return await notices.queue_many(
        conn,
        sorted(people),
        notice,
        now=now,
        lane="urgent",
        dedupe_prefix=f"{PREFIX}{stage}",
        concerns={"event": [event.id]},
        condition=[condition],
    )
