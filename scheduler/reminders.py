"""Reminders about wishes: derived by the sweep from the wishes' own timestamps, written to the outbox once.

Each reminder's moment follows from the record (a claim's `due_at`, an open wish's `updated_at`, a
done wish's `done_at`), and its dedupe key names the wish and the occurrence it belongs to
(`remind:due:<wish id>:<claimed_at>`), so running the sweep twice or after a restart sends nothing
twice, and a re-claimed or re-done wish gets fresh reminders. Two steps change the wish as well as
telling people: a claim overdue by `AUTO_RELEASE_HOURS` is released and offered urgently to matching
volunteers, who alone may claim it for `OFFER_HOLD_MINUTES` after the offers arrive (a hold), and a
done wish nobody confirmed for twice `CONFIRM_ASK_HOURS` is confirmed. Both act as `SYSTEM` and write
their notices (and the hold) in the transaction that makes the change, so a crash loses neither.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from actions.buttons import Act, Button
from actions.messages import Lane, Notice, notice_to_payload
from handlers import followers
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import SYSTEM, WishStatus, wish_ref
from scheduler.calendar import in_quiet_hours
from storage import hot, outbox, users
from storage import volunteers as profiles
from storage import wishes as store
from storage.errors import Conflict, NotFound
from storage.wishes import Wish

if TYPE_CHECKING:
    from bot.context import BotData
    from bot.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "remind:"
# The volunteer hears this long before the promised time (only if they claimed before that moment).
REMIND_BEFORE_DUE = dt.timedelta(hours=3)
# Coordinators hear of an overdue claim this long after it fell due (or halfway to the auto-release).
COORDINATORS_AFTER_DUE = dt.timedelta(hours=12)
# A reminder whose moment passed longer ago than this is dropped (the bot was down): stale nagging helps
# no one, and it keeps every reminder well inside the 30 days the outbox remembers its keys.
CATCH_UP = dt.timedelta(days=7)
# How many matching volunteers an auto-released wish is offered to.
OFFER_LIMIT = 20
SCAN_LIMIT = 5000
WHEN_CHOICES = ("today", "tomorrow", "week")


@dataclass(frozen=True, slots=True)
class Reminder:
    """One message the sweep decided to send."""

    recipient_id: int
    notice: Notice
    key: str
    lane: Lane = "normal"


async def queue_due(services: BotData, now: dt.datetime) -> int:
    """Write every wish reminder that is due now and not yet written; returns how many were queued."""
    settings = services.settings
    queued = await release_overdue(services, now)
    queued += await confirm_silent(services, now)
    queued += await expire_unclaimed(services, now)
    async with services.db.read() as conn:
        used = await outbox.used_keys(conn, PREFIX)
        staff = await coordinators(conn, settings)
        reminders = [
            *await claim_reminders(conn, now, settings, staff),
            *await confirm_asks(conn, now, settings),
            *await stale_alerts(conn, now, settings, staff),
        ]
    fresh = [reminder for reminder in reminders if reminder.key not in used]
    if fresh:
        async with services.db.write() as conn:
            queued += await write(conn, fresh, now)
    return queued


async def write(conn: AsyncConnection, reminders: Iterable[Reminder], now: dt.datetime) -> int:
    """Queue reminders in the caller's transaction; returns how many were new."""
    queued = 0
    for reminder in reminders:
        queued += await outbox.enqueue(
            conn,
            recipient_id=reminder.recipient_id,
            payload=notice_to_payload(reminder.notice),
            lane=reminder.lane,
            dedupe_key=reminder.key,
            now=now,
        )
    return queued


async def coordinators(conn: AsyncConnection, settings: Settings) -> list[int]:
    """Coordinators (and admins who have written to the bot) whom the bot can reach."""
    found = await hot.alert_recipients(conn, (Role.COORDINATOR.value,), admin_ids=settings.admin_ids)
    return sorted(found)


def local(moment: dt.datetime, settings: Settings) -> str:
    """A moment as people read it: local month-day and time."""
    return moment.astimezone(settings.tz).strftime("%m-%d %H:%M")


def recent(moment: dt.datetime, now: dt.datetime) -> bool:
    """Whether a reminder's moment has come and is not older than the catch-up window."""
    return moment <= now < moment + CATCH_UP


def task_buttons(wish: Wish) -> tuple[tuple[Button, ...], ...]:
    """Done / Release, the same buttons as the volunteer's /mytasks (release asks for a reason)."""
    return (
        (Button("task.button.done", Act.TASK_DONE, wish.id), Button("task.button.release", Act.TASK_RELEASE, wish.id)),
    )


# --- Claims: before the due time, when overdue, coordinators, auto-release ------------------------------------


async def claim_reminders(
    conn: AsyncConnection, now: dt.datetime, settings: Settings, staff: list[int]
) -> list[Reminder]:
    """Due soon → the volunteer; overdue → the volunteer with Release; later → the coordinators."""
    reminders: list[Reminder] = []
    coordinators_after = min(COORDINATORS_AFTER_DUE, dt.timedelta(hours=settings.auto_release_hours) / 2)
    for wish in await store.claimed_overdue(conn, now + REMIND_BEFORE_DUE + dt.timedelta(minutes=1), limit=SCAN_LIMIT):
        if wish.claimed_by is None or wish.claimed_at is None or wish.due_at is None:
            continue
        claim = f"{wish.id}:{wish.claimed_at.isoformat()}"
        values: dict[str, str | int | float] = {"ref": wish_ref(wish.ref_no), "due": local(wish.due_at, settings)}
        soon = wish.due_at - REMIND_BEFORE_DUE
        if wish.due_at > now:
            if wish.claimed_at < soon:
                notice = Notice("remind.due_soon", values, task_buttons(wish))
                reminders.append(Reminder(wish.claimed_by, notice, f"{PREFIX}soon:{claim}"))
            continue
        if recent(wish.due_at, now):
            notice = Notice("remind.overdue", values, task_buttons(wish))
            reminders.append(Reminder(wish.claimed_by, notice, f"{PREFIX}due:{claim}"))
        if recent(wish.due_at + coordinators_after, now):
            name = await first_name(conn, wish.claimed_by)
            release_at = wish.due_at + dt.timedelta(hours=settings.auto_release_hours)
            notice = Notice(
                "remind.overdue_coord",
                {**values, "name": name, "release": local(release_at, settings)},
            )
            reminders += [Reminder(user_id, notice, f"{PREFIX}late:{claim}:{user_id}") for user_id in staff]
    return reminders


async def first_name(conn: AsyncConnection, user_id: int) -> str:
    """The name the bot knows a person by ("—" if it does not)."""
    try:
        return (await users.get_user(conn, user_id)).first_name
    except NotFound:
        return "—"


async def release_overdue(services: BotData, now: dt.datetime) -> int:
    """Release claims overdue by `auto_release_hours` and offer each wish to matching volunteers at once."""
    settings = services.settings
    cutoff = now - dt.timedelta(hours=settings.auto_release_hours)
    async with services.db.read() as conn:
        overdue = await store.claimed_overdue(conn, cutoff, limit=SCAN_LIMIT)
    queued = 0
    for stale in overdue:
        if stale.claimed_by is None or stale.claimed_at is None:
            continue
        async with services.db.write() as conn:
            offered = await offer_to(conn, stale, exclude={stale.claimed_by, stale.resident_id})
            try:
                wish = await lifecycle.release_wish(
                    conn,
                    stale.id,
                    actor=SYSTEM,
                    now=now,
                    reason=f"auto-release: overdue since {stale.due_at}",
                    hold_for=offered,
                    held_until=hold_ends(now, settings),
                )
            except Conflict:
                continue  # the volunteer finished or released it meanwhile
            reminders = await release_notices(conn, stale, wish, settings, now, offered=offered)
            queued += await write(conn, reminders, now)
        log.info("auto-released %s (claimed by %s)", wish_ref(wish.ref_no), stale.claimed_by)
    return queued


def hold_ends(now: dt.datetime, settings: Settings) -> dt.datetime:
    """When the hold on an auto-released wish ends: `offer_hold_minutes` after the offers can arrive —
    now, or in quiet hours the end of them (the offers wait for the morning, so the hold does too)."""
    arrive = now
    if in_quiet_hours(now, settings.quiet_hours_start, settings.quiet_hours_end, settings.tz):
        local = now.astimezone(settings.tz)
        morning = dt.datetime.combine(local.date(), settings.quiet_hours_end, tzinfo=settings.tz)
        if morning <= local:
            morning += dt.timedelta(days=1)
        arrive = morning.astimezone(dt.UTC)
    return arrive + dt.timedelta(minutes=settings.offer_hold_minutes)


async def release_notices(
    conn: AsyncConnection,
    claimed: Wish,
    wish: Wish,
    settings: Settings,
    now: dt.datetime,
    *,
    offered: list[int] | None = None,
) -> list[Reminder]:
    """After an auto-release: the volunteer and the resident are told, matching volunteers are offered it
    (`offered`, or those `offer_to` finds), told until when it is reserved for them if it is held.

    The offers are urgent (ahead of any digest), except at night: a claim lapsing at 23:59 two days
    later must not wake twenty volunteers, so in quiet hours they wait for the morning like the rest.
    """
    assert claimed.claimed_by is not None
    assert claimed.claimed_at is not None
    ref = wish_ref(wish.ref_no)
    claim = f"{wish.id}:{claimed.claimed_at.isoformat()}"
    reminders = [
        Reminder(
            claimed.claimed_by,
            Notice("remind.auto_released", {"ref": ref, "hours": settings.auto_release_hours}),
            f"{PREFIX}released:{claim}",
        ),
        Reminder(
            wish.resident_id,
            Notice("wish.notice_released", {"ref": ref}),
            f"wish-released:{wish.id}:{wish.updated_at.isoformat()}",
        ),
    ]
    if offered is None:
        offered = await offer_to(conn, wish, exclude={claimed.claimed_by, wish.resident_id})
    values: dict[str, str | int | float] = {
        "ref": ref,
        "category_key": f"category.{wish.category}",
        "area": wish.area or "—",
        "description": wish.description[:200],
    }
    if lifecycle.is_held(wish, now):
        assert wish.held_until is not None
        values["until"] = wish.held_until.astimezone(settings.tz).strftime("%H:%M")
    offer = Notice(
        "remind.offer_held" if "until" in values else "remind.offer",
        values,
        (tuple(Button(f"task.button.claim_{when}", Act.TASK_CLAIM, wish.id, when) for when in WHEN_CHOICES),),
    )
    quiet = in_quiet_hours(now, settings.quiet_hours_start, settings.quiet_hours_end, settings.tz)
    lane: Lane = "normal" if quiet else "urgent"
    reminders += [Reminder(user_id, offer, f"{PREFIX}offer:{claim}:{user_id}", lane) for user_id in offered]
    return reminders


async def offer_to(conn: AsyncConnection, wish: Wish, *, exclude: set[int]) -> list[int]:
    """Volunteers to offer a released wish: its category in its area, or anywhere if no one is there."""
    nearby = await profiles.volunteers_matching(conn, wish.category, area=wish.area) if wish.area else []
    candidates = nearby or await profiles.volunteers_matching(conn, wish.category)
    chosen: list[int] = []
    for volunteer in candidates:
        if volunteer.user_id not in exclude and volunteer.user_id not in chosen:
            chosen.append(volunteer.user_id)
    return chosen[:OFFER_LIMIT]


# --- Done but not confirmed: ask once, then confirm ----------------------------------------------------------


async def confirm_asks(conn: AsyncConnection, now: dt.datetime, settings: Settings) -> list[Reminder]:
    """A wish done `confirm_ask_hours` ago and not confirmed: the resident is asked once."""
    ask_after = dt.timedelta(hours=settings.confirm_ask_hours)
    reminders = []
    for wish in await store.wishes_in_status(
        conn, WishStatus.DONE, updated_before=now - ask_after + dt.timedelta(minutes=1), limit=SCAN_LIMIT
    ):
        if wish.done_at is None or not recent(wish.done_at + ask_after, now):
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
        reminders.append(Reminder(wish.resident_id, notice, f"{PREFIX}confirm:{wish.id}:{wish.done_at.isoformat()}"))
    return reminders


async def confirm_silent(services: BotData, now: dt.datetime) -> int:
    """Confirm wishes done twice `confirm_ask_hours` ago that the resident never answered; tell both sides."""
    settings = services.settings
    cutoff = now - 2 * dt.timedelta(hours=settings.confirm_ask_hours)
    async with services.db.read() as conn:
        done = await store.wishes_in_status(
            conn, WishStatus.DONE, updated_before=cutoff + dt.timedelta(minutes=1), limit=SCAN_LIMIT
        )
    queued = 0
    for stale in done:
        if stale.done_at is None or stale.done_at > cutoff:
            continue
        async with services.db.write() as conn:
            try:
                wish = await lifecycle.confirm_wish(conn, stale.id, actor=SYSTEM, now=now)
            except Conflict:
                continue  # the resident answered meanwhile
            values: dict[str, str | int | float] = {
                "ref": wish_ref(wish.ref_no),
                "hours": f"{wish.hours or 0:g}",
            }
            reminders = [
                Reminder(
                    wish.resident_id,
                    Notice("remind.auto_confirmed", values),
                    f"{PREFIX}confirmed:{wish.id}:{stale.done_at.isoformat()}",
                )
            ]
            if wish.claimed_by is not None:
                # The key the resident's own confirmation uses, so the volunteer never hears it twice.
                notice = Notice("remind.auto_confirmed_volunteer", values)
                reminders.append(Reminder(wish.claimed_by, notice, f"wish-confirmed:{wish.id}"))
            reminders += [Reminder(*told) for told in await followers.follower_notices(conn, wish)]
            queued += await write(conn, reminders, now)
        log.info("auto-confirmed %s", wish_ref(wish.ref_no))
    return queued


async def expire_unclaimed(services: BotData, now: dt.datetime) -> int:
    """Expire open wishes nobody claimed for `wish_expiry_days`; tell the resident and the followers."""
    settings = services.settings
    cutoff = now - dt.timedelta(days=settings.wish_expiry_days)
    async with services.db.read() as conn:
        stale = await store.wishes_in_status(
            conn, WishStatus.OPEN, updated_before=cutoff + dt.timedelta(minutes=1), limit=SCAN_LIMIT
        )
    queued = 0
    for old in stale:
        if old.updated_at > cutoff:
            continue
        async with services.db.write() as conn:
            try:
                wish = await lifecycle.expire_wish(
                    conn, old.id, now=now, note=f"unclaimed for {settings.wish_expiry_days} days"
                )
            except Conflict:
                continue  # claimed or cancelled meanwhile
            values: dict[str, str | int | float] = {
                "ref": wish_ref(wish.ref_no),
                "days": settings.wish_expiry_days,
            }
            reminders = [Reminder(wish.resident_id, Notice("remind.expired", values), f"{PREFIX}expired:{wish.id}")]
            reminders += [Reminder(*told) for told in await followers.follower_notices(conn, wish)]
            queued += await write(conn, reminders, now)
        log.info("expired %s", wish_ref(wish.ref_no))
    return queued


# --- Coordinators: unclaimed open wishes, wishes waiting for review -----------------------------------------


async def stale_alerts(conn: AsyncConnection, now: dt.datetime, settings: Settings, staff: list[int]) -> list[Reminder]:
    """Open and unclaimed for `unclaimed_alert_hours` (with a whistle), or pending for `pending_review_alert_hours`."""
    if not staff:
        return []
    reminders: list[Reminder] = []
    unclaimed = dt.timedelta(hours=settings.unclaimed_alert_hours)
    for wish in await store.wishes_in_status(
        conn, WishStatus.OPEN, updated_before=now - unclaimed + dt.timedelta(minutes=1), limit=SCAN_LIMIT
    ):
        if not recent(wish.updated_at + unclaimed, now):
            continue
        notice = Notice(
            "remind.unclaimed",
            {
                "ref": wish_ref(wish.ref_no),
                "category_key": f"category.{wish.category}",
                "area": wish.area or "—",
                "hours": settings.unclaimed_alert_hours,
            },
            ((Button("remind.button.whistle", Act.WHISTLE, wish.id),),),
        )
        since = wish.updated_at.isoformat()
        reminders += [Reminder(user_id, notice, f"{PREFIX}open:{wish.id}:{since}:{user_id}") for user_id in staff]
    pending = dt.timedelta(hours=settings.pending_review_alert_hours)
    for wish in await store.wishes_in_status(
        conn, WishStatus.PENDING_REVIEW, updated_before=now - pending + dt.timedelta(minutes=1), limit=SCAN_LIMIT
    ):
        if not recent(wish.updated_at + pending, now):
            continue
        notice = Notice(
            "remind.pending",
            {"ref": wish_ref(wish.ref_no), "hours": settings.pending_review_alert_hours},
            ((Button("pending.button.open_pending", Act.PENDING_LIST),),),
        )
        reminders += [Reminder(user_id, notice, f"{PREFIX}review:{wish.id}:{user_id}") for user_id in staff]
    return reminders
