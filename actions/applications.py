"""Volunteer applications: registering (by /volunteer or a team invite link) and coordinators' decisions.

Effects, per action (each in one transaction; a refusal changes nothing):
  register_volunteer (the person): their volunteer profile is saved (and their phone, if given). Someone not yet
    applying (or rejected before) applies: with a usable invite link the application is approved at once (one
    use of the invite counted; the volunteer role granted; no one else told); otherwise it is pending and every
    coordinator gets a notice with a button to /pending, true while the application is still pending and the
    recipient still a coordinator. Someone pending, approved or suspended only updates the profile.
  approve_volunteer (coordinators): a pending application is approved; the volunteer role is granted; audit
    `volunteer.approve`; a notice to the person, true while the application stays approved.
  reject_volunteer (coordinators): a pending application is rejected with the reason the person will read;
    audit `application.reject`; a notice to the person with the reason, true while it stays rejected.
  pending_volunteer_application (coordinators, read only): the application a Reject button names, if it still
    waits for a decision (asked before the coordinator types a reason).

Refusals: `NotAllowed` (not a coordinator), `NotFound` (no such volunteer application), `Conflict` (already
decided; `current` names its status).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Notice
from actions.recipients import coordinator_ids
from rules import applications as lifecycle
from rules.applications import ApplicationAction, ApplicationStatus
from rules.roles import Role
from rules.wishes import Actor
from storage import applications, audit, users
from storage import volunteers as profiles
from storage.errors import Conflict, NotAllowed, NotFound

ROLE = "volunteer"


@dataclass(frozen=True, slots=True)
class VolunteerForm:
    """What a person entered in the registration conversation."""

    name: str
    phone: str | None
    skills: tuple[str, ...]
    area: str | None
    location: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class Registered:
    """What registering did: the profile, where the application stands, and the person as they are now."""

    volunteer: profiles.Volunteer
    status: str  # approved (now or before), pending, or suspended
    newly_approved: bool
    person: users.User


@dataclass(frozen=True, slots=True)
class Decided:
    """A coordinator's decision: the application as it is now, and its applicant."""

    application: applications.Application
    person: users.User


def review_notice(application_id: int, name: str) -> Notice:
    """A volunteer application waits for a decision: what coordinators are told."""
    return Notice(
        "pending.notice_new_volunteer",
        # The application's id: a channel with decision cards (WeCom) builds one from it.
        {"name": name, "application": application_id},
        ((Button("pending.button.open_pending", Act.PENDING_LIST),),),
    )


async def register_volunteer(env: Env, person_id: int, form: VolunteerForm, *, invite_code: str | None) -> Registered:
    """Save the profile and apply (approved at once with a usable invite); coordinators hear of a new application."""
    now = env.now()
    async with env.db.write() as conn:
        before = await applications.find_application(conn, person_id, ROLE)
        registration = await lifecycle.register_volunteer(
            conn,
            user_id=person_id,
            name=form.name,
            phone=form.phone,
            skills=form.skills,
            area=form.area,
            location=form.location,
            invite_code=invite_code,
            now=now,
        )
        application = await applications.find_application(conn, person_id, ROLE)
        opened = before is None or before.status == ApplicationStatus.REJECTED
        if opened and application is not None and application.status == ApplicationStatus.PENDING:
            await notices.queue_many(
                conn,
                await coordinator_ids(conn, env.settings.admin_ids),
                review_notice(application.id, registration.volunteer.name),
                now=now,
                # Each opening of the application is news (a rejected person may apply again).
                dedupe_prefix=f"volunteer-applied:{application.id}:{uuid.uuid4().hex}",
                condition=[
                    notices.application_in(application.id, ApplicationStatus.PENDING),
                    notices.holds_role(Role.COORDINATOR),
                ],
            )
        person = await users.get_user(conn, person_id)
    env.wake()
    return Registered(registration.volunteer, registration.status, registration.newly_approved, person)


def _coordinator(actor: Actor) -> int:
    """The acting coordinator's id, or `NotAllowed`."""
    if actor.user_id is None or not actor.is_coordinator:
        raise NotAllowed("deciding volunteer applications needs a coordinator")
    return actor.user_id


async def _volunteer_application(conn: AsyncConnection, application_id: int) -> applications.Application:
    """The volunteer application with this id (a reporter application's id is refused: editors decide those)."""
    application = await applications.get_application(conn, application_id)
    if application.role != ROLE:
        raise NotFound(f"volunteer application {application_id}")
    return application


async def pending_volunteer_application(env: Env, actor: Actor, application_id: int) -> applications.Application:
    """The application, if it still waits for a decision; `Conflict` when it was decided meanwhile."""
    _coordinator(actor)
    async with env.db.read() as conn:
        application = await _volunteer_application(conn, application_id)
    if application.status != ApplicationStatus.PENDING:
        raise Conflict("already decided", current=application.status)
    return application


async def approve_volunteer(env: Env, actor: Actor, application_id: int) -> Decided:
    """Approve a pending application: the person becomes a volunteer and is told."""
    actor_id = _coordinator(actor)
    now = env.now()
    async with env.db.write() as conn:
        await _volunteer_application(conn, application_id)
        application = await lifecycle.transition(
            conn, application_id, ApplicationAction.APPROVE, actor_id=actor_id, now=now
        )
        await audit.record(
            conn, actor_id=actor_id, action="volunteer.approve", subject=str(application.user_id), now=now
        )
        await notices.queue(
            conn,
            application.user_id,
            Notice("volunteer.notice_approved"),
            now=now,
            dedupe_key=f"volunteer-approved:{application.id}",  # approved once: it never waits again
            condition=[notices.application_in(application.id, ApplicationStatus.APPROVED)],
        )
        person = await users.get_user(conn, application.user_id)
    env.wake()
    return Decided(application, person)


async def reject_volunteer(env: Env, actor: Actor, application_id: int, reason: str) -> Decided:
    """Reject a pending application with a reason; the person reads it."""
    actor_id = _coordinator(actor)
    now = env.now()
    async with env.db.write() as conn:
        await _volunteer_application(conn, application_id)
        application = await lifecycle.transition(
            conn, application_id, ApplicationAction.REJECT, actor_id=actor_id, now=now, note=reason
        )
        await audit.record(
            conn,
            actor_id=actor_id,
            action="application.reject",
            subject=str(application.user_id),
            now=now,
            detail=reason,
        )
        await notices.queue(
            conn,
            application.user_id,
            Notice("volunteer.notice_rejected", {"reason": reason}),
            now=now,
            condition=[notices.application_in(application.id, ApplicationStatus.REJECTED)],
        )
        person = await users.get_user(conn, application.user_id)
    env.wake()
    return Decided(application, person)
