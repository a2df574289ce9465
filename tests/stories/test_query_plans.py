"""Every query the bot runs on a growing table is served by an index, on SQLite and on PostgreSQL.

A district (`benchmarks.scale.build`: wishes in every status, volunteers with skills and places, residents, tips
and their hot-topic terms) is loaded under the running bot; every statement the bot then sends to the database
while people page through /tasks, claim a wish, list their tasks and wishes, submit a wish (the similar-wish
look-up included), use /pending, /top, /stats, /hot and /export, and while the scheduler's sweep runs, is
recorded and explained: SQLite's `EXPLAIN QUERY PLAN` must not scan a growing table, and PostgreSQL's `EXPLAIN`,
with sequential scans priced out (`enable_seqscan = off`, so a small test table does not hide a missing index),
must not show a `Seq Scan` on one. A new query without its index fails here on both backends, before it is slow
at a district's size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from benchmarks import scale
from bot.app import TongxinApp
from core.clock import ManualClock
from scheduler import sweep
from simulator import BotApiSimulator
from storage.db import Database
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import claim_from_tasks, wait_for_button, write_wish

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

# Tables that grow with the district's use (rows per wish, tip, person, message or day of activity); the
# others hold configuration or a handful of rows (departments, counters, watermarks).
GROWING = {
    "users",
    "identities",
    "user_roles",
    "audit_log",
    "applications",
    "outbox",
    "media",
    "wishes",
    "wish_events",
    "text_terms",
    "tips",
    "tip_events",
    "wish_holds",
    "signups",
    "cases",
    "case_events",
    "claim_cards",
    "update_inbox",
    "wechat_inbound",
}
# Reads that go through a whole growing table on purpose: (table, a piece of the statement, why).
ALLOWED = (
    (
        "signups",
        "count(distinct(signups.user_id))",
        "/stats all sums the hours of every confirmed sign-up ever; a sum over all of them reads all of them "
        "(an activity's sign-ups are few: the roll-ups cover wishes, whose rows are a hundred times more)",
    ),
)


def allowed(statement: str, table: str) -> bool:
    return any(table == t and piece in statement for t, piece, _ in ALLOWED)


@contextmanager
def recorded(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) the engine runs inside the block, reads and changes alike."""
    statements: list[tuple[str, Any]] = []

    def note(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not many and re.match(r"\s*(SELECT|WITH|UPDATE|DELETE)\b", statement, re.IGNORECASE):
            statements.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)


def _pg_full_scans(node: dict[str, Any], *, limited: bool = False) -> set[str]:
    """Tables a PostgreSQL plan (EXPLAIN's JSON) reads in full: a sequential scan, or an index scan without an
    index condition (every entry in index order) unless a Limit above it stops early."""
    limited = limited or node["Node Type"] == "Limit"
    found = set()
    table = node.get("Relation Name")
    if node["Node Type"] == "Seq Scan" or (
        node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node and not limited
    ):
        found.add(str(table))
    for child in node.get("Plans", []):
        found |= _pg_full_scans(child, limited=limited)
    return found


async def full_scans(db: Database, statement: str, parameters: Any) -> set[str]:
    """The growing tables the statement's plan reads in full."""
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
            # "SCAN wishes" (or "SCAN wishes USING INDEX …", a whole index) reads every row; "SEARCH" does not.
            scanned = {m.group(1) for row in rows if (m := re.match(r"SCAN (\w+)", str(row[-1])))}
        else:
            await conn.execute(text("SET enable_seqscan = off"))
            plan = (await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)).scalar_one()
            scanned = _pg_full_scans((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
            await conn.rollback()
    return scanned & GROWING


async def test_every_query_of_lists_claims_wishes_stats_hot_export_and_the_sweep_uses_an_index(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    built = await scale.build(story_db, 3000, clock.now())
    volunteer = sim.person("志愿者0", user_id=scale.FIRST_VOLUNTEER)
    resident = sim.person("居民0", user_id=scale.FIRST_RESIDENT)
    admin = sim.person("管理员", user_id=ADMIN_ID)
    today = clock.now().date()

    with recorded(story_db) as statements:
        await volunteer.send_command("/tasks")
        first = await volunteer.wait_for_text(built["newest_ref"])
        await volunteer.press("下一页 ▶", message=first)
        await volunteer.wait_for_text("第 2/")
        await volunteer.press("显示全部", message=first)
        await volunteer.wait_for_text("全部可认领的任务")
        await claim_from_tasks(volunteer, built["newest_ref"])
        await volunteer.wait_for_text(f"您认领了 {built['newest_ref']}")
        await volunteer.send_command("/mytasks")
        await volunteer.wait_for_text(built["newest_ref"])
        await write_wish(resident)
        # A similar open wish nearby is offered first (a look-up of its own); she submits hers anyway.
        await wait_for_button(resident, "仍然提交我的心愿")
        await resident.press("仍然提交我的心愿")
        await resident.wait_for_text(f"W-{built['newest'] + 1:04d}")
        await resident.send_command("/mywishes")
        await resident.wait_for_text("您的")
        for command in (("/pending",), ("/top",), ("/stats", "all"), ("/hot", "90")):
            await admin.send_command(*command)
            await admin.next_message()
        year_ago = today.replace(year=today.year - 1).isoformat()
        await admin.send_command("/export", "wishes", year_ago, today.isoformat())
        await admin.wait_for(
            lambda: any(m.document_name for m in admin.chat.bot_messages), what="the export's file", timeout=60
        )
        await sweep.run_once(bot)

    assert len(statements) > 30, "the bot's reads were recorded"
    if story_db.is_sqlite:
        # Judged without the statistics of a test-sized district, where an empty table (no signups yet) is
        # cheaper to scan than to search: what matters is whether an index can serve the query at all.
        async with story_db.write() as conn:
            await conn.execute(text("DELETE FROM sqlite_stat1"))
        await story_db.engine.dispose()
    seen: dict[str, set[str]] = {}
    for statement, parameters in statements:
        if statement in seen:
            continue
        seen[statement] = await full_scans(story_db, statement, parameters)
    offenders = {s: {t for t in tables if not allowed(s, t)} for s, tables in seen.items()}
    offenders = {s: tables for s, tables in offenders.items() if tables}
    assert not offenders, "\n\n".join(f"{sorted(tables)} read in full by:\n{s}" for s, tables in offenders.items())
