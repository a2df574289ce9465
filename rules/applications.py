"""The lifecycle of an application for the volunteer or reporter role.

    pending ──approve──▶ approved ──suspend──▶ suspended ──reinstate──▶ approved
       │
       └──reject──▶ rejected ──reapply──▶ pending

An invite link approves at once (`approve` straight from a new application).

Every change goes through `apply` or `transition`: they read the application inside the caller's
transaction, ask `next_status` whether the change is allowed, move it with
`storage.applications.move_application` (which updates only while the status is still the one read
and records the event), and grant or revoke the role. `register_volunteer` saves a volunteer's profile
and applies, with an invite when one is usable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from storage import applications as store
from storage import audit, invites, users
from storage import volunteers as profiles
from storage.applications import Application
from storage.errors import Conflict, LimitReached, NotFound
from storage.volunteers import Volunteer


class ApplicationStatus(StrEnum):
    """Where an application stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class ApplicationAction(StrEnum):
    """What a person or staff can do to an application."""

    APPLY = "apply"
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


_NEXT: dict[tuple[ApplicationStatus | None, ApplicationAction], ApplicationStatus] = {
    (None, ApplicationAction.APPLY): ApplicationStatus.PENDING,
    (ApplicationStatus.REJECTED, ApplicationAction.APPLY): ApplicationStatus.PENDING,
    (ApplicationStatus.PENDING, ApplicationAction.APPROVE): ApplicationStatus.APPROVED,
    (ApplicationStatus.PENDING, ApplicationAction.REJECT): ApplicationStatus.REJECTED,
    (ApplicationStatus.APPROVED, ApplicationAction.SUSPEND): ApplicationStatus.SUSPENDED,
    (ApplicationStatus.SUSPENDED, ApplicationAction.REINSTATE): ApplicationStatus.APPROVED,
}


def next_status(current: str | None, action: ApplicationAction) -> ApplicationStatus:
    """The status after `action`, or `Conflict` (carrying the current status) when it is not allowed."""
    try:
        return _NEXT[(ApplicationStatus(current) if current is not None else None, action)]
    except KeyError:
        raise Conflict(f"cannot {action} an application that is {current}", current=current) from None


def holds_role(status: str | None) -> bool:
    """Whether an application in this status gives its role."""
    return status == ApplicationStatus.APPROVED


async def apply(
    conn: AsyncConnection, *, user_id: int, role: str, now: dt.datetime, invite_code: str | None = None
) -> Application:
    """Submit (or resubmit after a rejection) an application; with an invite it is approved at once.

    `Conflict` when the person already has a pending or approved application for the role.
    """
    existing = await store.find_application(conn, user_id, role)
    status = next_status(existing.status if existing else None, ApplicationAction.APPLY)
    if existing is None:
        application = await store.insert_application(
            conn, user_id=user_id, role=role, status=status, now=now, invite_code=invite_code
        )
    else:
        application = await store.move_application(
            conn,
            existing.id,
            existing.status,
            status,
            actor_id=user_id,
            now=now,
            changes={"invite_code": invite_code},
        )
    if invite_code is not None:
        return await transition(
            conn, application.id, ApplicationAction.APPROVE, actor_id=None, now=now, note=f"invite {invite_code}"
        )
    return application


async def transition(
    conn: AsyncConnection,
    application_id: int,
    action: ApplicationAction,
    *,
    actor_id: int | None,
    now: dt.datetime,
    note: str | None = None,
) -> Application:
    """Apply a staff decision; `Conflict` (with the current status) if the application moved meanwhile."""
    current = await store.get_application(conn, application_id)
    target = next_status(current.status, action)
    moved = await store.move_application(
        conn, current.id, current.status, target, actor_id=actor_id, now=now, note=note
    )
    if holds_role(target):
        await users.grant_role(conn, current.user_id, current.role, granted_by=actor_id, now=now)
    else:
        await users.revoke_role(conn, current.user_id, current.role)
    return moved


@dataclass(frozen=True, slots=True)
class Registration:
    """What registering did: the profile, and where the volunteer application now stands."""

    volunteer: Volunteer
    status: str  # approved (now or before), pending, or suspended; a rejected person applies again
    newly_approved: bool
    invite_used: bool


async def register_volunteer(
    conn: AsyncConnection,
    *,
    user_id: int,
    name: str,
    phone: str | None,
    skills: Iterable[str],
    area: str | None,
    location: tuple[float, float] | None,
    invite_code: str | None,
    now: dt.datetime,
) -> Registration:
    """Save the profile and apply for the volunteer role, all in the caller's transaction.

    With a usable invite the application is approved at once; an invite that expired or ran out
    meanwhile is ignored and the application waits for a coordinator. Someone already approved
    (or pending) just updates their profile.
    """
    volunteer = await profiles.save_volunteer(
        conn, user_id=user_id, name=name, phone=phone, skills=skills, area=area, location=location, now=now
    )
    if phone:
        await users.set_phone(conn, user_id, phone)
    existing = await store.find_application(conn, user_id, "volunteer")
    if existing is not None and existing.status != ApplicationStatus.REJECTED:
        return Registration(volunteer, existing.status, newly_approved=False, invite_used=False)
    used: str | None = None
    if invite_code is not None:
        try:
            invite = await invites.use_invite(conn, invite_code, "volunteer", now)
        except (NotFound, LimitReached):
            invite = None
        if invite is not None:
            await audit.record(conn, actor_id=user_id, action="invite.use", subject=f"volunteer:{invite_code}", now=now)
            # A "needs review" invite only lets the person apply: a coordinator still decides.
            used = None if invite.needs_review else invite_code
    application = await apply(conn, user_id=user_id, role="volunteer", now=now, invite_code=used)
    approved = application.status == ApplicationStatus.APPROVED
    return Registration(volunteer, application.status, newly_approved=approved, invite_used=used is not None)
