"""三率 of a seeded month match the figures worked out by hand (Asia/Shanghai months, cases on the borders).

城管, November 2026 — four cases sent in the month:
  C1 urgent  (ack 30 min, resolve 2 h):  acknowledged after 20 min, resolved after 90 min, rated 5
  C2 utility (ack 6 h, resolve 24 h):    acknowledged after 7 h (late), resolved after 20 h, rated 3
  C3 general (ack 24 h, resolve 7 d):    acknowledged after 2 h, resolved after 200 h (late), rated 4
  C4 complex:                            handed back after 1 h (a response in time; not counted for resolution)
  response 3/4 = 75.0%, resolution 2/3 = 66.7%, satisfaction (4–5 stars) 2/3 = 66.7%; mean 0.694
交通 — two cases:
  C5 urgent: acknowledged after 10 min, resolved after 1 h, rated 5;  C6 general: never acknowledged
  response 1/2 = 50.0%, resolution 1/2 = 50.0%, satisfaction 1/1 = 100.0%; mean 0.667
民政 — no cases: last, every rate "—".
Two more 城管 cases fall just outside the local month (Oct 31 23:30 and Dec 1 00:10 in Shanghai) and count nowhere.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from rules.cases import deadlines, month_rates, percent, rates_line
from storage import cases, departments
from storage.db import Database

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HOURS = {"urgent": 2.0, "utility": 24.0, "general": 168.0, "complex": 360.0}
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def local(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


async def seed(
    db: Database,
    department_id: int,
    tier: str,
    sent: dt.datetime,
    *,
    ack: dt.timedelta | None = None,
    resolve: dt.timedelta | None = None,
    back: dt.timedelta | None = None,
    rating: int | None = None,
) -> None:
    due = deadlines(sent, tier, HOURS, ack_share=0.25, ack_max_hours=24)
    async with db.write() as conn:
        case = await cases.insert_case(
            conn,
            department_id=department_id,
            source="wish",
            source_id=1,
            resident_id=None,
            category="environment",
            area="东城社区",
            summary="路灯不亮",
            tier=tier,
            created_by=None,
            now=sent,
            ack_due_at=due.ack_due,
            resolve_due_at=due.resolve_due,
        )
        status = "sent"
        if ack is not None:
            changes = {"acknowledged_at": sent + ack}
            await cases.move_case(conn, case.id, status, "acknowledged", actor_id=None, now=sent + ack, changes=changes)
            status = "acknowledged"
        if resolve is not None:
            changes = {"resolved_at": sent + resolve}
            await cases.move_case(conn, case.id, status, "resolved", actor_id=None, now=sent + resolve, changes=changes)
        if back is not None:
            changes = {"returned_at": sent + back}
            await cases.move_case(conn, case.id, status, "returned", actor_id=None, now=sent + back, changes=changes)
        if rating is not None:
            await cases.rate_case(conn, case.id, rating, sent + 300 * H)


async def test_the_rates_of_a_seeded_month_match_the_hand_computed_figures(db: Database) -> None:
    async with db.write() as conn:
        chengguan = await departments.create_department(
            conn, name="城管", categories=["environment"], areas=["东城社区"], created_by=None, now=local(10, 1, 9)
        )
        traffic = await departments.create_department(
            conn, name="交通", categories=["traffic_guidance"], areas=["东城社区"], created_by=None, now=local(10, 1, 9)
        )
        await departments.create_department(
            conn, name="民政", categories=["hardship_help"], areas=["东城社区"], created_by=None, now=local(10, 1, 9)
        )
    await seed(db, chengguan.id, "urgent", local(11, 3, 10), ack=20 * M, resolve=90 * M, rating=5)
    await seed(db, chengguan.id, "utility", local(11, 10, 9), ack=7 * H, resolve=20 * H, rating=3)
    await seed(db, chengguan.id, "general", local(11, 20, 8), ack=2 * H, resolve=200 * H, rating=4)
    await seed(db, chengguan.id, "complex", local(11, 25, 15), back=1 * H)
    await seed(db, traffic.id, "urgent", local(11, 5, 14), ack=10 * M, resolve=1 * H, rating=5)
    await seed(db, traffic.id, "general", local(11, 28, 16))
    # Just outside November in Shanghai (inside it in UTC for the second): counted in no month here.
    await seed(db, chengguan.id, "urgent", local(10, 31, 23, 30), ack=5 * H)
    await seed(db, chengguan.id, "urgent", local(12, 1, 0, 10), ack=5 * H)

    async with db.read() as conn:
        ranking = await month_rates(conn, 2026, 11, SHANGHAI)

    assert [r.name for r in ranking] == ["城管", "交通", "民政"]
    first, second, third = ranking
    assert (first.sent, first.responded_in_time, first.counted_for_resolution, first.resolved_in_time) == (4, 3, 3, 2)
    assert (first.rated, first.satisfied) == (3, 2)
    assert [percent(first.response_rate), percent(first.resolution_rate), percent(first.satisfaction_rate)] == [
        "75.0%",
        "66.7%",
        "66.7%",
    ]
    assert round(first.score or 0, 3) == 0.694
    assert [percent(second.response_rate), percent(second.resolution_rate), percent(second.satisfaction_rate)] == [
        "50.0%",
        "50.0%",
        "100.0%",
    ]
    assert round(second.score or 0, 3) == 0.667
    assert third.sent == 0
    assert third.score is None
    assert percent(third.response_rate) == "—"
    assert rates_line(ranking) == "1. 城管 75.0%/66.7%/66.7% ; 2. 交通 50.0%/50.0%/100.0%"
