"""The demo's departments and a month of their cases (issue 15), so the command-centre screen and /stats have
something to show: four departments, two members, and cases in every state — resolved and rated, late, open,
overdue. Written through the storage functions the bot uses, with times relative to the demo's "now"."""

from __future__ import annotations

import datetime as dt

from bot.seed import LAO_LI, XIAO_LIN
from rules.cases import deadlines
from rules.roles import Role
from storage import cases, departments, users
from storage import wishes as wish_store
from storage.db import Database
from storage.errors import NotFound

TIERS = {"urgent": 2.0, "utility": 24.0, "general": 168.0, "complex": 360.0}
DEPARTMENTS = (
    ("城管", ("environment", "traffic_guidance", "other"), LAO_LI),
    ("民政", ("hardship_help", "elderly_disabled"), None),
    ("交通", ("traffic_guidance",), None),
    ("卫健", ("free_clinic", "elderly_disabled"), XIAO_LIN),
)
H = dt.timedelta(hours=1)
# (wish ref, department, tier, sent hours ago, acknowledged after, resolved after, rating)
CASES: tuple[tuple[int, str, str, float, float | None, float | None, int | None], ...] = (
    (1, "城管", "urgent", 20 * 24, 0.3, 1.5, 5),
    (2, "民政", "general", 10 * 24, 3, 48, 4),
    (3, "交通", "utility", 6 * 24, 8, 30, 2),
    (4, "卫健", "general", 3 * 24, 1, None, None),
    (5, "城管", "urgent", 5, None, None, None),
    (6, "民政", "complex", 30, None, None, None),
)


async def departments_seeded(db: Database) -> bool:
    """Whether the demo's departments exist already."""
    async with db.read() as conn:
        return bool(await departments.all_departments(conn))


async def seed_departments(db: Database, *, now: dt.datetime) -> None:
    """Create the departments, their members and their cases (one transaction)."""
    async with db.write() as conn:
        made = {}
        for name, categories, member in DEPARTMENTS:
            department = await departments.create_department(
                conn, name=name, categories=categories, areas=(), created_by=None, now=now - 40 * 24 * H
            )
            made[name] = department.id
            if member is not None:
                await departments.add_member(conn, department.id, member, now - 40 * 24 * H)
                await users.grant_role(conn, member, Role.DEPARTMENT.value, granted_by=None, now=now - 40 * 24 * H)
        for ref_no, name, tier, ago, ack, resolve, rating in CASES:
            try:
                wish = await wish_store.get_wish_by_ref(conn, ref_no)
            except NotFound:
                continue
            sent = now - ago * H
            due = deadlines(sent, tier, TIERS, ack_share=0.25, ack_max_hours=24)
            case = await cases.insert_case(
                conn,
                department_id=made[name],
                source="wish",
                source_id=ref_no,
                resident_id=wish.resident_id,
                category=wish.category,
                area=wish.area,
                summary=wish.description[:300],
                tier=tier,
                created_by=None,
                now=sent,
                ack_due_at=due.ack_due,
                resolve_due_at=due.resolve_due,
            )
            if ack is not None:
                at = sent + ack * H
                changes = {"acknowledged_at": at, "acknowledged_by": LAO_LI}
                await cases.move_case(conn, case.id, "sent", "acknowledged", actor_id=None, now=at, changes=changes)
            if resolve is not None:
                at = sent + resolve * H
                changes = {"resolved_at": at, "resolution_note": "已办结"}
                await cases.move_case(conn, case.id, "acknowledged", "resolved", actor_id=None, now=at, changes=changes)
            if rating is not None:
                await cases.rate_case(conn, case.id, rating, sent + (resolve or 0) * H + H)
