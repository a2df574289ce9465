"""The demo's departments and a month of their cases (issue 15), so the command-centre screen and /stats have
something to show: four departments, a member each, and cases in every state — resolved and rated, late, open,
overdue. Written through the storage functions the bot uses, with times relative to the demo's "now".

Each case is on a wish of its own, submitted shortly before and `referred` by the sending, as `/case` leaves it (a
claimed, done or closed wish cannot be sent, nor a rejected one); each acknowledged case names its department's
member. These wishes come after the district's (bot/seed.py: W-0001–W-0010), as W-0011–W-0016. Only one case is
overdue at the start (C-0005, 城管's, past its resolution deadline but not yet twice its time: one alert to the
coordinators, so the screen has a late case without flooding 陈主任); the others are resolved or within their time."""

from __future__ import annotations

import datetime as dt

from bot.seed import CAST, EMMA, LAO_LI, LAO_QIAN, LI_DAYE, SUN_XIAOMEI, XIAO_LIN, XIAO_WU, ZHAO_APO
from rules import wishes as wish_rules
from rules.cases import deadlines
from rules.roles import Role
from rules.wishes import WishDraft, WishStatus
from storage import cases, departments, users
from storage import wishes as wish_store
from storage.db import Database

TIERS = {"urgent": 2.0, "utility": 24.0, "general": 168.0, "complex": 360.0}
DEPARTMENTS = (
    ("城管", ("environment", "traffic_guidance", "other"), LAO_LI),
    ("民政", ("hardship_help", "elderly_disabled"), XIAO_WU),
    ("交通", ("traffic_guidance",), LAO_QIAN),
    ("卫健", ("free_clinic", "elderly_disabled"), XIAO_LIN),
)
H = dt.timedelta(hours=1)
# The wish each case is on: (resident, category, area, description).
WISHES: tuple[tuple[int, str, str, str], ...] = (
    (LI_DAYE, "environment", "东城社区", "和平路口的下水道井盖破了一个大洞，晚上走路很危险。"),
    (ZHAO_APO, "hardship_help", "河口镇", "家里的老房子漏雨，想问问能不能申请困难家庭的危房修缮补助。"),
    (EMMA, "traffic_guidance", "西城社区", "The pedestrian light at the school crossing on 西城路 is off for days."),
    (SUN_XIAOMEI, "free_clinic", "东城社区", "楼里好几位老人有高血压，想请社区医生定期上门量血压。"),
    (LI_DAYE, "other", "东城社区", "和平路一整排路灯不亮了，晚上一片漆黑。"),
    (ZHAO_APO, "elderly_disabled", "河口镇", "隔壁的孤寡老人冬天没有取暖设备，想请人帮忙看看。"),
)
# (department, tier, sent hours ago, acknowledged after, resolved after, rating), one per wish above: C-0001–C-0006.
CASES: tuple[tuple[str, str, float, float | None, float | None, int | None], ...] = (
    ("城管", "urgent", 20 * 24, 0.3, 1.5, 5),
    ("民政", "general", 10 * 24, 3, 48, 4),
    ("交通", "utility", 6 * 24, 8, 30, 2),
    ("卫健", "general", 3 * 24, 1, None, None),
    ("城管", "utility", 30, 2, None, None),  # overdue since 6 h (due in 24 h); twice its time only in 18 h
    ("民政", "complex", 10, None, None, None),  # to acknowledge within 24 h: 14 h left
)


async def departments_seeded(db: Database) -> bool:
    """Whether the demo's departments exist already."""
    async with db.read() as conn:
        return bool(await departments.all_departments(conn))


async def seed_departments(db: Database, *, now: dt.datetime) -> None:
    """Create the departments, their members and their cases (one transaction)."""
    async with db.write() as conn:
        made, members = {}, {}
        for name, categories, member in DEPARTMENTS:
            department = await departments.create_department(
                conn, name=name, categories=categories, areas=(), created_by=None, now=now - 40 * 24 * H
            )
            made[name], members[name] = department.id, member
            await departments.add_member(conn, department.id, member, now - 40 * 24 * H)
            await users.grant_role(conn, member, Role.DEPARTMENT.value, granted_by=None, now=now - 40 * 24 * H)
        for (resident_id, category, area, description), (name, tier, ago, ack, resolve, rating) in zip(
            WISHES, CASES, strict=True
        ):
            sent = now - ago * H
            person = next(p for p in CAST if p.user_id == resident_id)
            draft = WishDraft(category, description, area, None, person.location, None, person.phone)
            wish = await wish_rules.submit_wish(
                conn, draft, resident_id=resident_id, now=sent - H, review=True, daily_limit=1000
            )
            # Sent from the review queue, as `/case` does it (actions.cases._refer_wish).
            await wish_store.move_wish(
                conn, wish.id, WishStatus.PENDING_REVIEW, WishStatus.REFERRED, actor_id=None, now=sent, note=name
            )
            due = deadlines(sent, tier, TIERS, ack_share=0.25, ack_max_hours=24)
            case = await cases.insert_case(
                conn,
                department_id=made[name],
                source="wish",
                source_id=wish.ref_no,
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
                changes = {"acknowledged_at": at, "acknowledged_by": members[name]}
                await cases.move_case(conn, case.id, "sent", "acknowledged", actor_id=None, now=at, changes=changes)
            if resolve is not None:
                at = sent + resolve * H
                changes = {"resolved_at": at, "resolution_note": "已办结"}
                await cases.move_case(conn, case.id, "acknowledged", "resolved", actor_id=None, now=at, changes=changes)
            if rating is not None:
                await cases.rate_case(conn, case.id, rating, sent + (resolve or 0) * H + H)
