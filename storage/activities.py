"""Activities and the people on them: sign-ups (signed_up | waitlisted | cancelled), the short-lived check-in
code, check-in/out times, hours, no-shows, the organizer's confirmation, and every event on the way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import NotFound
from storage.schema import (
    activities,
    activity_events,
    activity_photos,
    signups,
    tip_media,
    user_roles,
    users,
    volunteer_skills,
    volunteers,
)
from storage.stats import confirmed_hours
from storage.wishes import next_reference


@dataclass(frozen=True, slots=True)
class Activity:
    """A dated activity of a project."""

    id: int
    ref_no: int
    project_id: int
    team_id: int | None
    organizer_id: int | None
    title: str
    starts_at: dt.datetime
    duration_minutes: int
    place: str
    area: str | None
    latitude: float | None
    longitude: float | None
    headcount: int
    skills: tuple[str, ...]
    notes: str
    status: str
    code: str | None
    code_expires_at: dt.datetime | None
    extended_minutes: int = 0
    extension_reason: str | None = None

    @property
    def location(self) -> tuple[float, float] | None:
        """Where it takes place, when the organizer gave a location."""
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)

    @property
    def ends_at(self) -> dt.datetime:
        """When it is planned to end."""
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    @property
    def counts_until(self) -> dt.datetime:
        """The latest moment hours count to: the planned end, plus a coordinator's extension."""
        return self.ends_at + dt.timedelta(minutes=self.extended_minutes)


@dataclass(frozen=True, slots=True)
class Signup:
    """One person on one activity."""

    id: int
    activity_id: int
    user_id: int
    status: str
    created_at: dt.datetime
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    hours: float | None
    no_show: bool
    confirmed_at: dt.datetime | None
    name: str = ""


@dataclass(frozen=True, slots=True)
class NewActivity:
    """What an organizer fills in."""

    project_id: int
    team_id: int | None
    title: str
    starts_at: dt.datetime
    duration_minutes: int
    place: str
    location: tuple[float, float] | None
    headcount: int
    skills: tuple[str, ...]
    notes: str
    area: str | None = None


def _activity(row: Any) -> Activity:
    m = row._mapping
    return Activity(
        **{name: m[name] for name in Activity.__slots__ if name != "skills"}, skills=tuple(m["skills"] or ())
    )


def _signup(row: Any) -> Signup:
    m = row._mapping
    return Signup(
        m["id"],
        m["activity_id"],
        m["user_id"],
        m["status"],
        m["created_at"],
        m["checked_in_at"],
        m["checked_out_at"],
        m["hours"],
        bool(m["no_show"]),
        m["confirmed_at"],
        m.get("name") or "",
    )


async def insert_activity(conn: AsyncConnection, new: NewActivity, *, organizer_id: int, now: dt.datetime) -> Activity:
    """Store a new published activity with the next A-number."""
    ref_no = await next_reference(conn, "activity")
    values = {
        "ref_no": ref_no,
        "project_id": new.project_id,
        "team_id": new.team_id,
        "organizer_id": organizer_id,
        "title": new.title,
        "starts_at": new.starts_at,
        "duration_minutes": new.duration_minutes,
        "place": new.place,
        "area": new.area,
        "latitude": new.location[0] if new.location else None,
        "longitude": new.location[1] if new.location else None,
        "headcount": new.headcount,
        "skills": list(new.skills),
        "notes": new.notes,
        "status": "published",
        "created_at": now,
        "updated_at": now,
    }
    activity_id = (await conn.execute(insert(activities).values(**values).returning(activities.c.id))).scalar_one()
    return await get_activity(conn, activity_id)


async def get_activity(conn: AsyncConnection, activity_id: int) -> Activity:
    """The activity; `NotFound` otherwise."""
    row = (await conn.execute(select(activities).where(activities.c.id == activity_id))).first()
    if row is None:
        raise NotFound(f"activity {activity_id}")
    return _activity(row)


async def get_activity_by_ref(conn: AsyncConnection, ref_no: int) -> Activity:
    """The activity numbered A-<ref_no>; `NotFound` otherwise."""
    row = (await conn.execute(select(activities).where(activities.c.ref_no == ref_no))).first()
    if row is None:
        raise NotFound(f"activity A-{ref_no}")
    return _activity(row)


async def upcoming(conn: AsyncConnection, now: dt.datetime, *, limit: int = 10) -> list[Activity]:
    """Published activities that have not ended, soonest first."""
    rows = await conn.execute(
        select(activities)
        .where(activities.c.status == "published", activities.c.starts_at > now - dt.timedelta(hours=12))
        .order_by(activities.c.starts_at, activities.c.id)
        .limit(limit * 3)
    )
    found = [_activity(row) for row in rows]
    return [activity for activity in found if activity.ends_at > now][:limit]


async def organized_around(
    conn: AsyncConnection, organizer_id: int, *, since: dt.datetime, until: dt.datetime
) -> list[Activity]:
    """The organizer's published activities starting in [since, until), soonest first."""
    rows = await conn.execute(
        select(activities)
        .where(
            activities.c.organizer_id == organizer_id,
            activities.c.status == "published",
            activities.c.starts_at >= since,
            activities.c.starts_at < until,
        )
        .order_by(activities.c.starts_at)
        .limit(10)
    )
    return [_activity(row) for row in rows]


async def starting_between(conn: AsyncConnection, since: dt.datetime, until: dt.datetime) -> list[Activity]:
    """Published activities starting in [since, until) (the sweep's reminders)."""
    rows = await conn.execute(
        select(activities)
        .where(activities.c.status == "published", activities.c.starts_at >= since, activities.c.starts_at < until)
        .order_by(activities.c.starts_at)
        .limit(1000)
    )
    return [_activity(row) for row in rows]


async def set_code(conn: AsyncConnection, activity_id: int, code: str, expires_at: dt.datetime) -> None:
    """Give the activity a new check-in code (the old one stops working)."""
    await conn.execute(
        update(activities).where(activities.c.id == activity_id).values(code=code, code_expires_at=expires_at)
    )


async def activity_by_code(conn: AsyncConnection, code: str) -> Activity | None:
    """The published activity whose latest code is `code` (expired or not; the caller decides)."""
    row = (
        await conn.execute(
            select(activities)
            .where(activities.c.code == code, activities.c.status == "published")
            .order_by(activities.c.code_expires_at.desc())
            .limit(1)
        )
    ).first()
    return _activity(row) if row is not None else None


async def code_in_use(conn: AsyncConnection, code: str, now: dt.datetime) -> bool:
    """Whether another activity's code `code` still works."""
    found = await conn.execute(
        select(activities.c.id).where(activities.c.code == code, activities.c.code_expires_at > now).limit(1)
    )
    return found.first() is not None


async def set_status(
    conn: AsyncConnection, activity_id: int, *, from_status: str, to_status: str, now: dt.datetime
) -> bool:
    """Compare-and-set the activity's status; False if it was not `from_status`."""
    updated = await conn.execute(
        update(activities)
        .where(activities.c.id == activity_id, activities.c.status == from_status)
        .values(status=to_status, updated_at=now)
    )
    return updated.rowcount == 1


async def move(
    conn: AsyncConnection, activity_id: int, *, starts_at: dt.datetime, place: str, now: dt.datetime
) -> bool:
    """Change a published activity's time and place (the organizer's edit); False if it is no longer published."""
    updated = await conn.execute(
        update(activities)
        .where(activities.c.id == activity_id, activities.c.status == "published")
        .values(starts_at=starts_at, place=place, updated_at=now)
    )
    return updated.rowcount == 1


async def record_event(
    conn: AsyncConnection,
    activity_id: int,
    kind: str,
    *,
    actor_id: int | None,
    now: dt.datetime,
    subject_id: int | None = None,
    note: str | None = None,
) -> None:
    """Append one event to the activity's history."""
    await conn.execute(
        insert(activity_events).values(
            activity_id=activity_id, at=now, actor_id=actor_id, kind=kind, subject_id=subject_id, note=note
        )
    )


async def event_kinds(conn: AsyncConnection, activity_id: int) -> list[str]:
    """The kinds of the activity's events, in order."""
    rows = await conn.execute(
        select(activity_events.c.kind)
        .where(activity_events.c.activity_id == activity_id)
        .order_by(activity_events.c.id)
    )
    return [str(kind) for kind in rows.scalars()]


_SIGNUP_WITH_NAME = select(signups, func.coalesce(volunteers.c.name, users.c.first_name).label("name")).select_from(
    signups.join(users, users.c.id == signups.c.user_id).outerjoin(
        volunteers, volunteers.c.user_id == signups.c.user_id
    )
)


async def signups_of(conn: AsyncConnection, activity_id: int, *, with_cancelled: bool = False) -> list[Signup]:
    """Everyone on the activity: signed up first (in the order they came), then the waitlist."""
    query = _SIGNUP_WITH_NAME.where(signups.c.activity_id == activity_id).order_by(signups.c.created_at, signups.c.id)
    if not with_cancelled:
        query = query.where(signups.c.status != "cancelled")
    found = [_signup(row) for row in await conn.execute(query)]
    return sorted(found, key=lambda s: s.status != "signed_up")


async def find_signup(conn: AsyncConnection, activity_id: int, user_id: int) -> Signup | None:
    """The person's sign-up for the activity (any status)."""
    row = (
        await conn.execute(_SIGNUP_WITH_NAME.where(signups.c.activity_id == activity_id, signups.c.user_id == user_id))
    ).first()
    return _signup(row) if row is not None else None


async def get_signup(conn: AsyncConnection, signup_id: int) -> Signup:
    """The sign-up; `NotFound` otherwise."""
    row = (await conn.execute(_SIGNUP_WITH_NAME.where(signups.c.id == signup_id))).first()
    if row is None:
        raise NotFound(f"signup {signup_id}")
    return _signup(row)


async def count_signed_up(conn: AsyncConnection, activity_id: int) -> int:
    """How many hold a place (not the waitlist)."""
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(signups)
                .where(signups.c.activity_id == activity_id, signups.c.status == "signed_up")
            )
        ).scalar_one()
    )


async def lock_activity(conn: AsyncConnection, activity_id: int, now: dt.datetime) -> None:
    """Serialize sign-ups of one activity: touching its row makes concurrent transactions queue (PostgreSQL
    row lock; SQLite writes are serialized anyway), so two people cannot take the last place."""
    await conn.execute(update(activities).where(activities.c.id == activity_id).values(updated_at=now))


async def put_signup(conn: AsyncConnection, activity_id: int, user_id: int, status: str, now: dt.datetime) -> None:
    """Sign the person up (or back up after a cancellation) with this status, at the end of the queue."""
    updated = await conn.execute(
        update(signups)
        .where(signups.c.activity_id == activity_id, signups.c.user_id == user_id)
        .values(status=status, created_at=now, updated_at=now)
    )
    if updated.rowcount == 0:
        await conn.execute(
            insert(signups).values(
                activity_id=activity_id, user_id=user_id, status=status, created_at=now, updated_at=now
            )
        )


async def move_signup(
    conn: AsyncConnection, signup_id: int, *, from_status: str, to_status: str, now: dt.datetime
) -> bool:
    """Compare-and-set a sign-up's status; False if it was not `from_status`."""
    updated = await conn.execute(
        update(signups)
        .where(signups.c.id == signup_id, signups.c.status == from_status)
        .values(status=to_status, updated_at=now)
    )
    return updated.rowcount == 1


async def first_waiting(conn: AsyncConnection, activity_id: int) -> Signup | None:
    """The first person on the waitlist."""
    row = (
        await conn.execute(
            _SIGNUP_WITH_NAME.where(signups.c.activity_id == activity_id, signups.c.status == "waitlisted")
            .order_by(signups.c.created_at, signups.c.id)
            .limit(1)
        )
    ).first()
    return _signup(row) if row is not None else None


async def check_in(conn: AsyncConnection, signup_id: int, now: dt.datetime) -> bool:
    """Record the check-in once (a waitlisted person who came takes a place); False if already checked in."""
    updated = await conn.execute(
        update(signups)
        .where(signups.c.id == signup_id, signups.c.checked_in_at.is_(None))
        .values(checked_in_at=now, status="signed_up", no_show=False, updated_at=now)
    )
    return updated.rowcount == 1


async def check_out(conn: AsyncConnection, signup_id: int, now: dt.datetime, hours: float) -> bool:
    """Record the check-out and its hours once; False if not checked in or already out."""
    updated = await conn.execute(
        update(signups)
        .where(signups.c.id == signup_id, signups.c.checked_in_at.is_not(None), signups.c.checked_out_at.is_(None))
        .values(checked_out_at=now, hours=hours, updated_at=now)
    )
    return updated.rowcount == 1


async def set_hours(
    conn: AsyncConnection, signup_id: int, *, hours: float | None, no_show: bool, now: dt.datetime
) -> None:
    """The organizer's correction of one person's hours (or no-show), before confirming."""
    await conn.execute(
        update(signups).where(signups.c.id == signup_id).values(hours=hours, no_show=no_show, updated_at=now)
    )


async def confirm_all(conn: AsyncConnection, activity_id: int, *, by: int, now: dt.datetime) -> int:
    """Confirm every place not confirmed yet but the confirmer's own (nobody confirms their own hours): people who
    never checked in and have no hours become no-shows. How many were confirmed."""
    base = and_(
        signups.c.activity_id == activity_id,
        signups.c.status == "signed_up",
        signups.c.confirmed_at.is_(None),
        signups.c.user_id != by,
    )
    await conn.execute(
        update(signups)
        .where(base, signups.c.checked_in_at.is_(None), or_(signups.c.hours.is_(None), signups.c.hours <= 0))
        .values(no_show=True, hours=None)
    )
    result = await conn.execute(update(signups).where(base).values(confirmed_at=now, confirmed_by=by, updated_at=now))
    return int(result.rowcount)


async def extend(conn: AsyncConnection, activity_id: int, minutes: int, reason: str, now: dt.datetime) -> None:
    """Let hours count `minutes` past the planned end, for `reason`."""
    await conn.execute(
        update(activities)
        .where(activities.c.id == activity_id)
        .values(extended_minutes=minutes, extension_reason=reason, updated_at=now)
    )


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One confirmed service on a certificate: an activity or a wish."""

    day: dt.datetime
    what: str
    ref: str
    hours: float
    # Checked in and out and confirmed by an organizer (an activity), or the volunteer's own figure (a wish).
    verified: bool = True


async def confirmed_activity_hours(
    conn: AsyncConnection, user_id: int, *, since: dt.datetime, until: dt.datetime
) -> list[ServiceLine]:
    """The person's confirmed activity hours in [since, until)."""
    rows = await conn.execute(
        select(activities.c.starts_at, activities.c.title, activities.c.ref_no, signups.c.hours)
        .select_from(signups.join(activities, activities.c.id == signups.c.activity_id))
        .where(
            signups.c.user_id == user_id,
            signups.c.confirmed_at.is_not(None),
            signups.c.no_show.is_(False),
            signups.c.hours > 0,
            activities.c.starts_at >= since,
            activities.c.starts_at < until,
        )
        .order_by(activities.c.starts_at)
    )
    return [ServiceLine(row.starts_at, row.title, f"A-{row.ref_no:04d}", float(row.hours)) for row in rows]


async def tip_of_activity(conn: AsyncConnection, activity_id: int) -> int | None:
    """The newsroom lead this activity's photos went into, if any."""
    return (
        await conn.execute(
            select(activity_photos.c.tip_id)
            .where(activity_photos.c.activity_id == activity_id, activity_photos.c.tip_id.is_not(None))
            .limit(1)
        )
    ).scalar_one_or_none()


async def link_tip_media(conn: AsyncConnection, activity_id: int, user_id: int, tip_id: int, now: dt.datetime) -> int:
    """Record the tip's photos not yet linked as this person's photos of the activity; how many."""
    linked = select(activity_photos.c.media_id).where(activity_photos.c.tip_id == tip_id)
    rows = (
        await conn.execute(
            select(tip_media.c.media_id).where(tip_media.c.tip_id == tip_id, tip_media.c.media_id.not_in(linked))
        )
    ).scalars()
    values = [
        {"activity_id": activity_id, "user_id": user_id, "media_id": m, "tip_id": tip_id, "created_at": now}
        for m in rows
    ]
    if values:
        await conn.execute(insert(activity_photos), values)
    return len(values)


async def volunteers_for(conn: AsyncConnection, skills: tuple[str, ...], area: str | None = None) -> list[int]:
    """Approved volunteers with one of these skills (any, when none is asked) of this area (any, when none)."""
    query = (
        select(volunteers.c.user_id)
        .join(user_roles, (user_roles.c.user_id == volunteers.c.user_id) & (user_roles.c.role == "volunteer"))
        .order_by(volunteers.c.user_id)
    )
    if area is not None:
        query = query.where(volunteers.c.area == area)
    if skills:
        query = query.where(
            volunteers.c.user_id.in_(
                select(volunteer_skills.c.user_id).where(volunteer_skills.c.category.in_(list(skills)))
            )
        )
    return [int(i) for i in (await conn.execute(query)).scalars()]


@dataclass(frozen=True, slots=True)
class ActivityFigures:
    """What the centre reports of activities in a period."""

    projects: int
    activities_held: int
    participants: int
    verified_hours: float


async def activity_figures(conn: AsyncConnection, since: dt.datetime | None, until: dt.datetime) -> ActivityFigures:
    """Projects that ran activities, activities held (hours confirmed), distinct participants, verified hours."""
    held = activities.c.status == "held"
    window = [activities.c.starts_at < until]
    if since is not None:
        window.append(activities.c.starts_at >= since)
    projects_run, activities_held = (
        await conn.execute(
            select(func.count(func.distinct(activities.c.project_id)), func.count()).where(held, *window)
        )
    ).one()
    people, hours = (
        await conn.execute(
            select(func.count(func.distinct(signups.c.user_id)), func.coalesce(func.sum(signups.c.hours), 0))
            .select_from(signups.join(activities, activities.c.id == signups.c.activity_id))
            .where(held, *window, signups.c.confirmed_at.is_not(None), signups.c.no_show.is_(False))
        )
    ).one()
    return ActivityFigures(int(projects_run), int(activities_held), int(people), float(hours))


async def self_reported_hours(conn: AsyncConnection, since: dt.datetime | None, until: dt.datetime) -> float:
    """Hours volunteers reported themselves for wishes confirmed in [since, until) (no check-in behind them)."""
    hours, _tasks = await confirmed_hours(conn, since, until)
    return hours
