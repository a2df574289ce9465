"""Cases: a coordinator sends a wish, tip or hot topic to a department with a response tier; one member
acknowledges (签收) it, then resolves it or hands it back; the resident is told each step and rates the result;
the sweep escalates what is overdue.

Effects, per action (each in one transaction, with its event and audit entry):
  send_case (coordinators): the case (`sent`, deadlines from the tier); an urgent notice to every reachable
    member with 签收 / 退回, while the case is `sent` and they hold the `department` role; the resident is told
    (which department, by when). Audit `case.send`.
  acknowledge (a member of the case's department): `sent → acknowledged` by compare-and-set (two members at
    once: one wins, the other gets `Conflict`); the other members are told who took it; the resident is told.
    Audit `case.acknowledge`.
  resolve (whoever acknowledged it, while still a member): `acknowledged → resolved` with a note and an optional
    photo; the resident is told, with the photo and 1–5 rating buttons (while resolved); the coordinator who sent
    it is told.
    Audit `case.resolve`.
  hand_back (a member): `sent | acknowledged → returned` with a reason; every coordinator is told (to send it
    elsewhere); the resident is told it is being passed on. Audit `case.return`.
  release_held (removing a member, in that transaction): each case they acknowledged and had not finished goes
    `acknowledged → sent` and the other members get it again with 签收 / 退回. Audit `case.release`.
  rate (the resident): the rating stored once; the member who resolved it is told.
  escalate_due (the sweep): for each open case past its acknowledgment or resolution deadline, the coordinators
    are told at the deadline, the admins at twice the time allowed; each once (dedupe key per case, stage and
    person), while the case is still in the status that made it late; the escalation recorded as a case event.
    A case not acknowledged in time also reaches its department's members again, with 签收 / 退回 (urgent, once).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Notice, Value
from rules import cases as rules
from rules import wishes as wish_rules
from rules.cases import CaseAction, CaseOrder, CaseStatus, case_ref
from rules.roles import Role
from rules.staff import COORDINATORS
from rules.tips import tip_reference
from rules.wishes import RATING_MAX, RATING_MIN, Actor, InvalidInput, WishAction, WishStatus, wish_ref
from storage import audit, hot, media, outbox, people, tips, users, whistles
from storage import cases as store
from storage import departments as department_store
from storage import wishes as wish_store
from storage.cases import Case
from storage.departments import Department
from storage.errors import Conflict, NotAllowed, NotFound

SUMMARY_MAX = 300
PREFIX = "case:"


@dataclass(frozen=True, slots=True)
class Sent:
    """A case sent: the case, its department, and how many members were told."""

    case: Case
    department: Department
    told: int


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as people see it: with its department's name and who acknowledged it."""

    case: Case
    department: str
    acknowledged_by: str | None

    @property
    def ref(self) -> str:
        """C-0001."""
        return case_ref(self.case.ref_no)


def source_ref(case: Case) -> str:
    """Where the case came from, as people read it: W-0042, T-0007, H-3."""
    if case.source == "wish":
        return wish_ref(case.source_id)
    if case.source == "tip":
        return tip_reference(case.source_id)
    return f"H-{case.source_id}"


def local(moment: dt.datetime, env: Env) -> str:
    """A moment in local time, as people read it."""
    return moment.astimezone(env.settings.tz).strftime("%m-%d %H:%M")


async def _name(conn: AsyncConnection, person_id: int | None) -> str:
    if person_id is None:
        return "—"
    try:
        return (await users.get_user(conn, person_id)).display_name
    except NotFound:
        return "—"


async def _source(conn: AsyncConnection, order: CaseOrder) -> tuple[int | None, str, str | None, str, int]:
    """(resident, category, area, summary, source id as stored) of what the order names."""
    if order.source == "wish":
        wish = await wish_store.get_wish_by_ref(conn, order.number)
        return wish.resident_id, wish.category, wish.area, wish.description[:SUMMARY_MAX], wish.ref_no
    if order.source == "tip":
        tip = await tips.get_tip(conn, order.number)
        return tip.reporter_id, tip.category, None, tip.description[:SUMMARY_MAX], tip.id
    alert = await hot.get_alert(conn, order.number)
    return None, "other", alert.areas[0] if alert.areas else None, alert.term, alert.id


def card_values(case: Case, department: str, env: Env) -> dict[str, Value]:
    """What a case card says: reference, source, department, tier, category, area, summary, deadlines."""
    return {
        "ref": case_ref(case.ref_no),
        "source": source_ref(case),
        "department": department,
        "tier_key": f"case.tier.{case.tier}",
        "category_key": f"category.{case.category}",
        "area": case.area or "—",
        "summary": case.summary,
        "ack_due": local(case.ack_due_at, env),
        "resolve_due": local(case.resolve_due_at, env),
    }


def concerns(case: Case, *named: int | None) -> dict[str, list[int]]:
    """What a case notice is about: the case, the resident whose wish or tip it is, and the people it names."""
    return {"case": [case.id], "person": [p for p in (case.resident_id, *named) if p is not None]}


def member_buttons(case: Case) -> tuple[tuple[Button, ...], ...]:
    """签收 / 退回 on a new case."""
    return ((Button("case.button.ack", Act.CASE_ACK, case.id), Button("case.button.return", Act.CASE_RETURN, case.id)),)


def holder_buttons(case: Case) -> tuple[tuple[Button, ...], ...]:
    """办结 / 退回 for the member who acknowledged it."""
    return (
        (
            Button("case.button.resolve", Act.CASE_RESOLVE, case.id),
            Button("case.button.return", Act.CASE_RETURN, case.id),
        ),
    )


async def send_case(env: Env, actor: Actor, order: CaseOrder) -> Sent:
    """Send what the order names to a department with its tier (`NotFound`: no such source or department;
    `Conflict`: already open at that department)."""
    if actor.user_id is None or not actor.roles & COORDINATORS:
        raise NotAllowed(f"{actor.user_id} may not send cases")
    now = env.now()
    settings = env.settings
    async with env.db.write() as conn:
        department = await department_store.find_department(conn, order.department)
        resident_id, category, area, summary, source_id = await _source(conn, order)
        if await store.open_case_for(conn, order.source, source_id, department.id) is not None:
            raise Conflict("already open at this department", current="open")
        if order.source == "wish":
            await _refer_wish(conn, actor.user_id, order.number, department.name, now)
        due = rules.deadlines(
            now,
            order.tier,
            settings.case_tier_hours,
            ack_share=settings.case_ack_share,
            ack_max_hours=settings.case_ack_max_hours,
        )
        case = await store.insert_case(
            conn,
            department_id=department.id,
            source=order.source,
            source_id=source_id,
            resident_id=resident_id,
            category=category,
            area=area,
            summary=summary,
            tier=order.tier,
            created_by=actor.user_id,
            now=now,
            ack_due_at=due.ack_due,
            resolve_due_at=due.resolve_due,
        )
        values = card_values(case, department.name, env)
        told = await notices.queue_many(
            conn,
            await department_store.members_of(conn, department.id),
            Notice("case.new", values, member_buttons(case)),
            now=now,
            lane="urgent",
            dedupe_prefix=f"{PREFIX}new:{case.id}",
            concerns=concerns(case),
            condition=[notices.case_in(case.id, CaseStatus.SENT), notices.holds_role(Role.DEPARTMENT.value)],
        )
        if resident_id is not None:
            await notices.queue(
                conn,
                resident_id,
                Notice("case.resident_sent", values),
                now=now,
                dedupe_key=f"{PREFIX}rs:{case.id}",
                concerns=concerns(case),
            )
        await audit.record(
            conn, actor_id=actor.user_id, action="case.send", subject=case_ref(case.ref_no), now=now, detail=order.tier
        )
    env.wake()
    return Sent(case, department, told)


async def _refer_wish(conn: AsyncConnection, actor_id: int, ref_no: int, department: str, now: dt.datetime) -> None:
    """The wish becomes `referred` (it leaves the review queue and the volunteers' lists; its resident sees the
    case's progress); already referred (a second department) or whistled (the volunteers were called to it
    together with the department): unchanged. `Conflict` with `wish:<status>` when it
    is claimed, done or closed: a volunteer or the resident holds it, not the centre."""
    wish = await wish_store.get_wish_by_ref(conn, ref_no)
    if wish.status == WishStatus.REFERRED:
        return
    if wish.status == WishStatus.OPEN and await whistles.latest_unanswered(conn, wish.id) is not None:
        return  # 中心吹哨: the volunteers were called to it too; it stays open for them
    try:
        target = wish_rules.next_status(wish.status, WishAction.REFER)
    except Conflict:
        raise Conflict(f"wish {ref_no} is {wish.status}", current=f"wish:{wish.status}") from None
    await wish_store.move_wish(conn, wish.id, wish.status, target, actor_id=actor_id, now=now, note=department)


async def _hand_wish_back(conn: AsyncConnection, case: Case, actor_id: int, now: dt.datetime) -> None:
    """A wish's case handed back, and no other department holds it: the wish waits for review again."""
    if case.source != "wish" or await store.any_open_for(conn, "wish", case.source_id):
        return
    wish = await wish_store.get_wish_by_ref(conn, case.source_id)
    if wish.status == WishStatus.REFERRED:
        target = wish_rules.next_status(wish.status, WishAction.HAND_BACK)
        await wish_store.move_wish(
            conn, wish.id, wish.status, target, actor_id=actor_id, now=now, note=case_ref(case.ref_no)
        )


async def view(env: Env, case_id: int) -> CaseView:
    """A case with its department's and acknowledger's names."""
    async with env.db.read() as conn:
        return await _view(conn, await store.get_case(conn, case_id))


async def _view(conn: AsyncConnection, case: Case) -> CaseView:
    department = await department_store.get_department(conn, case.department_id)
    name = await _name(conn, case.acknowledged_by) if case.acknowledged_by is not None else None
    return CaseView(case, department.name, name)


async def _member(conn: AsyncConnection, actor: Actor, case: Case) -> int:
    if actor.user_id is None or not await department_store.is_member(conn, case.department_id, actor.user_id):
        raise NotAllowed(f"{actor.user_id} is not in department {case.department_id}")
    return actor.user_id


async def acknowledge(env: Env, actor: Actor, case_id: int) -> CaseView:
    """签收: this member takes the case (`Conflict` if someone else was first)."""
    now = env.now()
    async with env.db.write() as conn:
        case = await store.get_case(conn, case_id)
        actor_id = await _member(conn, actor, case)
        target = rules.next_status(case.status, CaseAction.ACKNOWLEDGE)
        case = await store.move_case(
            conn,
            case_id,
            case.status,
            target,
            actor_id=actor_id,
            now=now,
            changes={"acknowledged_by": actor_id, "acknowledged_at": now},
        )
        shown = await _view(conn, case)
        values = {**card_values(case, shown.department, env), "name": shown.acknowledged_by or "—"}
        others = [m for m in await department_store.members_of(conn, case.department_id) if m != actor_id]
        await notices.queue_many(
            conn,
            others,
            Notice("case.taken", values),
            now=now,
            dedupe_prefix=f"{PREFIX}taken:{case.id}",
            concerns=concerns(case, actor_id),
        )
        if case.resident_id is not None:
            await notices.queue(
                conn,
                case.resident_id,
                Notice("case.resident_acknowledged", values),
                now=now,
                dedupe_key=f"{PREFIX}ra:{case.id}",
                concerns=concerns(case, actor_id),
                condition=[notices.case_in(case.id, CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED)],
            )
        await audit.record(conn, actor_id=actor_id, action="case.acknowledge", subject=shown.ref, now=now)
    env.wake()
    return shown


async def resolve(env: Env, actor: Actor, case_id: int, note: str, *, photo: tuple[str, str] | None = None) -> CaseView:
    """办结 with a note and an optional photo `(channel, file reference)`; only whoever acknowledged it."""
    text = rules.check_note(note)
    now = env.now()
    async with env.db.write() as conn:
        case = await store.get_case(conn, case_id)
        if actor.user_id is None or actor.user_id != case.acknowledged_by:
            raise NotAllowed(f"{actor.user_id} did not acknowledge case {case_id}")
        await _member(conn, actor, case)
        target = rules.next_status(case.status, CaseAction.RESOLVE)
        media_id = (
            await media.add_media(conn, kind="photo", channel=photo[0], file_ref=photo[1], now=now) if photo else None
        )
        case = await store.move_case(
            conn,
            case_id,
            case.status,
            target,
            actor_id=actor.user_id,
            now=now,
            note=text,
            changes={"resolved_at": now, "resolution_note": text, "resolution_media_id": media_id},
        )
        shown = await _view(conn, case)
        values = {**card_values(case, shown.department, env), "name": shown.acknowledged_by or "—", "note": text}
        if case.resident_id is not None:
            stars = tuple(
                Button(f"={'⭐' * n}", Act.CASE_RATE, case.id, str(n)) for n in range(RATING_MIN, RATING_MAX + 1)
            )
            await notices.queue(
                conn,
                case.resident_id,
                Notice("case.resident_resolved", values, (stars[:3], stars[3:]), media=media_id),
                now=now,
                dedupe_key=f"{PREFIX}rr:{case.id}",
                concerns=concerns(case, case.acknowledged_by),
                condition=[notices.case_in(case.id, CaseStatus.RESOLVED)],
            )
        if case.created_by is not None:
            await notices.queue(
                conn,
                case.created_by,
                Notice("case.coordinator_resolved", values),
                now=now,
                dedupe_key=f"{PREFIX}cr:{case.id}",
                concerns=concerns(case, case.acknowledged_by),
            )
        await audit.record(conn, actor_id=actor.user_id, action="case.resolve", subject=shown.ref, now=now)
    env.wake()
    return shown


async def hand_back(env: Env, actor: Actor, case_id: int, reason: str) -> CaseView:
    """退回: a member hands the case back to the coordinators with a reason."""
    text = rules.check_note(reason)
    now = env.now()
    async with env.db.write() as conn:
        case = await store.get_case(conn, case_id)
        actor_id = await _member(conn, actor, case)
        if case.status == CaseStatus.ACKNOWLEDGED and case.acknowledged_by != actor_id:
            raise NotAllowed(f"case {case_id} is held by {case.acknowledged_by}")
        target = rules.next_status(case.status, CaseAction.RETURN)
        case = await store.move_case(
            conn,
            case_id,
            case.status,
            target,
            actor_id=actor_id,
            now=now,
            note=text,
            changes={"returned_at": now, "return_reason": text},
        )
        await _hand_wish_back(conn, case, actor_id, now)
        shown = await _view(conn, case)
        values = {**card_values(case, shown.department, env), "name": await _name(conn, actor_id), "reason": text}
        await notices.queue_many(
            conn,
            await coordinators(conn, env),
            Notice("case.returned", values),
            now=now,
            dedupe_prefix=f"{PREFIX}returned:{case.id}",
            concerns=concerns(case, actor_id),
            condition=[notices.holds_role(Role.COORDINATOR.value)],
        )
        if case.resident_id is not None:
            await notices.queue(
                conn,
                case.resident_id,
                Notice("case.resident_returned", values),
                now=now,
                dedupe_key=f"{PREFIX}rb:{case.id}",
                concerns=concerns(case, actor_id),
            )
        await audit.record(conn, actor_id=actor_id, action="case.return", subject=shown.ref, now=now, detail=text)
    env.wake()
    return shown


async def release_held(
    conn: AsyncConnection, env: Env, department: Department, person_id: int, *, actor_id: int | None
) -> list[Case]:
    """The person left `department` (already removed): the cases they held there wait for another member again,
    and every member gets the card with 签收 / 退回 anew. The released cases."""
    now = env.now()
    released = []
    members = await department_store.members_of(conn, department.id)
    for held in await store.held_by(conn, department.id, person_id):
        case = await store.move_case(
            conn,
            held.id,
            CaseStatus.ACKNOWLEDGED,
            rules.next_status(held.status, CaseAction.RELEASE),
            actor_id=actor_id,
            now=now,
            note="released: holder left the department",
            changes={"acknowledged_by": None, "acknowledged_at": None},
        )
        await notices.queue_many(
            conn,
            members,
            Notice("case.new", card_values(case, department.name, env), member_buttons(case)),
            now=now,
            lane="urgent",
            dedupe_prefix=f"{PREFIX}new:{case.id}:released:{person_id}:{now.timestamp():.0f}",
            concerns=concerns(case),
            condition=[notices.case_in(case.id, CaseStatus.SENT), notices.holds_role(Role.DEPARTMENT.value)],
        )
        await audit.record(conn, actor_id=actor_id, action="case.release", subject=case_ref(case.ref_no), now=now)
        released.append(case)
    return released


async def rate(env: Env, actor: Actor, case_id: int, rating: int) -> CaseView:
    """The resident rates a resolved case, once."""
    if not RATING_MIN <= rating <= RATING_MAX:
        raise InvalidInput("out_of_range")
    now = env.now()
    async with env.db.write() as conn:
        case = await store.get_case(conn, case_id)
        if actor.user_id is None or actor.user_id != case.resident_id:
            raise NotAllowed(f"{actor.user_id} may not rate case {case_id}")
        case = await store.rate_case(conn, case_id, rating, now)
        await store.record_event(
            conn, case_id, case.status, case.status, actor_id=actor.user_id, now=now, note=f"rating:{rating}"
        )
        shown = await _view(conn, case)
        # The member who did it and the coordinator who sent it hear the rating (once each).
        for person, key in ((case.acknowledged_by, "rated"), (case.created_by, "rated-c")):
            if person is None or (key == "rated-c" and person == case.acknowledged_by):
                continue
            await notices.queue(
                conn,
                person,
                Notice("case.rated", {"ref": shown.ref, "rating": rating}),
                now=now,
                dedupe_key=f"{PREFIX}{key}:{case.id}",
                concerns=concerns(case),
            )
    env.wake()
    return shown


async def coordinators(conn: AsyncConnection, env: Env) -> list[int]:
    """Coordinators (and admins who have written to the bot) whom the bot can reach."""
    found = await hot.alert_recipients(conn, (Role.COORDINATOR.value,), admin_ids=env.settings.admin_ids)
    return sorted(found)


async def admins(conn: AsyncConnection, env: Env) -> list[int]:
    """The admins who have written to the bot."""
    return sorted(await people.admin_person_ids(conn, env.settings.admin_ids))


async def case_of_member(env: Env, actor: Actor, case_id: int) -> CaseView:
    """One case of a department the actor belongs to (`NotAllowed` for anyone else's; `NotFound`)."""
    async with env.db.read() as conn:
        case = await store.get_case(conn, case_id)
        await _member(conn, actor, case)
        return await _view(conn, case)


async def open_cases_of_member(env: Env, actor: Actor) -> list[CaseView]:
    """The open cases of the departments the actor belongs to, oldest first."""
    if actor.user_id is None:
        return []
    async with env.db.read() as conn:
        found: list[CaseView] = []
        for department in await department_store.departments_of(conn, actor.user_id):
            for case in await store.open_cases(conn, department_id=department.id, limit=50):
                found.append(CaseView(case, department.name, await _name(conn, case.acknowledged_by)))
        return found


async def escalate_due(env: Env, now: dt.datetime) -> int:
    """Write the escalations of overdue cases that are due and not yet written; how many notices were queued."""
    async with env.db.read() as conn:
        late = await store.overdue_cases(conn, now)
        if not late:
            return 0
        used = await outbox.used_keys(conn, f"{PREFIX}late")
    queued = 0
    async with env.db.write() as conn:
        staff = await coordinators(conn, env)
        bosses = await admins(conn, env)
        names = await store.department_names(conn)
        for case in late:
            queued += await _escalate(conn, env, case, now, names.get(case.department_id, "—"), staff, bosses, used)
    env.wake()
    return queued


async def _escalate(
    conn: AsyncConnection,
    env: Env,
    case: Case,
    now: dt.datetime,
    department: str,
    staff: list[int],
    bosses: list[int],
    used: set[str],
) -> int:
    """The escalations one overdue case is due for: (stage, deadline, status it must still be in)."""
    stages: list[tuple[str, dt.datetime, tuple[str, ...]]] = []
    if case.status == CaseStatus.SENT:
        stages.append(("ack", case.ack_due_at, (CaseStatus.SENT,)))
    stages.append(("resolve", case.resolve_due_at, (CaseStatus.SENT, CaseStatus.ACKNOWLEDGED)))
    queued = 0
    for stage, due, statuses in stages:
        to_staff, to_admins = rules.escalation_moments(case.created_at, due)
        for level, moment, recipients in (("1", to_staff, staff), ("2", to_admins, bosses)):
            if now < moment:
                continue
            values = {
                **card_values(case, department, env),
                "stage_key": f"case.stage.{stage}",
                "due": local(due, env),
                "holder": await _name(conn, case.acknowledged_by),
            }
            key = f"{PREFIX}late{level}:{stage}:{case.id}"
            wrote = 0
            for person in recipients:
                if f"{key}:{person}" in used:
                    continue
                wrote += await notices.queue(
                    conn,
                    person,
                    Notice(f"case.escalated_{level}", values),
                    now=now,
                    lane="urgent",
                    dedupe_key=f"{key}:{person}",
                    concerns=concerns(case, case.acknowledged_by),
                    condition=[notices.case_in(case.id, *statuses)],
                )
            if wrote:
                await store.record_event(
                    conn, case.id, case.status, case.status, actor_id=None, now=now, note=f"escalated:{stage}:{level}"
                )
            queued += wrote
            if stage == "ack" and level == "1":
                queued += await _remind_members(conn, case, values, now)
    return queued


async def _remind_members(conn: AsyncConnection, case: Case, values: dict[str, Value], now: dt.datetime) -> int:
    """A case nobody acknowledged in time: its department's members are reminded with 签收 / 退回 again, at once
    and at any hour (urgent: the escalation is theirs to answer, not only the coordinators' to know)."""
    return await notices.queue_many(
        conn,
        await department_store.members_of(conn, case.department_id),
        Notice("case.overdue_member", values, member_buttons(case)),
        now=now,
        lane="urgent",
        dedupe_prefix=f"{PREFIX}overdue:{case.id}",
        concerns=concerns(case),
        condition=[notices.case_in(case.id, CaseStatus.SENT), notices.holds_role(Role.DEPARTMENT.value)],
    )
