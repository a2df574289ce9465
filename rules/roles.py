"""Roles and what each may do. Plain data, no Telegram: checked on the server for every update and button."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    """A role a person can hold; one person may hold several. Everyone is a resident."""

    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    REPORTER = "reporter"
    COORDINATOR = "coordinator"
    EDITOR = "editor"
    MONITOR = "monitor"
    ADMIN = "admin"
    # A member of a government department that takes cases (which department: `department_members`).
    DEPARTMENT = "department"


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.EDITOR, Role.MONITOR, Role.ADMIN})
GRANTABLE_BY_ADMIN = frozenset({Role.COORDINATOR, Role.EDITOR, Role.MONITOR})


def effective_roles(stored: Iterable[str], telegram_id: int | None, admin_ids: Iterable[int]) -> frozenset[Role]:
    """The roles a person holds right now: resident, what was granted, and admin from the settings.

    `telegram_id` is the person's TELEGRAM user id (ADMIN_IDS are Telegram ids), never their person id; code
    that has only a person id gets it from `storage.people.telegram_id_of` (or compares the person id with
    `storage.people.admin_person_ids`). An admin can do everything a coordinator, editor and monitor can.
    """
    roles = {Role.RESIDENT}
    roles.update(Role(role) for role in stored if role in Role.__members__.values())
    if telegram_id is not None and telegram_id in set(admin_ids):
        roles.add(Role.ADMIN)
        roles.update(GRANTABLE_BY_ADMIN)
    return frozenset(roles)


def is_staff(roles: Iterable[Role]) -> bool:
    """Whether the person holds any staff role."""
    return any(role in STAFF_ROLES for role in roles)


def allowed(roles: Iterable[Role], needed: Iterable[Role]) -> bool:
    """True when the person holds at least one of the roles an action needs."""
    needed = frozenset(needed)
    return not needed or any(role in needed for role in roles)
