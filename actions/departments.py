"""Departments: coordinators create them and mint invite links; people join by invite.

Effects, per action:
  create_department (coordinators): the department with its categories and areas; audit `department.create`.
  mint_invite (coordinators): an invite link to join one department (`INVITE_VALIDITY`, `INVITE_USES` uses);
    audit `department.invite`.
  join (anyone with a working link): one use of the invite counted and a request made (pending), which the
    coordinators hear of with 批准 / 拒绝 buttons; audit `department.request`. A link admits nobody by itself: a
    department member sees residents' cases, phones included.
  decide_request (coordinators): approved → the person a member with the `department` role, or rejected; the
    person told either way; audit `department.approve` / `department.reject`. Once per request.
  remove_member (coordinators; `/revoke department`, the members list's remove button): the person out of the
    department (the role goes with their last department); every case card of that department they were shown,
    sent or replied, is edited to say it no longer applies (its buttons gone); the cases they had acknowledged
    and not finished go back to `sent` and to the other members (`cases.release_held`, audit `case.release`); the
    person told; audit `department.remove`. Their case buttons are refused from then on (cases check membership).
  members (coordinators, read only): a department's members.
  list_departments (staff and members, read only): every department with its member count.
  named, numbered (coordinators, read only): one department, by name or by the id a button carries.
  open_cases_overview (coordinators, read only): every department's open cases, overdue first (`/cases`).
Refusals: `NotAllowed`, `NotFound` (unknown department, link or request), `LimitReached` (link expired or used
up), `Conflict` (the name is taken; a request decided already).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import cases, notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Notice
from actions.recipients import coordinator_ids
from rules.cases import DepartmentDraft, missed_deadline
from rules.roles import Role
from rules.staff import COORDINATORS, person_ref
from rules.wishes import Actor
from storage import audit, outbox, users
from storage import cases as case_store
from storage import departments as store
from storage.departments import Department, DepartmentInvite
from storage.errors import Conflict, NotAllowed, NotFound
from storage.users import User

INVITE_VALIDITY = dt.timedelta(days=7)
INVITE_USES = 50
OVERVIEW_MAX = 500  # open cases read for the coordinators' overview of /cases


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
    """Someone followed a department's invite link: the department, and whether they are a member already (else
    their request waits for a coordinator)."""

    department: Department
    member: bool


async def join(env: Env, person_id: int, code: str) -> Joined:
    """Ask to join the department of the invite `code` (a coordinator decides)."""
    now = env.now()
    async with env.db.write() as conn:
        invite = await store.use_invite(conn, code, now)
        department = await store.get_department(conn, invite.department_id)
        if await store.is_member(conn, department.id, person_id):
            return Joined(department, member=True)
        request_id = await store.request_to_join(conn, department.id, person_id, code, now)
        await audit.record(conn, actor_id=person_id, action="department.request", subject=department.name, now=now)
        name = (await users.get_user(conn, person_id)).display_name
        await notices.queue_many(
            conn,
            [p for p in await coordinator_ids(conn, env.settings.admin_ids) if p != person_id],
            Notice(
                "department.request",
                {"name": name, "person": person_ref(person_id), "department": department.name},
                (
                    (
                        Button("department.button.approve", Act.DEPARTMENT_APPROVE, request_id),
                        Button("department.button.reject", Act.DEPARTMENT_REJECT, request_id),
                    ),
                ),
            ),
            now=now,
            lane="urgent",
            dedupe_prefix=f"department:request:{request_id}",
            about=[person_id],
        )
    env.wake()
    return Joined(department, member=False)


@dataclass(frozen=True, slots=True)
class Decided:
    """A coordinator's decision on a request to join: the department, the person, and whether approved."""

    department: Department
    person: User
    approved: bool


async def decide_request(env: Env, actor: Actor, request_id: int, *, approve: bool) -> Decided:
    """Approve (a member, with the role) or reject a request to join; `Conflict` if it was decided before."""
    actor_id = _coordinator(actor)
    now = env.now()
    async with env.db.write() as conn:
        request = await store.get_request(conn, request_id)
        if not await store.decide_request(
            conn, request_id, "approved" if approve else "rejected", by=actor_id, now=now
        ):
            raise Conflict("decided", current=request.status)
        department = await store.get_department(conn, request.department_id)
        if approve:
            await store.add_member(conn, department.id, request.user_id, now)
            await users.grant_role(conn, request.user_id, Role.DEPARTMENT.value, granted_by=actor_id, now=now)
        action = "department.approve" if approve else "department.reject"
        subject = f"{department.name}:{person_ref(request.user_id)}"
        await audit.record(conn, actor_id=actor_id, action=action, subject=subject, now=now)
        await notices.queue(
            conn,
            request.user_id,
            Notice("department.approved" if approve else "department.rejected", {"department": department.name}),
            now=now,
            dedupe_key=f"department:decided:{request_id}",
            about=[request.user_id],
        )
        person = await users.get_user(conn, request.user_id)
    env.wake()
    return Decided(department, person, approve)


async def remove_member(env: Env, actor: Actor, department_id: int | None, person_id: int) -> list[Department]:
    """Take the person out of one department (None: every one of theirs); the departments they left (none: they
    were in none of them). Their case cards of those departments are taken back, the cases they held wait for the
    other members again (`cases.release_held`); they are told."""
    actor_id = _coordinator(actor)
    now = env.now()
    left: list[Department] = []
    async with env.db.write() as conn:
        theirs = await store.departments_of(conn, person_id)
        for department in theirs:
            if department_id is not None and department.id != department_id:
                continue
            if not await store.remove_member(conn, department.id, person_id):
                continue
            left.append(department)
            await cases.release_held(conn, env, department, person_id, actor_id=actor_id)
            case_ids = await store.case_ids_of(conn, department.id)
            shown = await outbox.sent_cards(conn, person_id, "case", case_ids)
            shown += await store.take_case_cards(conn, person_id, case_ids)
            for message_id in dict.fromkeys(shown):
                await notices.queue(
                    conn,
                    person_id,
                    Notice("department.card_withdrawn", {"department": department.name}, replaces=message_id),
                    now=now,
                    lane="urgent",
                    dedupe_key=f"department:withdrawn:{department.id}:{person_id}:{message_id}",
                    about=[person_id],
                )
            await notices.queue(
                conn,
                person_id,
                Notice("department.removed", {"department": department.name}),
                now=now,
                dedupe_key=f"department:removed:{department.id}:{person_id}:{now.timestamp():.0f}",
                about=[person_id],
            )
            subject = f"{department.name}:{person_ref(person_id)}"
            await audit.record(conn, actor_id=actor_id, action="department.remove", subject=subject, now=now)
        if left and len(left) == len(theirs):
            await users.revoke_role(conn, person_id, Role.DEPARTMENT.value)
    env.wake()
    return left


async def remember_case_card(env: Env, actor: Actor, case_id: int, message_id: int) -> None:
    """A case card shown to the actor as a reply: taken back if they leave the case's department."""
    if actor.user_id is None:
        return
    async with env.db.write() as conn:
        await store.remember_case_card(conn, case_id, actor.user_id, message_id)


async def members(env: Env, actor: Actor, department_id: int) -> tuple[Department, list[tuple[int, str]]]:
    """A department and its members (person id, name), for the coordinators' list with remove buttons."""
    _coordinator(actor)
    async with env.db.read() as conn:
        return await store.get_department(conn, department_id), await store.member_list(conn, department_id)


async def list_departments(env: Env, actor: Actor) -> list[tuple[Department, int]]:
    """Every department with its number of members (staff and members only)."""
    if actor.user_id is None or not actor.roles & (COORDINATORS | {Role.DEPARTMENT}):
        raise NotAllowed(f"{actor.user_id} may not list departments")
    async with env.db.read() as conn:
        counts = await store.member_counts(conn)
        return [(department, counts.get(department.id, 0)) for department in await store.all_departments(conn)]


async def named(env: Env, actor: Actor, name: str) -> Department:
    """The department of that name, for a coordinator choosing a case's tier (`NotFound` otherwise)."""
    _coordinator(actor)
    async with env.db.read() as conn:
        return await store.find_department(conn, name)


async def numbered(env: Env, actor: Actor, department_id: int) -> Department:
    """The department a button names, for a coordinator (`NotFound` when it is gone)."""
    _coordinator(actor)
    async with env.db.read() as conn:
        return await store.get_department(conn, department_id)


async def _acknowledger(conn: AsyncConnection, person_id: int | None) -> str | None:
    """Who acknowledged a case, by name (None: nobody yet)."""
    if person_id is None:
        return None
    with contextlib.suppress(NotFound):
        return (await users.get_user(conn, person_id)).display_name
    return "—"


@dataclass(frozen=True, slots=True)
class OpenCase:
    """An open case on the coordinators' overview: its view, and the deadline it missed (None: in time)."""

    shown: cases.CaseView
    missed: dt.datetime | None


async def open_cases_overview(env: Env, actor: Actor) -> list[tuple[str, list[OpenCase]]]:
    """Every department's open cases for the coordinators, by department (those with overdue cases first), the
    overdue cases of each first (the longest overdue first), then the others oldest first."""
    _coordinator(actor)
    now = env.now()
    async with env.db.read() as conn:
        names = await case_store.department_names(conn)
        by_department: dict[str, list[OpenCase]] = {}
        for case in await case_store.open_cases(conn, limit=OVERVIEW_MAX):
            missed = missed_deadline(case.status, case.ack_due_at, case.resolve_due_at, now)
            name = names.get(case.department_id, "—")
            shown = cases.CaseView(case, name, await _acknowledger(conn, case.acknowledged_by))
            by_department.setdefault(name, []).append(OpenCase(shown, missed))
    groups = [
        (name, sorted(found, key=lambda o: (o.missed is None, o.missed or o.shown.case.created_at)))
        for name, found in by_department.items()
    ]
    return sorted(groups, key=lambda group: (-sum(o.missed is not None for o in group[1]), group[0]))
