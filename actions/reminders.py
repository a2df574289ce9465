"""Reminders about wishes: what the sweep tells people when time passes, derived from the wishes' own timestamps.

Each reminder's moment follows from the record (a claim's `due_at`, an open wish's `updated_at`, a done
wish's `done_at`), and its dedupe key names the wish and the occurrence it belongs to
(`remind:due:<wish id>:<claimed_at>`), so running the sweep twice or after a restart sends nothing twice,
and a re-claimed or re-done wish gets fresh reminders. None of them changes a wish (the ones that do are
in `actions.lapses`); each is written under the condition that makes it true, so one waiting out the
quiet hours is dropped as superseded if the wish moved on meanwhile.

Effects of `remind(env, now)`, one transaction for all that fell due:
  due soon (`REMIND_BEFORE_DUE` before a claim's due time, if claimed before that) → the volunteer, with
    Done / Release; while the wish is claimed and they hold the claim.
  overdue (at the due time) → the volunteer, with Done / Release; while claimed and they hold the claim.
  late (`COORDINATORS_AFTER_DUE` after the due time, or halfway to the auto-release) → every coordinator,
    saying when it will be released; while the wish is claimed and they are coordinators.
  confirm ask (`confirm_ask_hours` after done) → the resident, with Confirm / Not yet; while done.
  unclaimed (`unclaimed_alert_hours` open) → every coordinator, with Whistle; while open and coordinator.
  pending review (`pending_review_alert_hours` waiting) → every coordinator, with a button to /pending;
    while pending review and coordinator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Lane, Notice, Value
from rules.roles import Role
from rules.wishes import WishStatus, wish_ref
from storage import hot, outbox, users, whistles
from storage import wishes as store
from storage.errors import NotFound
from storage.wishes import Wish

if TYPE_CHECKING:
    from core.settings import Settings

PREFIX = "remind:"
# The volunteer hears this long before the promised time (only if they claimed before that moment).
REMIND_BEFORE_DUE = dt.timedelta(hours=3)
# Coordinators hear of an overdue claim this long after it fell due (or halfway to the auto-release).
COORDINATORS_AFTER_DUE = dt.timedelta(hours=12)
# A reminder whose moment passed longer ago than this is dropped (the bot was down): stale nagging helps
# no one, and it keeps every reminder well inside the 30 days the outbox remembers its keys.
CATCH_UP = dt.timedelta(days=7)
SCAN_LIMIT = 5000
# A sweep that knows when the previous one looked reads only the moments since then, less this margin.
OVERLAP = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Reminder:
    """One notice the sweep decided to write: to whom, under which key, lane and condition."""

    recipient_id: int
    notice: Notice
    key: str
    lane: Lane = "normal"
    condition: tuple[notices.Check, ...] = field(default=())


async def remind(env: Env, now: dt.datetime, *, since: dt.datetime | None = None) -> int:
    """Write every wish reminder that is due now and not yet written; returns how many were queued.

    `since`: when the previous sweep of this process looked; then only the reminders whose moment came
    after it (less `OVERLAP`) are read, else (the first sweep) all within the `CATCH_UP` window. Every
    query reads its moments through the (status, due_at) and (status, updated_at) indexes."""
    settings = env.settings
    start = now - CATCH_UP if since is None or since > now else max(now - CATCH_UP, since - OVERLAP)
    async with env.db.read() as conn:
        staff = Staff(settings)
        due = [
            *await claim_reminders(conn, now, settings, staff, start=start),
            *await confirm_asks(conn, now, settings, start=start),
            *await stale_alerts(conn, now, settings, staff, start=start),
        ]
        # Only the keys of what is due now, not every reminder key ever written.
        used = await outbox.keys_written(conn, [reminder.key for reminder in due]) if due else set()
    fresh = [reminder for reminder in due if reminder.key not in used]
    if not fresh:
        return 0
    async with env.db.write() as conn:
        queued = await write(conn, fresh, now)
    env.wake()
    return queued


async def write(conn: AsyncConnection, reminders: Iterable[Reminder], now: dt.datetime) -> int:
    """Queue reminders in the caller's transaction; returns how many were new."""
    queued = 0
    for reminder in reminders:
        queued += await notices.queue(
            conn,
            reminder.recipient_id,
            reminder.notice,
            now=now,
            lane=reminder.lane,
            dedupe_key=reminder.key,
            condition=reminder.condition,
        )
    return queued


async def coordinators(conn: AsyncConnection, settings: Settings) -> list[int]:
    """Coordinators (and admins who have written to the bot) whom the bot can reach."""
    found = await hot.alert_recipients(conn, (Role.COORDINATOR.value,), admin_ids=settings.admin_ids)
    return sorted(found)


class Staff:
    """The coordinators, read once and only when a reminder for them fell due."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.found: list[int] | None = None

    async def ids(self, conn: AsyncConnection) -> list[int]:
        if self.found is None:
            self.found = await coordinators(conn, self.settings)
        return self.found


def local(moment: dt.datetime, settings: Settings) -> str:
    """A moment as people read it: local month-day and time."""
    return moment.astimezone(settings.tz).strftime("%m-%d %H:%M")


def recent(moment: dt.datetime, now: dt.datetime, start: dt.datetime | None = None) -> bool:
    """Whether a reminder's moment has come and is not older than the catch-up window (nor than `start`)."""
    return max(now - CATCH_UP, start or now - CATCH_UP) < moment <= now


async def first_name(conn: AsyncConnection, user_id: int) -> str:
    """The name the bot knows a person by ("—" if it does not)."""
    try:
        return (await users.get_user(conn, user_id)).first_name
    except NotFound:
        return "—"


def task_buttons(wish: Wish) -> tuple[tuple[Button, ...], ...]:
    """Done / Release, the same buttons as the volunteer's /mytasks (release asks for a reason)."""
    return (
        (Button("task.button.done", Act.TASK_DONE, wish.id), Button("task.button.release", Act.TASK_RELEASE, wish.id)),
    )


async def claim_reminders(
    conn: AsyncConnection, now: dt.datetime, settings: Settings, staff: Staff, *, start: dt.datetime
) -> list[Reminder]:
    """Due soon → the volunteer; overdue → the volunteer with Release; later → the coordinators."""
    reminders: list[Reminder] = []
    coordinators_after = min(COORDINATORS_AFTER_DUE, dt.timedelta(hours=settings.auto_release_hours) / 2)
    # The claims one of whose three moments (due_at - REMIND_BEFORE_DUE, due_at, due_at + coordinators_after)
    # lies in (start, now]: a range of due times per moment, each read through the (status, due_at) index.
    minute = dt.timedelta(minutes=1)
    found: dict[int, Wish] = {}
    for offset in (-REMIND_BEFORE_DUE, dt.timedelta(0), coordinators_after):
        for claimed in await store.claimed_overdue(
            conn, now - offset + minute, limit=SCAN_LIMIT, since=start - offset - minute
        ):
            found.setdefault(claimed.id, claimed)
    for wish in sorted(found.values(), key=lambda w: (w.due_at or now, w.id)):
        if wish.claimed_by is None or wish.claimed_at is None or wish.due_at is None:
            continue
        claim = f"{wish.id}:{wish.claimed_at.isoformat()}"
        values: dict[str, Value] = {"ref": wish_ref(wish.ref_no), "due": local(wish.due_at, settings)}
        still_theirs = (notices.wish_in(wish.id, WishStatus.CLAIMED), notices.holds_claim(wish.id))
        if wish.due_at > now:
            if wish.claimed_at < wish.due_at - REMIND_BEFORE_DUE:
                notice = Notice("remind.due_soon", values, task_buttons(wish))
                reminders.append(Reminder(wish.claimed_by, notice, f"{PREFIX}soon:{claim}", condition=still_theirs))
            continue
        if recent(wish.due_at, now):
            notice = Notice("remind.overdue", values, task_buttons(wish))
            reminders.append(Reminder(wish.claimed_by, notice, f"{PREFIX}due:{claim}", condition=still_theirs))
        if recent(wish.due_at + coordinators_after, now):
            staff_ids = await staff.ids(conn)
            release_at = wish.due_at + dt.timedelta(hours=settings.auto_release_hours)
            notice = Notice(
                "remind.overdue_coord",
                {**values, "name": await first_name(conn, wish.claimed_by), "release": local(release_at, settings)},
            )
            still_late = (notices.wish_in(wish.id, WishStatus.CLAIMED), notices.holds_role(Role.COORDINATOR.value))
            reminders += [
                Reminder(user_id, notice, f"{PREFIX}late:{claim}:{user_id}", condition=still_late)
                for user_id in staff_ids
            ]
    return reminders


async def confirm_asks(
    conn: AsyncConnection, now: dt.datetime, settings: Settings, *, start: dt.datetime
) -> list[Reminder]:
    """A wish done `confirm_ask_hours` ago and not confirmed: the resident is asked once."""
    ask_after = dt.timedelta(hours=settings.confirm_ask_hours)
    reminders = []
    for wish in await store.wishes_in_status(
        conn,
        WishStatus.DONE,
        updated_before=now - ask_after + dt.timedelta(minutes=1),
        updated_since=start - ask_after,
        limit=SCAN_LIMIT,
    ):
        if wish.done_at is None or not recent(wish.done_at + ask_after, now, start):
            continue
        name = await first_name(conn, wish.claimed_by) if wish.claimed_by is not None else "—"
        notice = Notice(
            "remind.confirm_ask",
            {
                "ref": wish_ref(wish.ref_no),
                "name": name,
                "done": local(wish.done_at, settings),
                "auto": local(wish.done_at + 2 * ask_after, settings),
            },
            (
                (
                    Button("wish.button.confirm", Act.WISH_CONFIRM, wish.id),
                    Button("wish.button.not_yet", Act.WISH_NOT_YET, wish.id),
                ),
            ),
        )
        key = f"{PREFIX}confirm:{wish.id}:{wish.done_at.isoformat()}"
        reminders.append(
            Reminder(wish.resident_id, notice, key, condition=(notices.wish_in(wish.id, WishStatus.DONE),))
        )
    return reminders


async def stale_alerts(
    conn: AsyncConnection, now: dt.datetime, settings: Settings, staff: Staff, *, start: dt.datetime
) -> list[Reminder]:
    """Open and unclaimed for `unclaimed_alert_hours` (with a whistle), or pending for `pending_review_alert_hours`."""
    reminders: list[Reminder] = []
    coordinator = notices.holds_role(Role.COORDINATOR.value)
    unclaimed = dt.timedelta(hours=settings.unclaimed_alert_hours)
    for wish in await store.wishes_in_status(
        conn,
        WishStatus.OPEN,
        updated_before=now - unclaimed + dt.timedelta(minutes=1),
        updated_since=start - unclaimed,
        limit=SCAN_LIMIT,
    ):
        if not recent(wish.updated_at + unclaimed, now, start) or not await staff.ids(conn):
            continue
        values: dict[str, Value] = {
            "ref": wish_ref(wish.ref_no),
            "category_key": f"category.{wish.category}",
            "area": wish.area or "—",
            "hours": settings.unclaimed_alert_hours,
        }
        blown = await whistles.latest_unanswered(conn, wish.id)
        if blown is not None and blown.created_at > now - unclaimed:
            # Whistled lately: the volunteers were called already; suggesting the whistle again would be untrue.
            notice = Notice("remind.unclaimed_whistled", {**values, "count": blown.sent_count})
        else:
            notice = Notice("remind.unclaimed", values, ((Button("remind.button.whistle", Act.WHISTLE, wish.id),),))
        since = wish.updated_at.isoformat()
        still_open = (notices.wish_in(wish.id, WishStatus.OPEN), coordinator)
        reminders += [
            Reminder(user_id, notice, f"{PREFIX}open:{wish.id}:{since}:{user_id}", condition=still_open)
            for user_id in await staff.ids(conn)
        ]
    pending = dt.timedelta(hours=settings.pending_review_alert_hours)
    for wish in await store.wishes_in_status(
        conn,
        WishStatus.PENDING_REVIEW,
        updated_before=now - pending + dt.timedelta(minutes=1),
        updated_since=start - pending,
        limit=SCAN_LIMIT,
    ):
        if not recent(wish.updated_at + pending, now, start) or not await staff.ids(conn):
            continue
        notice = Notice(
            "remind.pending",
            {"ref": wish_ref(wish.ref_no), "hours": settings.pending_review_alert_hours},
            ((Button("pending.button.open_pending", Act.PENDING_LIST),),),
        )
        still_pending = (notices.wish_in(wish.id, WishStatus.PENDING_REVIEW), coordinator)
        reminders += [
            Reminder(user_id, notice, f"{PREFIX}review:{wish.id}:{user_id}", condition=still_pending)
            for user_id in await staff.ids(conn)
        ]
    return reminders
