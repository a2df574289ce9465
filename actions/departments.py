"""Departments: coordinators create them and mint invite links; people join by invite.

Effects, per action:
  create_department (coordinators): the department with its categories and areas; audit `department.create`.
  mint_invite (coordinators): an invite link to join one department (`INVITE_VALIDITY`, `INVITE_USES` uses);
    audit `department.invite`.
  join (anyone with a working link): one use of the invite counted, the person made a member and given the
    `department` role; audit `department.join`; a notice to whoever minted the link.
  list_departments (staff and members, read only): every department with its member count.
Refusals: `NotAllowed`, `NotFound` (unknown department or link), `LimitReached` (link expired or used up),
`Conflict` (the name is taken).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from actions import notices
from actions.env import Env
from actions.messages import Notice
from rules.cases import DepartmentDraft
from rules.roles import Role
from rules.staff import COORDINATORS
from rules.wishes import Actor
from storage import audit, users
from storage import departments as store
from storage.departments import Department, DepartmentInvite
from storage.errors import NotAllowed

INVITE_VALIDITY = dt.timedelta(days=7)
INVITE_USES = 50


def _coordinator(actor: Actor) -> int:
    if actor.user_id is None or not actor.roles & COORDINATORS:
        raise NotAllowed(f"{actor.user_id} may not manage departments")
    return actor.user_id


async def create_department(env: Env, actor: Actor, draft: DepartmentDraft) -> Department:
    """A new department."""
    actor_id = _coordinator(actor)
    now = env.now()
    async with env.db.write() as conn:
        department = await store.create_department(
            conn, name=draft.name, categories=draft.categories, areas=draft.areas, created_by=actor_id, now=now
        )
        await audit.record(conn, actor_id=actor_id, action="department.create", subject=draft.name, now=now)
    return department


async def mint_invite(env: Env, actor: Actor, department_id: int) -> tuple[Department, DepartmentInvite]:
    """An invite link to join the department."""
    actor_id = _coordinator(actor)
    now = env.now()
    async with env.db.write() as conn:
        department = await store.get_department(conn, department_id)
        invite = await store.create_invite(
            conn,
            department_id=department_id,
            created_by=actor_id,
            now=now,
            valid_for=INVITE_VALIDITY,
            max_uses=INVITE_USES,
        )
        await audit.record(conn, actor_id=actor_id, action="department.invite", subject=department.name, now=now)
    return department, invite


@dataclass(frozen=True, slots=True)
class Joined:
    """Someone followed a department's invite link: the department, and whether they were new to it."""

    department: Department
    new: bool


async def join(env: Env, person_id: int, code: str) -> Joined:
    """Join the department of the invite `code`."""
    now = env.now()
    async with env.db.write() as conn:
        invite = await store.use_invite(conn, code, now)
        department = await store.get_department(conn, invite.department_id)
        new = await store.add_member(conn, department.id, person_id, now)
        await users.grant_role(conn, person_id, Role.DEPARTMENT.value, granted_by=None, now=now)
        await audit.record(conn, actor_id=person_id, action="department.join", subject=department.name, now=now)
        if new:
            minted_by = invite.created_by
            name = (await users.get_user(conn, person_id)).display_name
            if minted_by is not None and minted_by != person_id:
                await notices.queue(
                    conn,
                    minted_by,
                    Notice("department.member_joined", {"name": name, "department": department.name}),
                    now=now,
                    dedupe_key=f"department:joined:{department.id}:{person_id}",
                    about=[person_id],
                )
    env.wake()
    return Joined(department, new)


async def list_departments(env: Env, actor: Actor) -> list[tuple[Department, int]]:
    """Every department with its number of members (staff and members only)."""
    if actor.user_id is None or not actor.roles & (COORDINATORS | {Role.DEPARTMENT}):
        raise NotAllowed(f"{actor.user_id} may not list departments")
    async with env.db.read() as conn:
        counts = await store.member_counts(conn)
        return [(department, counts.get(department.id, 0)) for department in await store.all_departments(conn)]
