"""Activities: created by a coordinator or a team leader, published to matching volunteers, signed up for in
one tap (a waitlist when full), reminded, checked in and out on the spot with a short-lived code, and closed by
the organizer confirming everyone's hours; then the participants' photos become one newsroom lead.

Effects, per action (each one transaction):
  create: the activity `published` (A-number); event `created`; audit `activity.create`; to every approved
    volunteer whose skills match (any skill when none is asked) in its area (any area when none is given) and
    every member of the activity's team, an
    invitation with Sign up (bulk lane: held through the quiet hours like every non-urgent message).
  sign_up: a place, or the waitlist when full; event `signed_up` / `waitlisted`.
  cancel: the sign-up `cancelled`; event; if it held a place, the first on the waitlist moves up (event
    `promoted`) and is told.
  remind (the sweep): the day before (18:00 local) and an hour before, to everyone holding a place, once each
    (dedupe key per activity, kind and person).
  show_code (the organizer, or a coordinator): a new code, valid `checkin_code_minutes`; event `code`.
  use_code (a signed-up person): first use checks in, the second (after the start) checks out with the hours
    from the later of check-in and the start, rounded down by `checkin_round_minutes`; refused when the code is
    unknown or expired, the person not signed up, or the location shared further than `checkin_radius_m` from
    the place; events `checked_in` / `checked_out`.
  call_off / move (the organizer, or a coordinator): cancel with a reason, or change the time or place before
    the start; everyone signed up or waiting is told; notices written for the old state are superseded.
  adjust / toggle_no_show (the organizer): one person's hours ± half an hour, or no-show; event.
  confirm (the organizer): everyone's hours confirmed, people who never came marked no-show; the activity
    `held`; event; audit; each participant told their hours and invited to send photos, the organizer too.
  share_photos (a participant, after consenting): the photos join the activity's one newsroom lead (a tip);
    the first share creates it and tells every editor "来自活动 A-0007".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Lane, Notice
from actions.tips import editor_ids
from rules import activities as rules
from rules.activities import InvalidInput, activity_ref
from rules.roles import Role
from rules.staff import person_ref
from rules.tips import TipStatus, tip_reference
from rules.wishes import Actor
from storage import activities as store
from storage import audit, outbox
from storage import projects as project_store
from storage import tips as tip_store
from storage.activities import Activity, NewActivity, Signup
from storage.errors import Conflict, NotAllowed
from storage.projects import Project
from storage.tips import MediaItem, Tip

REMIND_PREFIX = "activity:remind:"
LEAD_CATEGORY = "civilization_practice"


@dataclass(frozen=True, slots=True)
class Listed:
    """An upcoming activity as /activities shows it to one person."""

    activity: Activity
    taken: int
    mine: str | None  # the person's sign-up status, if any


@dataclass(frozen=True, slots=True)
class Code:
    """A check-in code the organizer shows."""

    activity: Activity
    code: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CodeUsed:
    """What scanning or typing a code did: `checked_in`, `already_in` (a double scan), `checked_out` (with hours),
    or `done` (nothing left to do)."""

    activity: Activity
    outcome: str
    hours: float | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    """The organizer's screen: the activity and everyone on it."""

    activity: Activity
    people: list[Signup]


def _person(actor: Actor) -> int:
    if actor.user_id is None:
        raise NotAllowed("nobody")
    return actor.user_id


def activity_card(activity: Activity, key: str, taken: int, tz_name: str, **extra: str | int) -> Notice:
    """The notice describing an activity (invitation, reminder), with the Sign up button for invitations."""
    values: dict[str, str | int | float] = {
        "ref": activity_ref(activity.ref_no),
        "title": activity.title,
        "when": _local(activity.starts_at, tz_name),
        # The start's clock time: a reminder names it instead of "in an hour" (it may arrive late).
        "start": activity.starts_at.astimezone(ZoneInfo(tz_name)).strftime("%H:%M"),
        "hours": f"{activity.duration_minutes / 60:g}",
        "place": activity.place,
        "taken": taken,
        "headcount": activity.headcount,
        **extra,
    }
    buttons: tuple[tuple[Button, ...], ...] = ()
    if key == "activity.invitation":
        buttons = ((Button("activity.button.sign_up", Act.ACTIVITY_SIGN_UP, activity.id),),)
    return Notice(key, values, buttons=buttons, location=activity.location if key == "activity.remind_hour" else None)


def _local(moment: dt.datetime, tz_name: str) -> str:
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M")


# -- organizing ------------------------------------------------------------------------------------------------


async def organizer_projects(env: Env, actor: Actor) -> list[Project]:
    """The projects the actor may create activities in (coordinators: all; team leaders: their teams')."""
    person = _person(actor)
    async with env.db.read() as conn:
        led = [team.id for team in await project_store.teams_led_by(conn, person)]
        if not led and not rules.is_coordinator(actor.roles):
            raise NotAllowed("activities are organized by coordinators and team leaders")
        return await project_store.projects_for_organizer(conn, led, everything=rules.is_coordinator(actor.roles))


async def create(env: Env, actor: Actor, new: NewActivity) -> tuple[Activity, int]:
    """Publish a new activity; returns it and how many volunteers were invited."""
    person = _person(actor)
    now = env.now()
    if new.starts_at <= now:
        raise InvalidInput("activity.error.past")
    async with env.db.write() as conn:
        project = await project_store.get_project(conn, new.project_id)
        led = [team.id for team in await project_store.teams_led_by(conn, person)]
        if not rules.is_coordinator(actor.roles) and project.team_id not in led:
            raise NotAllowed("not this project's team leader")
        activity = await store.insert_activity(
            conn, replace(new, team_id=project.team_id), organizer_id=person, now=now
        )
        await store.record_event(conn, activity.id, "created", actor_id=person, now=now)
        await audit.record(
            conn, actor_id=person, action="activity.create", subject=activity_ref(activity.ref_no), now=now
        )
        invited = await _invite(conn, env, activity, organizer=person, now=now)
    env.wake()
    return activity, invited


async def _invite(conn: AsyncConnection, env: Env, activity: Activity, *, organizer: int, now: dt.datetime) -> int:
    recipients = await store.volunteers_for(conn, activity.skills, activity.area)
    if activity.team_id is not None:
        recipients += await project_store.team_member_ids(conn, activity.team_id)
    recipients = [r for r in dict.fromkeys(recipients) if r != organizer]
    return await _queue_invitations(conn, env, activity, recipients, now=now, edition="")


async def _queue_invitations(
    conn: AsyncConnection, env: Env, activity: Activity, recipients: list[int], *, now: dt.datetime, edition: str
) -> int:
    """Invitations describing the activity as it is now; superseded if it is cancelled or moved before they go."""
    notice = activity_card(
        activity, "activity.invitation", await store.count_signed_up(conn, activity.id), env.settings.timezone
    )
    return await notices.queue_many(
        conn,
        recipients,
        notice,
        now=now,
        lane="bulk",
        dedupe_prefix=f"activity:invite:{activity.id}{edition}",
        condition=[notices.activity_open(activity.id, (activity.starts_at, activity.place))],
    )


# -- signing up ------------------------------------------------------------------------------------------------


async def upcoming(env: Env, actor: Actor) -> list[Listed]:
    """/activities: upcoming activities with how many places are taken and the person's own status."""
    now = env.now()
    async with env.db.read() as conn:
        found = await store.upcoming(conn, now)
        listed = []
        for activity in found:
            mine = await store.find_signup(conn, activity.id, actor.user_id) if actor.user_id is not None else None
            listed.append(
                Listed(activity, await store.count_signed_up(conn, activity.id), mine.status if mine else None)
            )
    return listed


async def sign_up(env: Env, actor: Actor, activity_id: int) -> Listed:
    """Take a place (or join the waitlist). Signing up again while on it changes nothing."""
    person = _person(actor)
    if Role.VOLUNTEER not in actor.roles and not rules.is_coordinator(actor.roles):
        raise NotAllowed("volunteers sign up")
    now = env.now()
    async with env.db.write() as conn:
        await store.lock_activity(conn, activity_id, now)
        activity = await store.get_activity(conn, activity_id)
        if activity.status != "published" or activity.starts_at <= now:
            raise Conflict("closed", current=activity.status if activity.status != "published" else "started")
        current = await store.find_signup(conn, activity_id, person)
        if current is not None and current.status in ("signed_up", "waitlisted"):
            return Listed(activity, await store.count_signed_up(conn, activity_id), current.status)
        status = rules.place_for(await store.count_signed_up(conn, activity_id), activity.headcount)
        await store.put_signup(conn, activity_id, person, status, now)
        await store.record_event(conn, activity_id, status, actor_id=person, subject_id=person, now=now)
        return Listed(activity, await store.count_signed_up(conn, activity_id), status)


async def cancel(env: Env, actor: Actor, activity_id: int) -> Activity:
    """Give up a place (or leave the waitlist); the first one waiting moves up and is told."""
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        await store.lock_activity(conn, activity_id, now)
        activity = await store.get_activity(conn, activity_id)
        current = await store.find_signup(conn, activity_id, person)
        if current is None or current.status not in ("signed_up", "waitlisted"):
            raise Conflict("not signed up", current="cancelled")
        if current.checked_in_at is not None:
            raise Conflict("checked in", current="checked_in")
        await store.move_signup(conn, current.id, from_status=current.status, to_status="cancelled", now=now)
        await store.record_event(conn, activity_id, "cancelled", actor_id=person, subject_id=person, now=now)
        if current.status == "signed_up":
            await _promote(conn, env, activity, now)
    env.wake()
    return activity


async def _promote(conn: AsyncConnection, env: Env, activity: Activity, now: dt.datetime) -> None:
    if await store.count_signed_up(conn, activity.id) >= activity.headcount:
        return
    waiting = await store.first_waiting(conn, activity.id)
    if waiting is None:
        return
    await store.move_signup(conn, waiting.id, from_status="waitlisted", to_status="signed_up", now=now)
    await store.record_event(conn, activity.id, "promoted", actor_id=None, subject_id=waiting.user_id, now=now)
    taken = await store.count_signed_up(conn, activity.id)
    await notices.queue(
        conn,
        waiting.user_id,
        activity_card(activity, "activity.promoted", taken, env.settings.timezone),
        now=now,
        dedupe_key=f"activity:promoted:{activity.id}:{waiting.user_id}:{now.timestamp():.0f}",
        condition=[notices.signed_up_for(activity.id)],
    )


# -- the organizer calls off or moves an activity ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Changed:
    """An activity cancelled or moved, and how many people on it were told."""

    activity: Activity
    told: int


async def _people_on(conn: AsyncConnection, activity_id: int) -> list[int]:
    return [s.user_id for s in await store.signups_of(conn, activity_id) if s.status in ("signed_up", "waitlisted")]


def _urgent_if_soon(activity: Activity, now: dt.datetime) -> Lane:
    """News of an activity within the next 12 hours cannot wait for the morning."""
    return "urgent" if activity.starts_at - now < dt.timedelta(hours=12) else "normal"


async def call_off(env: Env, actor: Actor, activity_id: int, reason: str) -> Changed:
    """Cancel a published activity (before it is held): everyone signed up or waiting is told why; invitations and
    reminders not yet sent are dropped by their condition ("activity still published")."""
    person = _person(actor)
    reason = rules.check_name(reason, rules.NOTES_MAX)
    now = env.now()
    async with env.db.write() as conn:
        await store.lock_activity(conn, activity_id, now)
        activity = await _organized(conn, actor, activity_id)
        if not await store.set_status(conn, activity.id, from_status="published", to_status="cancelled", now=now):
            raise Conflict("not published", current=activity.status)
        await store.record_event(conn, activity.id, "called_off", actor_id=person, now=now, note=reason)
        ref = activity_ref(activity.ref_no)
        await audit.record(conn, actor_id=person, action="activity.cancel", subject=ref, now=now)
        people = [p for p in await _people_on(conn, activity.id) if p != person]
        notice = activity_card(activity, "activity.called_off", 0, env.settings.timezone, reason=reason)
        told = await notices.queue_many(
            conn,
            people,
            notice,
            now=now,
            lane=_urgent_if_soon(activity, now),
            dedupe_prefix=f"activity:off:{activity.id}",
            concerns={"activity": [activity.id]},
        )
        activity = await store.get_activity(conn, activity.id)
    env.wake()
    return Changed(activity, told)


async def move(
    env: Env, actor: Actor, activity_id: int, *, starts_at: dt.datetime | None = None, place: str | None = None
) -> Changed:
    """Change the time and/or place of a published activity before it starts: everyone signed up or waiting is
    told; invitations and reminders written for the old time or place are superseded (new ones follow)."""
    person = _person(actor)
    now = env.now()
    if place is not None:
        place = rules.check_name(place, rules.PLACE_MAX)
    async with env.db.write() as conn:
        await store.lock_activity(conn, activity_id, now)
        activity = await _organized(conn, actor, activity_id)
        if activity.status != "published":
            raise Conflict("not published", current=activity.status)
        if activity.starts_at <= now:
            raise Conflict("started", current="started")
        if starts_at is not None and starts_at <= now:
            raise InvalidInput("activity.error.past")
        before = activity
        if not await store.move(
            conn, activity.id, starts_at=starts_at or activity.starts_at, place=place or activity.place, now=now
        ):
            raise Conflict("not published", current=activity.status)
        activity = await store.get_activity(conn, activity.id)
        if activity.code is not None:
            await store.set_code(conn, activity.id, activity.code, now)  # a code shown for the old time stops
        ref = activity_ref(activity.ref_no)
        note = f"{before.starts_at.isoformat()} {before.place} -> {activity.starts_at.isoformat()} {activity.place}"
        await store.record_event(conn, activity.id, "moved", actor_id=person, now=now, note=note[:300])
        await audit.record(conn, actor_id=person, action="activity.move", subject=ref, now=now)
        edition = f":{now.timestamp():.0f}"
        people = [p for p in await _people_on(conn, activity.id) if p != person]
        notice = activity_card(
            activity,
            "activity.moved",
            await store.count_signed_up(conn, activity.id),
            env.settings.timezone,
            was_when=_local(before.starts_at, env.settings.timezone),
            was_place=before.place,
        )
        told = await notices.queue_many(
            conn,
            people,
            notice,
            now=now,
            lane=_urgent_if_soon(activity, now),
            dedupe_prefix=f"activity:moved:{activity.id}{edition}",
            condition=[notices.activity_open(activity.id, (activity.starts_at, activity.place))],
        )
        # Invitations still waiting (the quiet hours) would show the old time: the same people get the new one.
        waiting = await outbox.pending_recipients(conn, f"activity:invite:{activity.id}")
        await _queue_invitations(conn, env, activity, waiting, now=now, edition=edition)
    env.wake()
    return Changed(activity, told)


# -- reminders (the sweep) -------------------------------------------------------------------------------------


async def remind(env: Env, now: dt.datetime) -> int:
    """Queue every activity reminder due now and not written before; returns how many were queued.

    The day before: from 18:00 local on the eve until an hour before (not on the day itself: someone signing up
    that morning is not told about "tomorrow"). The hour before: in the last hour, urgent (an 08:00 activity is
    reminded at 07:00, inside the quiet hours). Each one is written under "still holding a place".
    """
    tz = env.settings.tz
    due: list[tuple[Activity, str, str, list[int]]] = []
    async with env.db.read() as conn:
        for activity in await store.starting_between(conn, now, now + dt.timedelta(days=2)):
            kinds = []
            start = f"{activity.starts_at.timestamp():.0f}"  # a moved activity is reminded again
            on_the_eve = now.astimezone(tz).date() < activity.starts_at.astimezone(tz).date()
            last_hour = activity.starts_at - rules.HOUR_BEFORE <= now
            if on_the_eve and not last_hour and rules.day_before_moment(activity.starts_at, tz) <= now:
                kinds.append(("day", "activity.remind_day"))
            if last_hour:
                kinds.append(("hour", "activity.remind_hour"))
            if kinds:
                people = [s.user_id for s in await store.signups_of(conn, activity.id) if s.status == "signed_up"]
                due += [(activity, f"{kind}:{start}", key, people) for kind, key in kinds]
        used = await outbox.used_keys(conn, REMIND_PREFIX) if due else set()
    fresh = [
        (activity, kind, key, [p for p in people if f"{REMIND_PREFIX}{kind}:{activity.id}:{p}" not in used])
        for activity, kind, key, people in due
    ]
    if not any(people for *_, people in fresh):
        return 0
    queued = 0
    async with env.db.write() as conn:
        for activity, kind, key, people in fresh:
            notice = activity_card(activity, key, await store.count_signed_up(conn, activity.id), env.settings.timezone)
            for person in people:
                queued += await notices.queue(
                    conn,
                    person,
                    notice,
                    now=now,
                    dedupe_key=f"{REMIND_PREFIX}{kind}:{activity.id}:{person}",
                    lane="urgent" if kind.startswith("hour") else "normal",
                    condition=[notices.signed_up_for(activity.id, (activity.starts_at, activity.place))],
                )
    return queued


# -- check-in and check-out --------------------------------------------------------------------------------------


async def _organized(conn: AsyncConnection, actor: Actor, activity_id: int) -> Activity:
    activity = await store.get_activity(conn, activity_id)
    if activity.organizer_id != actor.user_id and not rules.is_coordinator(actor.roles):
        raise NotAllowed("not the organizer")
    return activity


async def checkin_candidates(env: Env, actor: Actor) -> list[Activity]:
    """The organizer's activities whose check-in window is open now (or opens within the day)."""
    person = _person(actor)
    now = env.now()
    async with env.db.read() as conn:
        found = await store.organized_around(
            conn,
            person,
            since=now - dt.timedelta(hours=rules.DURATION_MAX_HOURS) - rules.CHECKIN_AFTER,
            until=now + dt.timedelta(days=1),
        )
    return [a for a in found if rules.checkin_window(a.starts_at, a.ends_at)[1] > now]


async def show_code(env: Env, actor: Actor, activity_id: int) -> Code:
    """A fresh check-in/out code for the activity (the previous one stops working)."""
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        activity = await _organized(conn, actor, activity_id)
        if activity.status != "published":
            raise Conflict("not running", current=activity.status)
        opens, closes = rules.checkin_window(activity.starts_at, activity.ends_at)
        if not opens <= now < closes:
            raise InvalidInput("checkin.error.window")
        code = rules.new_code()
        while await store.code_in_use(conn, code, now):
            code = rules.new_code()
        expires = now + dt.timedelta(minutes=env.settings.checkin_code_minutes)
        await store.set_code(conn, activity.id, code, expires)
        await store.record_event(conn, activity.id, "code", actor_id=person, now=now)
    return Code(activity, code, expires)


async def needs_location(env: Env, code: str) -> bool:
    """Whether using this code asks for the person's location (the organizer gave the place's location)."""
    async with env.db.read() as conn:
        activity = await store.activity_by_code(conn, code.strip())
    return activity is not None and activity.location is not None


async def use_code(env: Env, actor: Actor, code: str, here: tuple[float, float] | None) -> CodeUsed:
    """Check in (first use) or out (second use) with a code the organizer shows."""
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        activity = await store.activity_by_code(conn, code.strip())
        if activity is None:
            raise InvalidInput("checkin.error.unknown")
        if activity.code_expires_at is None or activity.code_expires_at <= now:
            raise InvalidInput("checkin.error.expired")
        if activity.location is not None:
            if here is None:
                raise InvalidInput("checkin.error.location_needed")
            if not rules.within_radius(activity.location, here, env.settings.checkin_radius_m):
                raise TooFar(rules.distance_m(activity.location, here), env.settings.checkin_radius_m)
        signup = await store.find_signup(conn, activity.id, person)
        if signup is None or signup.status == "cancelled":
            raise InvalidInput("checkin.error.not_signed_up")
        if signup.checked_in_at is None:
            await store.check_in(conn, signup.id, now)
            await store.record_event(conn, activity.id, "checked_in", actor_id=person, subject_id=person, now=now)
            return CodeUsed(activity, "checked_in")
        # A second scan soon after the first, or before the activity has even started, is not a check-out.
        if signup.checked_out_at is None and now < max(signup.checked_in_at + rules.MIN_STAY, activity.starts_at):
            return CodeUsed(activity, "already_in")
        if signup.checked_out_at is None:
            # Hours count from the start: arriving early (the window opens two hours before) adds none; and to the
            # planned end (plus a coordinator's extension): staying on, or leaving the check-out for later, adds none.
            counted_from = max(signup.checked_in_at, activity.starts_at)
            until = min(now, activity.counts_until)
            hours = rules.rounded_hours(counted_from, until, env.settings.checkin_round_minutes)
            await store.check_out(conn, signup.id, now, hours)
            await store.record_event(
                conn, activity.id, "checked_out", actor_id=person, subject_id=person, now=now, note=str(hours)
            )
            return CodeUsed(activity, "checked_out", hours)
        return CodeUsed(activity, "done", signup.hours)


class TooFar(InvalidInput):
    """The location shared is outside the radius of the place."""

    def __init__(self, metres: int, radius: int) -> None:
        super().__init__("checkin.error.too_far")
        self.metres = metres
        self.radius = radius


# -- the organizer confirms hours --------------------------------------------------------------------------------


async def roster(env: Env, actor: Actor, activity_id: int) -> Roster:
    """The organizer's list: everyone signed up or waiting, with check-in, hours and no-shows."""
    async with env.db.read() as conn:
        activity = await _organized(conn, actor, activity_id)
        return Roster(activity, await store.signups_of(conn, activity_id))


async def adjust(env: Env, actor: Actor, signup_id: int, step: str) -> Roster:
    """The organizer corrects one person's hours by half an hour (before confirming)."""
    return await _correct(env, actor, signup_id, step=step)


async def toggle_no_show(env: Env, actor: Actor, signup_id: int) -> Roster:
    """The organizer marks one person as not having come (or undoes it)."""
    return await _correct(env, actor, signup_id, step=None)


async def _correct(env: Env, actor: Actor, signup_id: int, *, step: str | None) -> Roster:
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        signup = await store.get_signup(conn, signup_id)
        activity = await _organized(conn, actor, signup.activity_id)
        if signup.user_id == person:
            raise InvalidInput("roster.own_hours")  # another organizer or a coordinator corrects them
        if activity.status not in ("published", "held") or signup.confirmed_at is not None:
            raise Conflict("confirmed", current=activity.status)
        if step is None:
            no_show = not signup.no_show
            await store.set_hours(conn, signup.id, hours=None if no_show else signup.hours, no_show=no_show, now=now)
            kind, note = "no_show" if no_show else "came", None
        else:
            if signup.checked_in_at is None:
                # Hours without a check-in are entered after the fact, with a reason (`record_hours`).
                raise InvalidInput("roster.no_checkin")
            counted_from = max(signup.checked_in_at, activity.starts_at)
            cap = rules.rounded_hours(counted_from, activity.counts_until, env.settings.checkin_round_minutes)
            hours = rules.adjusted_hours(signup.hours, step, cap)
            if step == "up" and hours <= (signup.hours or 0):
                raise InvalidInput("roster.at_end")  # past the planned end only by a coordinator's extension
            await store.set_hours(conn, signup.id, hours=hours, no_show=False, now=now)
            kind, note = "hours_corrected", str(hours)
        await store.record_event(
            conn, activity.id, kind, actor_id=person, subject_id=signup.user_id, now=now, note=note
        )
        return Roster(activity, await store.signups_of(conn, activity.id))


async def confirm(env: Env, actor: Actor, activity_id: int) -> Roster:
    """Confirm everyone's hours but the confirmer's own (another organizer or a coordinator confirms those, with
    this same button later): the activity is held; participants are told and invited to send photos."""
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        activity = await _organized(conn, actor, activity_id)
        if activity.starts_at > now:
            raise Conflict("not started", current="upcoming")
        if activity.status not in ("published", "held"):
            raise Conflict("confirmed", current=activity.status)
        before = {s.id for s in await store.signups_of(conn, activity.id) if s.confirmed_at is not None}
        if not await store.confirm_all(conn, activity.id, by=person, now=now) and activity.status == "held":
            raise Conflict("confirmed", current=activity.status)
        await store.set_status(conn, activity.id, from_status="published", to_status="held", now=now)
        await store.record_event(conn, activity.id, "confirmed", actor_id=person, now=now)
        await audit.record(
            conn, actor_id=person, action="activity.confirm", subject=activity_ref(activity.ref_no), now=now
        )
        people = await store.signups_of(conn, activity.id)
        ref = activity_ref(activity.ref_no)
        photos = ((Button("activity.button.photos", Act.ACTIVITY_PHOTOS, activity.id),),)
        for signup in people:
            if signup.status != "signed_up" or signup.no_show or signup.id in before or signup.confirmed_at is None:
                continue
            await notices.queue(
                conn,
                signup.user_id,
                Notice(
                    "activity.hours_confirmed",
                    {"ref": ref, "title": activity.title, "hours": f"{signup.hours or 0:g}"},
                    buttons=photos,
                ),
                now=now,
                dedupe_key=f"activity:confirmed:{activity.id}:{signup.user_id}",
            )
        await notices.queue(
            conn,
            person,
            Notice("activity.photos_invite", {"ref": ref, "title": activity.title}, buttons=photos),
            now=now,
            dedupe_key=f"activity:photos:{activity.id}:{person}",
        )
        activity = await store.get_activity(conn, activity.id)
    env.wake()
    return Roster(activity, people)


async def record_hours(env: Env, actor: Actor, activity_id: int, person_id: int, hours: float, reason: str) -> Roster:
    """补录: hours entered after the fact for someone signed up with no check-in record (they forgot, or their phone
    died), with a reason; at most the activity's planned length (plus an extension). Never one's own. Event and
    audit carry the reason."""
    by = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        activity = await _organized(conn, actor, activity_id)
        if person_id == by:
            raise InvalidInput("roster.own_hours")
        signup = await store.find_signup(conn, activity.id, person_id)
        if signup is None or signup.status != "signed_up":
            raise InvalidInput("activity.addhours_not_signed_up")
        if signup.confirmed_at is not None or activity.status not in ("published", "held"):
            raise Conflict("confirmed", current=activity.status)
        if signup.checked_in_at is not None:
            raise InvalidInput("activity.addhours_checked_in")
        if activity.starts_at > now:
            raise Conflict("not started", current="upcoming")
        planned = (activity.duration_minutes + activity.extended_minutes) / 60
        hours = min(hours, planned)
        await store.set_hours(conn, signup.id, hours=hours, no_show=False, now=now)
        note = f"{hours:g}: {reason}"
        await store.record_event(
            conn, activity.id, "hours_recorded", actor_id=by, subject_id=person_id, now=now, note=note
        )
        await audit.record(
            conn,
            actor_id=by,
            action="activity.hours_recorded",
            subject=activity_ref(activity.ref_no),
            now=now,
            detail=f"{person_ref(person_id)} {note}",
        )
        return Roster(activity, await store.signups_of(conn, activity.id))


async def extend(env: Env, actor: Actor, activity_id: int, minutes: int, reason: str) -> Activity:
    """A coordinator lets hours count `minutes` past the planned end, for `reason` (event, audit)."""
    by = _person(actor)
    if not rules.is_coordinator(actor.roles):
        raise NotAllowed("only coordinators extend activities")
    now = env.now()
    async with env.db.write() as conn:
        activity = await store.get_activity(conn, activity_id)
        if activity.status == "cancelled":
            raise Conflict("cancelled", current=activity.status)
        await store.extend(conn, activity.id, minutes, reason, now)
        note = f"{minutes / 60:g}: {reason}"
        await store.record_event(conn, activity.id, "extended", actor_id=by, now=now, note=note)
        await audit.record(
            conn, actor_id=by, action="activity.extend", subject=activity_ref(activity.ref_no), now=now, detail=note
        )
        return await store.get_activity(conn, activity.id)


# -- photos to the newsroom --------------------------------------------------------------------------------------


async def may_send_photos(env: Env, actor: Actor, activity_id: int) -> Activity:
    """The activity, if the person took part in it (or organized it) and it was held."""
    person = _person(actor)
    async with env.db.read() as conn:
        activity = await store.get_activity(conn, activity_id)
        signup = await store.find_signup(conn, activity_id, person)
    took_part = signup is not None and signup.checked_in_at is not None
    if not (took_part or activity.organizer_id == person or rules.is_coordinator(actor.roles)):
        raise NotAllowed("only participants send photos")
    return activity


async def share_photos(env: Env, actor: Actor, activity_id: int, photos: Sequence[MediaItem]) -> Tip:
    """With the sender's consent, add their photos to the activity's one newsroom lead (created on first use)."""
    person = _person(actor)
    if not photos:
        raise InvalidInput("activity.photos.none")
    activity = await may_send_photos(env, actor, activity_id)
    now = env.now()
    ref = activity_ref(activity.ref_no)
    async with env.db.write() as conn:
        tip_id = await store.tip_of_activity(conn, activity.id)
        if tip_id is None:
            tip = await tip_store.insert_tip(
                conn,
                reporter_id=person,
                by_reporter=Role.REPORTER in actor.roles,
                status=TipStatus.NEW,
                category=LEAD_CATEGORY,
                description=f"{ref} {activity.title} · {activity.place}",
                location=activity.location,
                media=list(photos),
                now=now,
            )
            for editor in await editor_ids(conn, env):
                await notices.queue(
                    conn,
                    editor,
                    Notice(
                        "review.activity_lead",
                        {"reference": tip_reference(tip.id), "ref": ref, "title": activity.title},
                    ),
                    now=now,
                    dedupe_key=f"tip:new:{tip.id}:{editor}",
                    condition=[notices.tip_in(tip.id, TipStatus.NEW), notices.holds_role(Role.EDITOR, Role.ADMIN)],
                )
        else:
            await tip_store.add_media(conn, tip_id, list(photos), now)
            tip = await tip_store.get_tip(conn, tip_id)
        await store.link_tip_media(conn, activity.id, person, tip.id, now)
        await store.record_event(conn, activity.id, "photos", actor_id=person, subject_id=tip.id, now=now)
    env.wake()
    return tip


async def find_by_ref(env: Env, ref_no: int) -> Activity:
    """The activity A-<ref_no>; `NotFound` otherwise."""
    async with env.db.read() as conn:
        return await store.get_activity_by_ref(conn, ref_no)


@dataclass(frozen=True, slots=True)
class CentreFigures:
    """What the centre reports of its activities in a period, next to the wishes' self-reported hours."""

    projects: int
    activities_held: int
    participants: int
    verified_hours: float
    self_reported_hours: float

    def values(self) -> dict[str, str | int]:
        """As notice values (the `activity.figures` line)."""
        return {
            "projects": self.projects,
            "held": self.activities_held,
            "people": self.participants,
            "verified": f"{self.verified_hours:g}",
            "self_reported": f"{self.self_reported_hours:g}",
        }


async def centre_figures(conn: AsyncConnection, since: dt.datetime | None, until: dt.datetime) -> CentreFigures:
    """Projects run, activities held, participants, verified vs self-reported hours in [since, until)."""
    held = await store.activity_figures(conn, since, until)
    reported = await store.self_reported_hours(conn, since, until)
    return CentreFigures(held.projects, held.activities_held, held.participants, held.verified_hours, reported)


async def figures_for(env: Env, since: dt.datetime | None) -> CentreFigures:
    """/stats: the centre's activity figures since `since` (None: all time)."""
    async with env.db.read() as conn:
        return await centre_figures(conn, since, env.now())
