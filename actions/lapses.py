"""What the system does when people let time lapse: it releases, confirms or expires a wish as `SYSTEM`.

The sweep calls `lapse_due` every minute; it finds the wishes whose time has come and moves each one
with its own action, which re-reads the wish under a row lock and does nothing if it moved on
meanwhile. Each action writes the change, its event and every notice in one transaction, so a crash
loses none of them; every notice is keyed by the wish and the occurrence, so nothing is told twice.

Effects, per action:
  auto_release (a claim overdue by `auto_release_hours`): wish claimed→open, event "auto-release: …";
    the wish held for `offer_hold_minutes` after the offers can arrive for the volunteers it is offered
    to (matching its category, in its area or else anywhere, up to `OFFER_LIMIT`, not the one who let it
    lapse nor the resident); notices: the volunteer who let it lapse (while the wish is not withdrawn),
    the resident "open again" (while open), an offer with the claim buttons to each matching volunteer
    (urgent, or normal in quiet hours so the offers wait for the morning; while open); the cards that
    showed the lapsed volunteer the contact details withdrawn (`actions.tasks.withdraw_cards`).
  auto_confirm (done, unconfirmed for twice `confirm_ask_hours`): wish done→confirmed (the hours count);
    notices: the resident and the volunteer (the volunteer under the key the resident's own confirmation
    uses, so they never hear it twice), the followers (all while confirmed).
  expire (open, unclaimed for `wish_expiry_days`): wish open→expired; notices: the resident and the
    followers (while expired).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.followers import tell_followers
from actions.messages import Lane, Notice, Value
from actions.reminders import PREFIX, SCAN_LIMIT, Reminder, write
from actions.tasks import withdraw_cards
from rules import wishes as lifecycle
from rules.quiet_hours import heard_from, in_quiet_hours
from rules.wishes import SYSTEM, WishStatus, said, wish_ref
from storage import volunteers as profiles
from storage import wishes as store
from storage.errors import NotFound
from storage.wishes import Wish

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

# How many matching volunteers an auto-released wish is offered to.
OFFER_LIMIT = 20
WHEN_CHOICES = ("today", "tomorrow", "week")
# A wish the volunteer who let it lapse still hears about: anything but withdrawn.
NOT_WITHDRAWN = (WishStatus.OPEN, WishStatus.CLAIMED, WishStatus.DONE, WishStatus.CONFIRMED)
# Done and open wishes whose time ran out are read this many at a time, oldest change first: a small LIMIT
# keeps PostgreSQL on the (status, updated_at) index, stopping at the first wish not due (with a large one it
# reads every wish of the status and sorts them, as most wishes changed long ago); a backlog takes more batches.
BATCH = 200


@dataclass(frozen=True, slots=True)
class Lapsed:
    """What an action of the system did: the wish as it is now and how many notices it wrote."""

    wish: Wish
    queued: int


# --- Claims overdue: release and offer ----------------------------------------------------------------


async def lapse_due(env: Env, now: dt.datetime) -> int:
    """Release, confirm and expire every wish whose time ran out; returns how many notices were queued.

    The three kinds are read together (one read transaction, a `BATCH` of each, each through its index:
    claims by (status, due_at), done and open wishes by (status, updated_at)), then each wish is moved by
    its own action; a full batch is followed by another, up to `SCAN_LIMIT` wishes."""
    settings = env.settings
    release_by = now - dt.timedelta(hours=settings.auto_release_hours)
    confirm_by = now - 2 * dt.timedelta(hours=settings.confirm_ask_hours)
    expire_by = now - dt.timedelta(days=settings.wish_expiry_days)
    minute = dt.timedelta(minutes=1)
    queued = 0
    seen: set[int] = set()
    for _ in range(SCAN_LIMIT // BATCH):
        async with env.db.read() as conn:
            found = (
                await store.claimed_overdue(conn, release_by, limit=BATCH),
                await store.wishes_in_status(conn, WishStatus.DONE, updated_before=confirm_by + minute, limit=BATCH),
                await store.wishes_in_status(conn, WishStatus.OPEN, updated_before=expire_by + minute, limit=BATCH),
            )
        fresh = [wish for batch in found for wish in batch if wish.id not in seen]
        for wish in fresh:
            seen.add(wish.id)
            moved: Lapsed | None = None
            if wish.status == WishStatus.CLAIMED:
                moved = await auto_release(env, wish.id, now=now)
            elif wish.status == WishStatus.DONE and wish.done_at is not None and wish.done_at <= confirm_by:
                moved = await auto_confirm(env, wish.id, now=now)
            elif wish.status == WishStatus.OPEN and wish.updated_at <= expire_by:
                moved = await expire(env, wish.id, now=now)
            queued += moved.queued if moved else 0
        if not fresh or all(len(batch) < BATCH for batch in found):
            break
    return queued


async def auto_release(env: Env, wish_id: int, *, now: dt.datetime) -> Lapsed | None:
    """Release one claim overdue by `auto_release_hours` and offer the wish at once to matching
    volunteers, held for them; None if it is no longer an overdue claim (finished, released meanwhile)."""
    settings = env.settings
    async with env.db.write() as conn:
        claimed = await locked(conn, wish_id)
        cutoff = now - dt.timedelta(hours=settings.auto_release_hours)
        if (
            claimed is None
            or claimed.status != WishStatus.CLAIMED
            or claimed.claimed_by is None
            or claimed.due_at is None
            or claimed.due_at > cutoff
        ):
            return None  # finished, released or re-promised meanwhile
        offered = await offer_to(conn, claimed, exclude={claimed.claimed_by, claimed.resident_id})
        wish = await lifecycle.release_wish(
            conn,
            wish_id,
            actor=SYSTEM,
            now=now,
            reason=f"auto-release: overdue since {claimed.due_at}",
            hold_for=offered,
            held_until=hold_ends(now, settings),
        )
        queued = await write(conn, await release_notices(conn, claimed, wish, settings, now, offered=offered), now)
        await withdraw_cards(conn, wish, claimed.claimed_by, now=now)
    env.wake()
    log.info("auto-released %s (claimed by %s)", wish_ref(wish.ref_no), claimed.claimed_by)
    return Lapsed(wish, queued)


async def locked(conn: AsyncConnection, wish_id: int) -> Wish | None:
    """The wish, its row locked for this transaction (PostgreSQL); None if it is gone."""
    try:
        await store.lock_wish(conn, wish_id)
        return await store.get_wish(conn, wish_id)
    except NotFound:
        return None


def hold_ends(now: dt.datetime, settings: Settings) -> dt.datetime:
    """When the hold on an auto-released wish ends: `offer_hold_minutes` after the offers can arrive —
    now, or in quiet hours the end of them (the offers wait for the morning, so the hold does too)."""
    arrive = heard_from(now, settings.quiet_hours_start, settings.quiet_hours_end, settings.tz)
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
    if claimed.claimed_by is None or claimed.claimed_at is None:
        raise ValueError(f"wish {claimed.id} was not claimed")
    ref = wish_ref(wish.ref_no)
    claim = f"{wish.id}:{claimed.claimed_at.isoformat()}"
    still_open = (notices.wish_in(wish.id, WishStatus.OPEN),)
    reminders = [
        Reminder(
            claimed.claimed_by,
            Notice("remind.auto_released", {"ref": ref, "hours": settings.auto_release_hours}),
            f"{PREFIX}released:{claim}",
            condition=(notices.wish_in(wish.id, *NOT_WITHDRAWN),),
        ),
        Reminder(
            wish.resident_id,
            Notice("wish.notice_released", {"ref": ref}),
            f"wish-released:{wish.id}:{wish.updated_at.isoformat()}",
            condition=still_open,
        ),
    ]
    if offered is None:
        offered = await offer_to(conn, wish, exclude={claimed.claimed_by, wish.resident_id})
    values: dict[str, Value] = {
        "ref": ref,
        "category_key": f"category.{wish.category}",
        "area": wish.area or "—",
        "description": said(wish)[:200],
    }
    if lifecycle.is_held(wish, now) and wish.held_until is not None:
        values["until"] = wish.held_until.astimezone(settings.tz).strftime("%H:%M")
    offer = Notice(
        "remind.offer_held" if "until" in values else "remind.offer",
        values,
        (tuple(Button(f"task.button.claim_{when}", Act.TASK_CLAIM, wish.id, when) for when in WHEN_CHOICES),),
    )
    quiet = in_quiet_hours(now, settings.quiet_hours_start, settings.quiet_hours_end, settings.tz)
    lane: Lane = "normal" if quiet else "urgent"
    reminders += [Reminder(user_id, offer, f"{PREFIX}offer:{claim}:{user_id}", lane, still_open) for user_id in offered]
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


# --- Done but never confirmed: confirm ------------------------------------------------------------------


async def auto_confirm(env: Env, wish_id: int, *, now: dt.datetime) -> Lapsed | None:
    """Confirm one wish done twice `confirm_ask_hours` ago; tell the resident, the volunteer and the
    followers. None if it is no longer such a wish (the resident answered meanwhile)."""
    cutoff = now - 2 * dt.timedelta(hours=env.settings.confirm_ask_hours)
    async with env.db.write() as conn:
        done = await locked(conn, wish_id)
        if done is None or done.status != WishStatus.DONE or done.done_at is None or done.done_at > cutoff:
            return None
        wish = await lifecycle.confirm_wish(conn, wish_id, actor=SYSTEM, now=now)
        values: dict[str, Value] = {"ref": wish_ref(wish.ref_no), "hours": f"{wish.hours or 0:g}"}
        confirmed = (notices.wish_in(wish.id, WishStatus.CONFIRMED),)
        told = [
            Reminder(
                wish.resident_id,
                Notice("remind.auto_confirmed", values),
                f"{PREFIX}confirmed:{wish.id}:{done.done_at.isoformat()}",
                condition=confirmed,
            )
        ]
        if wish.claimed_by is not None:
            # The key the resident's own confirmation uses, so the volunteer never hears it twice.
            notice = Notice("remind.auto_confirmed_volunteer", values)
            told.append(Reminder(wish.claimed_by, notice, f"wish-confirmed:{wish.id}", condition=confirmed))
        queued = await write(conn, told, now)
        queued += await tell_followers(conn, wish, now=now)
    env.wake()
    log.info("auto-confirmed %s", wish_ref(wish.ref_no))
    return Lapsed(wish, queued)


# --- Open and never claimed: expire -------------------------------------------------------------------


async def expire(env: Env, wish_id: int, *, now: dt.datetime) -> Lapsed | None:
    """Expire one open wish nobody claimed for `wish_expiry_days`; tell the resident and the followers.
    None if it is no longer such a wish (claimed or cancelled meanwhile)."""
    days = env.settings.wish_expiry_days
    async with env.db.write() as conn:
        old = await locked(conn, wish_id)
        if old is None or old.status != WishStatus.OPEN or old.updated_at > now - dt.timedelta(days=days):
            return None
        wish = await lifecycle.expire_wish(conn, wish_id, now=now, note=f"unclaimed for {days} days")
        told = Reminder(
            wish.resident_id,
            Notice("remind.expired", {"ref": wish_ref(wish.ref_no), "days": days}),
            f"{PREFIX}expired:{wish.id}",
            condition=(notices.wish_in(wish.id, WishStatus.EXPIRED),),
        )
        queued = await write(conn, [told], now)
        queued += await tell_followers(conn, wish, now=now)
    env.wake()
    log.info("expired %s", wish_ref(wish.ref_no))
    return Lapsed(wish, queued)
