"""The outbox: messages waiting to be delivered by the scheduler's sender, one row each.

A row is written once under a unique dedupe key (a second write with the same key changes nothing),
so whoever derives "what is due" may run as often as it likes. The sender moves a row
`pending → sending → sent`, or to `failed` (Telegram refused it, or retries ran out), `dropped`
(the person blocked the bot and it was bulk), `superseded` (the condition it was written under no
longer held when its turn came; see `take_for_sending`) or `unknown` (the process died while the
request was on the wire; see `recover_interrupted`). The payload is a JSON notice, rendered only when
it is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.people import admin_person_ids
from storage.schema import (
    activities,
    applications,
    broadcasts,
    cases,
    event_clocks,
    events,
    outbox,
    signups,
    tips,
    user_roles,
    users,
    wishes,
)

Lane = Literal["urgent", "normal", "bulk"]
LANE_RANK: dict[str, int] = {"urgent": 0, "normal": 1, "bulk": 2}
MAX_ERROR_LENGTH = 300
# What /deleteme writes on every outbox row it blanks (`last_error`): a row on the wire that bears it when Telegram
# answers is taken back (`mark_sent`).
ERASED = "privacy erase"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One queued message with what the sender needs to deliver it."""

    id: int
    dedupe_key: str
    lane: Lane
    recipient_id: int
    payload: dict[str, Any]
    attempts: int
    language: str | None  # the recipient's language now; None if they never wrote to the bot
    unreachable: bool
    condition: list[dict[str, Any]] | None = None
    created_at: dt.datetime | None = None  # when it was queued (a notice held too long expires)


async def enqueue(
    conn: AsyncConnection,
    *,
    recipient_id: int,
    payload: dict[str, Any],
    lane: Lane,
    dedupe_key: str,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
    skipped: bool = False,
    condition: list[dict[str, Any]] | None = None,
) -> bool:
    """Queue one message; False (and nothing changes) when the dedupe key was used before.

    `skipped=True` records only that the key was decided (e.g. a digest with nothing to say), so the
    decision is not made again. Bulk for someone who blocked the bot is recorded as `dropped`.
    """
    status = "skipped" if skipped else "pending"
    if lane == "bulk" and not skipped:
        unreachable = (await conn.execute(select(users.c.unreachable).where(users.c.id == recipient_id))).scalar()
        if unreachable:
            status = "dropped"  # they blocked the bot: no bulk until they write to us again
    values = {
        "status": status,
        "dedupe_key": dedupe_key[:160],
        "lane": lane,
        "lane_rank": LANE_RANK[lane],
        "recipient_id": recipient_id,
        "payload": payload,
        "created_at": now,
        "not_before": not_before or now,
        "condition": condition,
    }
    dialect = conn.dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite_insert(outbox).values(values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    elif dialect == "postgresql":
        statement = pg_insert(outbox).values(values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        statement = insert(outbox).values(values)
    result = await conn.execute(statement)
    return bool(result.rowcount)


async def due(
    conn: AsyncConnection,
    *,
    now: dt.datetime,
    lanes: Collection[Lane],
    limit: int,
    exclude: Collection[int] = (),
) -> list[OutboxMessage]:
    """Pending messages whose time has come, urgent first, then in the order they were queued."""
    query = (
        select(
            outbox.c.id,
            outbox.c.dedupe_key,
            outbox.c.lane,
            outbox.c.recipient_id,
            outbox.c.payload,
            outbox.c.attempts,
            users.c.language,
            users.c.unreachable,
            outbox.c.condition,
            outbox.c.created_at,
        )
        .select_from(outbox.outerjoin(users, users.c.id == outbox.c.recipient_id))
        .where(
            outbox.c.status == "pending",
            outbox.c.lane_rank.in_([LANE_RANK[lane] for lane in lanes]),
            outbox.c.not_before <= now,
        )
        .order_by(outbox.c.lane_rank, outbox.c.id)
        .limit(limit)
    )
    if exclude:
        query = query.where(outbox.c.id.not_in(list(exclude)))
    rows = (await conn.execute(query)).all()
    return [
        OutboxMessage(
            id=row.id,
            dedupe_key=row.dedupe_key,
            lane=row.lane,
            recipient_id=row.recipient_id,
            payload=dict(row.payload),
            attempts=row.attempts,
            language=row.language,
            unreachable=bool(row.unreachable),
            condition=list(row.condition) if row.condition else None,
            created_at=row.created_at,
        )
        for row in rows
    ]


_STATUS_TABLES = {"wish": wishes, "tip": tips, "application": applications, "case": cases, "event": events}


async def unmet_condition(
    conn: AsyncConnection, condition: list[dict[str, Any]] | None, recipient_id: int, *, admin_ids: Collection[int]
) -> str | None:
    """Why a row's condition no longer holds (e.g. `wish 11 is confirmed`), or None when it still does.

    Checks (see `actions.notices`): `{"wish"|"tip"|"application": id, "in": [statuses]}`, `{"role": r}`
    or `{"role": [r, …]}` (the recipient still holds it, or one of them; admins, named by Telegram id in
    `admin_ids`, hold every role),
    `{"lacks_role": r}` (the recipient still does not hold it as granted), `{"claimer_of": wish id}` (the
    recipient holds the claim),
    `{"claimed": wish id, "by": person id}` (that person still holds it),
    `{"broadcast": id, "shows": [delivered, unreachable]}` (a progress edit: the broadcast is still going out
    and this is the latest tally recorded as shown, so an older edit never overwrites a newer one).
    """
    for check in condition or ():
        for kind, table in _STATUS_TABLES.items():
            if kind in check:
                status = (await conn.execute(select(table.c.status).where(table.c.id == int(check[kind])))).scalar()
                if status not in check["in"]:
                    return f"{kind} {check[kind]} is {status or 'gone'}"
        if "role" in check and recipient_id not in await admin_person_ids(conn, admin_ids):
            roles = check["role"] if isinstance(check["role"], list) else [check["role"]]
            held = (
                await conn.execute(
                    select(user_roles.c.role).where(
                        user_roles.c.user_id == recipient_id, user_roles.c.role.in_([str(r) for r in roles])
                    )
                )
            ).first()
            if held is None:
                return f"recipient no longer holds {check['role']}"
        if "lacks_role" in check:
            regained = (
                await conn.execute(
                    select(user_roles.c.role).where(
                        user_roles.c.user_id == recipient_id, user_roles.c.role == str(check["lacks_role"])
                    )
                )
            ).first()
            if regained is not None:
                return f"recipient holds {check['lacks_role']} again"
        if "claimer_of" in check:
            claimer = (
                await conn.execute(select(wishes.c.claimed_by).where(wishes.c.id == int(check["claimer_of"])))
            ).scalar()
            if claimer != recipient_id:
                return f"recipient no longer holds the claim on wish {check['claimer_of']}"
        if "claimed" in check:
            claimer = (
                await conn.execute(select(wishes.c.claimed_by).where(wishes.c.id == int(check["claimed"])))
            ).scalar()
            if claimer != int(check["by"]):
                return f"wish {check['claimed']} is no longer claimed by {check['by']}"
        if "broadcast" in check:
            shown = (
                await conn.execute(
                    select(broadcasts.c.delivered, broadcasts.c.unreachable).where(
                        broadcasts.c.id == int(check["broadcast"]), broadcasts.c.finished_at.is_(None)
                    )
                )
            ).first()
            if shown is None or [shown.delivered, shown.unreachable] != list(check["shows"]):
                return f"broadcast {check['broadcast']} progress moved on"
        if "event_clock" in check and (why := await _clock_unmet(conn, int(check["event_clock"]))) is not None:
            return why
        if ("activity_open" in check or "signed_up" in check) and (
            why := await _activity_unmet(conn, check, recipient_id)
        ) is not None:
            return why
    return None


async def _clock_unmet(conn: AsyncConnection, clock_id: int) -> str | None:
    """`{"event_clock": id}`: the event's clock is still unmet and its event open (issue 29)."""
    row = (
        await conn.execute(
            select(event_clocks.c.met_at, events.c.status)
            .join(events, events.c.id == event_clocks.c.event_id)
            .where(event_clocks.c.id == clock_id)
        )
    ).one_or_none()
    if row is None or row.status != "open":
        return f"event of clock {clock_id} is {row.status if row is not None else 'gone'}"
    return f"event clock {clock_id} was met" if row.met_at is not None else None


async def _activity_unmet(conn: AsyncConnection, check: dict[str, Any], recipient_id: int) -> str | None:
    """`{"activity_open": id}`: the activity is still published (not held or cancelled); `{"signed_up": id}`:
    that, and the recipient still holds a place on it (issue 14)."""
    activity_id = int(check.get("activity_open", check.get("signed_up", 0)))
    row = (
        await conn.execute(
            select(activities.c.status, activities.c.starts_at, activities.c.place).where(
                activities.c.id == activity_id
            )
        )
    ).one_or_none()
    if row is None or row.status != "published":
        return f"activity {activity_id} is {row.status if row is not None else 'gone'}"
    # `{"starts": iso, "place": text}`: the notice describes the activity as it was then; moved since → superseded.
    if "starts" in check and (
        row.starts_at.astimezone(dt.UTC).isoformat() != check["starts"] or row.place != check.get("place")
    ):
        return f"activity {activity_id} was moved"
    if "signed_up" in check:
        place = (
            await conn.execute(
                select(signups.c.status).where(signups.c.activity_id == activity_id, signups.c.user_id == recipient_id)
            )
        ).scalar()
        if place != "signed_up":
            return f"recipient is {place or 'not signed up'} on activity {activity_id}"
    return None


async def take_for_sending(
    conn: AsyncConnection, message: OutboxMessage, *, admin_ids: Collection[int]
) -> Literal["sending", "superseded", "gone"]:
    """In one transaction: re-check the row's condition and either mark it `sending` or `superseded`.

    "gone": the row is no longer pending (someone else took it).
    """
    reason = await unmet_condition(conn, message.condition, message.recipient_id, admin_ids=admin_ids)
    if reason is not None:
        result = await conn.execute(
            update(outbox)
            .where(outbox.c.id == message.id, outbox.c.status == "pending")
            .values(status="superseded", last_error=reason[:MAX_ERROR_LENGTH])
        )
        return "superseded" if result.rowcount else "gone"
    return "sending" if await mark_sending(conn, message.id) else "gone"


async def mark_sending(conn: AsyncConnection, message_id: int) -> bool:
    """The request is about to go out; False if the row is no longer pending (someone else took it)."""
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == "pending")
        .values(status="sending", attempts=outbox.c.attempts + 1)
    )
    return bool(result.rowcount)


async def skip_sending(conn: AsyncConnection, message_id: int, *, reason: str) -> None:
    """A row taken for sending turned out to have nothing to say (a live digest that is empty now)."""
    await conn.execute(
        update(outbox).where(outbox.c.id == message_id).values(status="skipped", last_error=reason[:MAX_ERROR_LENGTH])
    )


def _erased() -> Any:
    """The row bears /deleteme's mark (NULL-safe, so its negation holds for rows without an error)."""
    return func.coalesce(outbox.c.last_error, "") == ERASED


async def mark_sent(
    conn: AsyncConnection, message_id: int, *, now: dt.datetime, message_ids: Sequence[int] | None = None
) -> bool:
    """Telegram accepted the message (the channel's ids of what it became: `message_ids`); False (nothing
    recorded) when /deleteme erased a subject of the row while it was on the wire (it wrote `ERASED` on the row):
    the sender then takes the message back (`mark_withdrawn`).

    One conditional UPDATE, so it cannot interleave with the erasure: whichever commits second sees the other."""
    values: dict[str, Any] = {"status": "sent", "sent_at": now, "last_error": None}
    if message_ids:
        values["message_ids"] = list(message_ids)
    result = await conn.execute(update(outbox).where(outbox.c.id == message_id, ~_erased()).values(**values))
    return bool(result.rowcount)


# How many of a person's newest sent notices `sent_cards` looks through (Telegram lets a bot edit its messages for
# 48 hours anyway: far more than a member receives in that time).
SENT_CARDS_LOOKED_AT = 2000


async def sent_cards(conn: AsyncConnection, recipient_id: int, kind: str, ids: Iterable[int]) -> list[int]:
    """The channel's message ids of notices sent to the recipient that are about one of these records of `kind`
    (their payload's `about`), newest first: what to take back when those records are no longer theirs to see."""
    wanted = set(ids)
    rows = await conn.execute(
        select(outbox.c.payload, outbox.c.message_ids)
        .where(outbox.c.recipient_id == recipient_id, outbox.c.status == "sent", outbox.c.message_ids.is_not(None))
        .order_by(outbox.c.id.desc())
        .limit(SENT_CARDS_LOOKED_AT)
    )
    found: list[int] = []
    for payload, message_ids in rows:
        about = (payload or {}).get("about") or {}
        if wanted & set(about.get(kind) or ()) and not (payload or {}).get("replaces"):
            found += [int(m) for m in message_ids or ()]
    return found


async def mark_withdrawn(conn: AsyncConnection, message_id: int, *, now: dt.datetime, withdrawn: bool) -> None:
    """A message sent while its subject was being erased: taken back (`withdrawn`), or sent and still in the chat
    (the channel could not take it back; its row is blank like every erased notice)."""
    values = {"status": "withdrawn", "last_error": f"{ERASED}: withdrawn after sending"}
    if not withdrawn:
        values = {"status": "sent", "last_error": f"{ERASED}: sent, could not be withdrawn"}
    await conn.execute(update(outbox).where(outbox.c.id == message_id).values(sent_at=now, **values))


async def retry_later(
    conn: AsyncConnection, message_id: int, *, not_before: dt.datetime, error: str, count_attempt: bool = True
) -> None:
    """A transient failure: back to pending, not before the given time (dropped instead if /deleteme blanked it
    meanwhile: the blank is not worth sending)."""
    values: dict[str, Any] = {"status": "pending", "not_before": not_before, "last_error": error[:MAX_ERROR_LENGTH]}
    if not count_attempt:
        # A 429 is Telegram pacing us, not a failure of this message.
        values["attempts"] = outbox.c.attempts - 1
    await conn.execute(update(outbox).where(outbox.c.id == message_id, _erased()).values(status="dropped"))
    await conn.execute(update(outbox).where(outbox.c.id == message_id, ~_erased()).values(values))


async def mark_failed(conn: AsyncConnection, message_id: int, *, error: str) -> None:
    """Telegram refused the message for good, or its retries ran out."""
    await conn.execute(
        update(outbox).where(outbox.c.id == message_id).values(status="failed", last_error=error[:MAX_ERROR_LENGTH])
    )


async def drop_bulk_for(conn: AsyncConnection, recipient_id: int, *, reason: str) -> int:
    """Stop the pending bulk messages of someone who blocked the bot; returns how many were dropped."""
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.recipient_id == recipient_id, outbox.c.status == "pending", outbox.c.lane == "bulk")
        .values(status="dropped", last_error=reason[:MAX_ERROR_LENGTH])
    )
    return int(result.rowcount)


async def drop(conn: AsyncConnection, message_id: int, *, reason: str) -> None:
    """Give up on one message without sending it (e.g. bulk to someone unreachable)."""
    await conn.execute(
        update(outbox).where(outbox.c.id == message_id).values(status="dropped", last_error=reason[:MAX_ERROR_LENGTH])
    )


async def recover_interrupted(conn: AsyncConnection, *, resend_lanes: Iterable[Lane] = ("urgent",)) -> int:
    """After a crash, settle the rows that were on the wire when the process died.

    Nobody can tell whether Telegram got those requests. Urgent ones are sent again (a duplicate
    notice is better than a lost claim); the others are marked `unknown` and not resent, because
    the likeliest case is that they did arrive. Returns how many rows were left unresent.
    """
    resend_ranks = [LANE_RANK[lane] for lane in resend_lanes]
    await conn.execute(
        update(outbox)
        .where(outbox.c.status == "sending", outbox.c.lane_rank.in_(resend_ranks))
        .values(status="pending", last_error="interrupted; sent again")
    )
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.status == "sending")
        .values(status="unknown", last_error="interrupted while sending; not sent again")
    )
    return int(result.rowcount)


async def used_keys(conn: AsyncConnection, prefix: str) -> set[str]:
    """The dedupe keys already written that start with `prefix` (e.g. one digest occurrence's)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await conn.execute(select(outbox.c.dedupe_key).where(outbox.c.dedupe_key.like(f"{escaped}%", escape="\\")))
    return set(rows.scalars())


async def pending_recipients(conn: AsyncConnection, prefix: str) -> list[int]:
    """Who still has a pending row whose dedupe key starts with `prefix` (e.g. an invitation not yet sent)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await conn.execute(
        select(outbox.c.recipient_id)
        .where(outbox.c.dedupe_key.like(f"{escaped}%", escape="\\"), outbox.c.status == "pending")
        .order_by(outbox.c.recipient_id)
    )
    return [int(r) for r in dict.fromkeys(rows.scalars())]


async def keys_written(conn: AsyncConnection, keys: Sequence[str]) -> set[str]:
    """Which of these dedupe keys were already written (an indexed lookup of just these keys)."""
    found: set[str] = set()
    unique = sorted(set(keys))
    for start in range(0, len(unique), 500):
        rows = await conn.execute(
            select(outbox.c.dedupe_key).where(outbox.c.dedupe_key.in_(unique[start : start + 500]))
        )
        found.update(rows.scalars())
    return found


async def prune(conn: AsyncConnection, *, before: dt.datetime) -> int:
    """Forget finished rows created before `before` (their dedupe keys can no longer come up again)."""
    result = await conn.execute(
        delete(outbox).where(outbox.c.created_at < before, outbox.c.status.not_in(["pending", "sending"]))
    )
    return int(result.rowcount)


async def count_by_status(conn: AsyncConnection) -> dict[str, int]:
    """How many rows are in each status (for tests, the benchmark and /stats)."""
    rows = (await conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))).all()
    return {status: int(count) for status, count in rows}


async def pending_by_lane(conn: AsyncConnection) -> dict[str, int]:
    """How many notices wait to be sent, by lane (the health check and /metrics)."""
    rows = (
        await conn.execute(
            select(outbox.c.lane, func.count()).where(outbox.c.status == "pending").group_by(outbox.c.lane)
        )
    ).all()
    return {str(lane): int(count) for lane, count in rows}


async def unknown_count(conn: AsyncConnection) -> int:
    """How many notices a stop left on the wire, settled `unknown` and not sent again (`recover_interrupted`): each
    reached its person at most once, and nobody can tell whether it did (/metrics)."""
    return int((await conn.execute(select(func.count()).where(outbox.c.status == "unknown"))).scalar() or 0)


async def messages_for(conn: AsyncConnection, recipient_id: int) -> list[dict[str, Any]]:
    """Every outbox row of one person, oldest first (for tests and /mydata)."""
    rows = (
        await conn.execute(select(outbox).where(outbox.c.recipient_id == recipient_id).order_by(outbox.c.id))
    ).mappings()
    return [dict(row) for row in rows]
