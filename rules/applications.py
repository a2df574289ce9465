"""The lifecycle of an application for the volunteer or reporter role.

    pending ──approve──▶ approved ──suspend──▶ suspended ──reinstate──▶ approved
       │
       └──reject──▶ rejected ──reapply──▶ pending

An invite link approves at once (`approve` straight from a new application).
"""

from __future__ import annotations

from enum import StrEnum

from storage.errors import Conflict


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


def next_status(current: ApplicationStatus | None, action: ApplicationAction) -> ApplicationStatus:
    """The status after `action`, or `Conflict` (carrying the current status) when it is not allowed."""
    try:
        return _NEXT[(current, action)]
    except KeyError:
        raise Conflict(f"cannot {action} an application that is {current}", current=current) from None


def holds_role(status: ApplicationStatus | None) -> bool:
    """Whether an application in this status gives its role."""
    return status is ApplicationStatus.APPROVED
