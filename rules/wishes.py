"""The wish lifecycle, in one place: which change is allowed from which status, who may make it, and the
functions that make it.

    pending_review ──approve──▶ open ──claim──▶ claimed ──finish──▶ done ──confirm──▶ confirmed
          │                     │ ▲               │  ▲                │
          ├──reject──▶ rejected │ └───release─────┘  └────reopen──────┘   ("not done yet")
          └──expire──▶ expired ◀┘
    cancel (by the resident or a coordinator): pending_review | open | claimed ──▶ cancelled

Every transition function takes the caller's connection (`async with db.write() as conn:`), reads the
wish, checks the change against the table and the actor's rights, then moves it with
`storage.wishes.move_wish`, which updates only while the status is still the one read and records
who/when/from/to/note. A stale or repeated press therefore raises `Conflict` carrying the current
status and changes nothing; someone acting on a wish that is not theirs gets `NotAllowed`. The
scheduler acts as `SYSTEM` (auto-release, auto-confirm, expiry). An auto-released wish may be held for
the volunteers it was offered to for a while (`Held` refuses anyone else's claim until then).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from rules.roles import Role
from rules.text import MIN_WORDS, word_count
from storage import holds
from storage import wishes as store
from storage.errors import AlreadyClaimed, ClaimedByYou, Conflict, Held, LimitReached, NotAllowed
from storage.wishes import Wish

DESCRIPTION_MIN = 5
DESCRIPTION_MAX = 1000
# A spoken description: long enough to explain a need, short enough for a volunteer to listen to.
VOICE_MAX_SECONDS = 180
# A coordinator's one-line summary of a spoken wish.
SUMMARY_MAX = 100
ADDRESS_MAX = 200
NOTE_MAX = 500
HOURS_MIN = 0.5
HOURS_MAX = 24.0
RATING_MIN = 1
RATING_MAX = 5
SUBMISSION_WINDOW = dt.timedelta(days=1)


class WishStatus(StrEnum):
    """Where a wish stands."""

    PENDING_REVIEW = "pending_review"
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    # Sent to a department as a case (actions/cases.py): the case's progress is what the resident sees, the
    # review queue and the volunteers' lists no longer hold it, and only a case handed back returns it to review.
    REFERRED = "referred"


class WishAction(StrEnum):
    """What someone can do to a wish."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    CLAIM = "claim"
    RELEASE = "release"
    FINISH = "finish"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    EXPIRE = "expire"
    REFER = "refer"  # a coordinator sends it to a department
    HAND_BACK = "hand_back"  # the department hands its case back and no other department holds it


S, A = WishStatus, WishAction
_NEXT: dict[tuple[WishStatus, WishAction], WishStatus] = {
    (S.PENDING_REVIEW, A.APPROVE): S.OPEN,
    (S.PENDING_REVIEW, A.REJECT): S.REJECTED,
    (S.PENDING_REVIEW, A.CANCEL): S.CANCELLED,
    (S.PENDING_REVIEW, A.EXPIRE): S.EXPIRED,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.OPEN, A.CLAIM): S.CLAIMED,
    (S.OPEN, A.EXPIRE): S.EXPIRED,
    (S.CLAIMED, A.CANCEL): S.CANCELLED,
    (S.CLAIMED, A.RELEASE): S.OPEN,
    (S.CLAIMED, A.FINISH): S.DONE,
    (S.DONE, A.CONFIRM): S.CONFIRMED,
    (S.DONE, A.REOPEN): S.CLAIMED,
    (S.PENDING_REVIEW, A.REFER): S.REFERRED,
    (S.OPEN, A.REFER): S.REFERRED,
    (S.REFERRED, A.HAND_BACK): S.PENDING_REVIEW,
}
FINAL_STATUSES = frozenset({S.CONFIRMED, S.REJECTED, S.CANCELLED, S.EXPIRED})
# Statuses in which a coordinator may still change the category.
RECATEGORISABLE = (S.PENDING_REVIEW, S.OPEN)


class InvalidInput(ValueError):  # noqa: N818 - the name reads as the domain fact
    """A value a person typed is outside its bounds; `reason` says how (too_short, too_long, out_of_range)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a person with their current roles, or the system (user_id None: the scheduler)."""

    user_id: int | None
    roles: frozenset[Role] = field(default_factory=lambda: frozenset({Role.RESIDENT}))

    @property
    def is_system(self) -> bool:
        """The scheduler or another automatic process."""
        return self.user_id is None

    @property
    def is_coordinator(self) -> bool:
        """Coordinators (and admins, who hold every staff role) manage every wish."""
        return Role.COORDINATOR in self.roles or Role.ADMIN in self.roles


SYSTEM = Actor(None, frozenset())


@dataclass(frozen=True, slots=True)
class WishDraft:
    """What a resident entered in /wish, before it becomes a wish."""

    category: str
    description: str
    area: str | None = None
    address: str | None = None
    location: tuple[float, float] | None = None
    photo_file_id: str | None = None
    phone: str | None = None
    # A photo already stored (storage/media.py), e.g. one that came in on WeChat; used instead of photo_file_id.
    photo_media_id: int | None = None
    # A spoken description: the voice note and its length (the typed description may then be empty).
    voice_file_id: str | None = None
    voice_seconds: int | None = None


def wish_ref(ref_no: int) -> str:
    """The reference people see: 1 → W-0001 (more digits once past 9999)."""
    return f"W-{ref_no:04d}"


def parse_wish_ref(text: str) -> int | None:
    """`W-0042`, `w42` or `42` → 42; None when it is not a reference."""
    match = re.fullmatch(r"\s*(?:[Ww]-?)?0*(\d{1,9})\s*", text)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def next_status(current: str, action: WishAction) -> WishStatus:
    """The status after `action`, or `Conflict` carrying the current status when it is not allowed."""
    try:
        return _NEXT[(WishStatus(current), action)]
    except KeyError:
        raise Conflict(f"cannot {action} a wish that is {current}", current=current) from None


def may(actor: Actor, wish: Wish, action: WishAction) -> bool:
    """Whether `actor` may do `action` to `wish` (whatever its status)."""
    if actor.is_system:
        return True
    if action in (A.APPROVE, A.REJECT, A.EXPIRE, A.REFER):
        return actor.is_coordinator
    if action is A.CANCEL:
        return actor.user_id == wish.resident_id or actor.is_coordinator
    if action is A.CLAIM:
        return Role.VOLUNTEER in actor.roles and actor.user_id != wish.resident_id
    if action is A.RELEASE:
        return actor.user_id == wish.claimed_by or actor.is_coordinator
    if action is A.FINISH:
        return actor.user_id == wish.claimed_by
    if action in (A.CONFIRM, A.REOPEN):
        return actor.user_id == wish.resident_id
    return False


def resident_actions(wish: Wish) -> list[WishAction]:
    """What the resident may do now, for /mywishes: cancel until done; confirm or say "not done yet" after."""
    return [action for action in (A.CANCEL, A.CONFIRM, A.REOPEN) if (WishStatus(wish.status), action) in _NEXT]


def can_rate(wish: Wish) -> bool:
    """A confirmed wish can be rated (once; a new rating replaces the old)."""
    return wish.status == S.CONFIRMED


def check_description(text: str) -> str:
    """The description trimmed, or `InvalidInput` when shorter or longer than allowed."""
    cleaned = text.strip()
    if len(cleaned) < DESCRIPTION_MIN:
        raise InvalidInput("too_short")
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidInput("too_long")
    if word_count(cleaned) < MIN_WORDS:
        raise InvalidInput("no_words")  # "🙏🙏🙏🙏🙏": five characters, but nothing a volunteer can act on
    return cleaned


def check_text(text: str, limit: int) -> str:
    """A short free text (address, note, reason) trimmed and bounded."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("too_short")
    if len(cleaned) > limit:
        raise InvalidInput("too_long")
    return cleaned


# Typed hours: a figure, optionally with its unit ("2", "1,5", "2h", "2.5 小时"); a bare figure on a channel with
# numbered menus picks the item shown at that number, so its questions ask for the unit (`task.ask_hours.wechat`).
HOURS_TYPED = re.compile(r"(\d{1,3}(?:[.,]\d{1,3})?)\s*(?:h|hr|hrs|hour|hours|小时|个小时|钟头|个钟头)?", re.IGNORECASE)


def parse_hours(text: str) -> float:
    """Typed hours ("2", "1.5", "1,5", "2h", "2.5 小时") → float in [0.5, 24] rounded to half hours; `InvalidInput`
    otherwise."""
    typed = text.strip()
    found = HOURS_TYPED.fullmatch(typed) if len(typed) <= 20 else None
    if found is None:
        raise InvalidInput("not_a_number")
    hours = float(found.group(1).replace(",", "."))
    if not HOURS_MIN <= hours <= HOURS_MAX:
        raise InvalidInput("out_of_range")
    return round(hours * 2) / 2


def due_at_for(choice: str | None, now: dt.datetime, tz: zoneinfo.ZoneInfo, default_hours: int) -> dt.datetime:
    """When a claimed task should be done: end of today / tomorrow / this week (local), or the default."""
    local = now.astimezone(tz)
    end_of_today = local.replace(hour=23, minute=59, second=0, microsecond=0)
    if choice == "today":
        due = end_of_today
    elif choice == "tomorrow":
        due = end_of_today + dt.timedelta(days=1)
    elif choice == "week":
        due = end_of_today + dt.timedelta(days=6 - local.weekday())
    else:
        return now + dt.timedelta(hours=default_hours)
    return due.astimezone(dt.UTC)


async def _transition(
    conn: AsyncConnection,
    wish_id: int,
    action: WishAction,
    actor: Actor,
    now: dt.datetime,
    *,
    note: str | None = None,
    changes: dict[str, object] | None = None,
) -> Wish:
    wish = await store.get_wish(conn, wish_id)
    if not may(actor, wish, action):
        raise NotAllowed(f"{actor.user_id} may not {action} wish {wish_id}")
    target = next_status(wish.status, action)
    return await store.move_wish(
        conn, wish_id, wish.status, target, actor_id=actor.user_id, now=now, note=note, changes=changes
    )


async def submit_wish(
    conn: AsyncConnection,
    draft: WishDraft,
    *,
    resident_id: int,
    now: dt.datetime,
    review: bool,
    daily_limit: int,
) -> Wish:
    """Store a resident's wish: waiting for review, or open at once when review is off.

    `LimitReached` when the resident already submitted `daily_limit` wishes in the last day.
    """
    if await store.count_submitted_since(conn, resident_id, now - SUBMISSION_WINDOW) >= daily_limit:
        raise LimitReached(f"{resident_id} submitted {daily_limit} wishes today")
    return await store.insert_wish(
        conn,
        resident_id=resident_id,
        category=draft.category,
        description=description_of(draft),
        area=draft.area,
        address=draft.address,
        location=draft.location,
        photo_file_id=draft.photo_file_id,
        photo_media_id=draft.photo_media_id,
        phone=draft.phone,
        status=S.PENDING_REVIEW if review else S.OPEN,
        now=now,
        voice_file_id=draft.voice_file_id,
        voice_seconds=check_voice_seconds(draft.voice_seconds) if draft.voice_file_id else None,
    )


def description_of(draft: WishDraft) -> str:
    """The typed description as stored: checked; empty only when the wish is spoken (a voice note)."""
    if draft.voice_file_id and not draft.description.strip():
        return ""
    return check_description(draft.description)


def check_voice_seconds(seconds: int | None) -> int:
    """A voice note's length, bounded: `InvalidInput("voice_too_long")` over `VOICE_MAX_SECONDS`."""
    value = int(seconds or 0)
    if value > VOICE_MAX_SECONDS:
        raise InvalidInput("voice_too_long")
    return max(value, 1)


def said(wish: Wish) -> str:
    """What the wish says, for notices that quote it: the typed description, or "🎤 0:25" for a spoken wish
    (its voice note is delivered on its own)."""
    if wish.description or wish.voice_seconds is None:
        return wish.description
    return f"🎤 {voice_length(wish.voice_seconds)}"


def voice_length(seconds: int) -> str:
    """0:25, 1:05 — how a voice note's length is shown."""
    return f"{seconds // 60}:{seconds % 60:02d}"


async def approve_wish(conn: AsyncConnection, wish_id: int, *, actor: Actor, now: dt.datetime) -> Wish:
    """A coordinator lets the wish be seen by volunteers."""
    return await _transition(conn, wish_id, A.APPROVE, actor, now)


async def reject_wish(conn: AsyncConnection, wish_id: int, *, actor: Actor, now: dt.datetime, reason: str) -> Wish:
    """A coordinator turns the wish down with a reason the resident will read."""
    reason = check_text(reason, NOTE_MAX)
    return await _transition(conn, wish_id, A.REJECT, actor, now, note=reason, changes={"reject_reason": reason})


async def change_category(
    conn: AsyncConnection, wish_id: int, category: str, *, actor: Actor, now: dt.datetime
) -> Wish:
    """A coordinator files the wish under another category while it is pending or open."""
    wish = await store.get_wish(conn, wish_id)
    if wish.status not in RECATEGORISABLE:
        raise Conflict(f"wish {wish_id} is {wish.status}", current=wish.status)
    if not (actor.is_system or actor.is_coordinator):
        raise NotAllowed(f"{actor.user_id} may not recategorise wish {wish_id}")
    updated = await store.update_wish(conn, wish_id, [wish.status], now=now, category=category)
    await store.record_event(
        conn,
        wish_id,
        wish.status,
        wish.status,
        actor_id=actor.user_id,
        now=now,
        note=f"category {wish.category} → {category}",
    )
    return updated


async def summarize_spoken(
    conn: AsyncConnection, wish_id: int, summary: str, *, actor: Actor, now: dt.datetime
) -> Wish:
    """A coordinator types a one-line summary of a spoken wish that has no text yet, while it is pending or open
    (volunteers scanning /tasks read it; the voice note stays). `InvalidInput` for an empty or over-long line."""
    line = check_text(" ".join(summary.split()), SUMMARY_MAX)
    wish = await store.get_wish(conn, wish_id)
    if wish.status not in RECATEGORISABLE or wish.voice_seconds is None or wish.description:
        raise Conflict(f"wish {wish_id} is {wish.status}", current=wish.status)
    if not (actor.is_system or actor.is_coordinator):
        raise NotAllowed(f"{actor.user_id} may not summarise wish {wish_id}")
    updated = await store.update_wish(conn, wish_id, [wish.status], now=now, description=line)
    await store.record_event(
        conn, wish_id, wish.status, wish.status, actor_id=actor.user_id, now=now, note="summary of the voice note"
    )
    return updated


async def cancel_wish(
    conn: AsyncConnection, wish_id: int, *, actor: Actor, now: dt.datetime, note: str | None = None
) -> Wish:
    """The resident (or a coordinator) withdraws the wish before it is done."""
    return await _transition(conn, wish_id, A.CANCEL, actor, now, note=note)


def is_held(wish: Wish, now: dt.datetime) -> bool:
    """Whether the wish is reserved, at `now`, for the volunteers it was offered to."""
    return wish.status == S.OPEN and wish.held_until is not None and now < wish.held_until


async def ensure_not_held(conn: AsyncConnection, wish: Wish, actor: Actor, now: dt.datetime) -> None:
    """`Held` (with the moment it ends) when the wish is reserved for others than `actor` right now."""
    if not is_held(wish, now) or actor.is_system:
        return
    if actor.user_id is not None and await holds.is_holder(conn, wish.id, actor.user_id):
        return
    assert wish.held_until is not None
    raise Held(f"wish {wish.id} is held for others", current=wish.status, until=wish.held_until)


async def claimable_wishes(conn: AsyncConnection, volunteer_id: int, now: dt.datetime) -> list[Wish]:
    """Open wishes, oldest first, without those held for other volunteers (they show again when it ends)."""
    held = await holds.held_from(conn, volunteer_id, now)
    return [wish for wish in await store.wishes_in_status(conn, S.OPEN) if wish.id not in held]


async def claim_wish(
    conn: AsyncConnection, wish_id: int, *, actor: Actor, now: dt.datetime, due_at: dt.datetime
) -> Wish:
    """A volunteer takes an open wish, promising it by `due_at`. Exactly one of several at once wins;
    the others get `AlreadyClaimed`. While the wish is held for the volunteers it was offered to,
    anyone else gets `Held`; the claim ends the hold."""
    await ensure_not_held(conn, await store.get_wish(conn, wish_id), actor, now)
    try:
        claimed = await _transition(
            conn,
            wish_id,
            A.CLAIM,
            actor,
            now,
            changes={"claimed_by": actor.user_id, "claimed_at": now, "due_at": due_at, "held_until": None},
        )
    except Conflict as exc:
        if exc.current in (S.CLAIMED, S.DONE, S.CONFIRMED) or isinstance(exc, AlreadyClaimed):
            raise claimed_error(await store.get_wish(conn, wish_id), actor, exc) from None
        raise
    await holds.forget(conn, wish_id)
    return claimed


def claimed_error(wish: Wish, actor: Actor, exc: Conflict) -> AlreadyClaimed:
    """Why a claim of a wish no longer open failed: `ClaimedByYou` when the claimer is the one pressing
    (they must not read "someone was quicker"), `AlreadyClaimed` otherwise."""
    kind = ClaimedByYou if wish.claimed_by == actor.user_id else AlreadyClaimed
    return kind(str(exc), current=exc.current or wish.status)


async def release_wish(
    conn: AsyncConnection,
    wish_id: int,
    *,
    actor: Actor,
    now: dt.datetime,
    reason: str | None = None,
    hold_for: Sequence[int] = (),
    held_until: dt.datetime | None = None,
) -> Wish:
    """The claimer (or a coordinator, or the scheduler) gives the wish back to everyone — or, when
    `hold_for` and a future `held_until` are given (the scheduler's offer after an auto-release), first
    to those volunteers alone until then. The hold is written in the same transaction as the release."""
    held = bool(hold_for) and held_until is not None and held_until > now
    if held and reason is not None:
        assert held_until is not None
        reason = f"{reason}; held for {len(set(hold_for))} offered volunteer(s) until {held_until.isoformat()}"
    wish = await _transition(
        conn,
        wish_id,
        A.RELEASE,
        actor,
        now,
        note=reason,
        changes={"claimed_by": None, "claimed_at": None, "due_at": None, "resident_note": None},
    )
    if not held:
        return wish
    await holds.hold(conn, wish_id, hold_for, until=held_until)
    return await store.get_wish(conn, wish_id)


async def finish_wish(
    conn: AsyncConnection,
    wish_id: int,
    *,
    actor: Actor,
    now: dt.datetime,
    hours: float,
    proof_file_id: str | None = None,
    note: str | None = None,
    proof_media_id: int | None = None,
) -> Wish:
    """The claimer reports the wish done with the hours spent, an optional proof photo (a Telegram file id, or a
    photo stored already: `proof_media_id`, e.g. one sent on WeChat) and note."""
    if not HOURS_MIN <= hours <= HOURS_MAX:
        raise InvalidInput("out_of_range")
    proof: dict[str, object] = (
        {"proof_media_id": proof_media_id} if proof_media_id is not None else {"proof_file_id": proof_file_id}
    )
    return await _transition(
        conn,
        wish_id,
        A.FINISH,
        actor,
        now,
        note=note,
        changes={"done_at": now, "hours": hours, **proof, "done_note": note},
    )


async def confirm_wish(
    conn: AsyncConnection, wish_id: int, *, actor: Actor, now: dt.datetime, rating: int | None = None
) -> Wish:
    """The resident (or the scheduler, after a long silence) confirms it was done; the hours now count."""
    changes: dict[str, object] = {"confirmed_at": now}
    if rating is not None:
        changes["rating"] = _check_rating(rating)
    return await _transition(conn, wish_id, A.CONFIRM, actor, now, changes=changes)


async def rate_wish(conn: AsyncConnection, wish_id: int, *, actor: Actor, now: dt.datetime, rating: int) -> Wish:
    """The resident rates a confirmed wish 1–5."""
    wish = await store.get_wish(conn, wish_id)
    if not can_rate(wish):
        raise Conflict(f"wish {wish_id} is {wish.status}", current=wish.status)
    if actor.user_id != wish.resident_id:
        raise NotAllowed(f"{actor.user_id} may not rate wish {wish_id}")
    updated = await store.update_wish(conn, wish_id, [S.CONFIRMED], now=now, rating=_check_rating(rating))
    await store.record_event(
        conn, wish_id, wish.status, wish.status, actor_id=actor.user_id, now=now, note=f"rating {rating}"
    )
    return updated


async def reopen_wish(
    conn: AsyncConnection, wish_id: int, *, actor: Actor, now: dt.datetime, note: str | None = None
) -> Wish:
    """The resident says "not done yet": back to the same volunteer with the resident's note."""
    return await _transition(
        conn,
        wish_id,
        A.REOPEN,
        actor,
        now,
        note=note,
        changes={"resident_note": note, "done_at": None, "hours": None},
    )


async def expire_wish(
    conn: AsyncConnection, wish_id: int, *, actor: Actor = SYSTEM, now: dt.datetime, note: str | None = None
) -> Wish:
    """Nobody took the wish (or reviewed it) for too long."""
    return await _transition(conn, wish_id, A.EXPIRE, actor, now, note=note)


def _check_rating(rating: int) -> int:
    if not RATING_MIN <= rating <= RATING_MAX:
        raise InvalidInput("out_of_range")
    return rating


def ensure_allowed(wish: Wish, action: WishAction, actor: Actor) -> None:
    """Check, without changing anything, that `actor` may do `action` to the wish as it stands now.

    Conversations call this when they start (e.g. "Done" opens the hours question) so a stale or
    forged button is refused at once; the transition itself checks again when it commits.
    """
    # Permission first: someone without the right learns nothing about the wish, not even its status.
    if not may(actor, wish, action):
        raise NotAllowed(f"{actor.user_id} may not {action} wish {wish.id}")
    next_status(wish.status, action)


async def may_submit(conn: AsyncConnection, resident_id: int, *, now: dt.datetime, daily_limit: int) -> bool:
    """Whether the resident may start another wish today (the per-day submission limit)."""
    return await store.count_submitted_since(conn, resident_id, now - SUBMISSION_WINDOW) < daily_limit


def month_bounds(now: dt.datetime, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the local calendar month containing `now`, as aware UTC datetimes."""
    local = now.astimezone(tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


SUMMARY_CHARS = 60


def short_summary(description: str) -> str:
    """The start of a wish's description on one line, for cards and notices (raw: channels escape it)."""
    text = description.replace("\n", " ")
    return text[:SUMMARY_CHARS] + "…" if len(text) > SUMMARY_CHARS else text
