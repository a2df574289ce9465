"""The volunteer's side of a wish: find open wishes, claim one, give it back, report it done.

Effects (each in one transaction with the change):
  claim: refused with `ClaimBound` (nothing changes but an alert) when the volunteer already holds
    `MAX_ACTIVE_CLAIMS` claimed wishes or claimed and released `CLAIMS_PER_DAY` times today (local day): the
    coordinators then get one urgent alert per volunteer, bound and day, so nobody harvests residents' phones
    and addresses. Otherwise wish open→claimed (atomic: of several volunteers at once exactly one wins, the others get
    `AlreadyClaimed`; a wish held for the volunteers it was offered to gives anyone else `Held`); its
    event; the wish's unanswered whistles answered (`actions.whistles.answer`: each coordinator's summary
    edited, a "claimed" notice to them); an urgent notice to the resident saying who took it by when,
    true while the wish is still claimed by this volunteer; followers told (`actions.followers`).
  release: wish claimed→open with the volunteer's reason as the event note; a notice to the resident
    that it is open again, true while it is open; every card that showed the former claimer the contact
    details is withdrawn (`withdraw_cards`: edited to say the wish is no longer theirs).
  remember_card: the channel's message id of a card showing the claimer the contact details.
  finish: wish claimed→done with the hours, optional proof photo and note; an urgent notice to the
    resident with Confirm / Not yet (and the photo), true while the wish is done; followers told.
  open_tasks, my_tasks, task_of, claimable: reads for the channel (no effects).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices, whistles
from actions.buttons import Act, Button
from actions.env import Env
from actions.followers import tell_followers
from actions.messages import Notice
from actions.recipients import coordinator_ids
from rules import matching
from rules import wishes as lifecycle
from rules.limits import local_day_start
from rules.roles import Role
from rules.wishes import Actor, WishAction, WishStatus, wish_ref
from storage import holds, users
from storage import volunteers as profiles
from storage import wishes as store
from storage.errors import AlreadyClaimed, Conflict, LimitReached
from storage.volunteers import Volunteer
from storage.wishes import Wish

WHEN_CHOICES = ("today", "tomorrow", "week")
HOUR_CHOICES = ("0.5", "1", "2", "4")


@dataclass(frozen=True, slots=True)
class Claimed:
    """The wish now held by the volunteer, promised by `wish.due_at`."""

    wish: Wish


@dataclass(frozen=True, slots=True)
class Released:
    """The wish given back to everyone."""

    wish: Wish


@dataclass(frozen=True, slots=True)
class Finished:
    """The wish reported done, waiting for the resident's confirmation."""

    wish: Wish


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of open wishes offered to a volunteer."""

    wishes: tuple[Wish, ...]
    page: int
    pages: int
    show_all: bool
    first_number: int  # the number shown next to the first wish of the page
    origin: tuple[float, float] | None  # the volunteer's location, for distances
    # `pages` is exact when True; else more than `COUNT_UP_TO` wishes match and `pages` is a lower bound.
    counted_all: bool = True
    has_next: bool = False  # another page follows this one

    def distance_km(self, wish: Wish) -> float | None:
        """How far the wish is from the volunteer, when both places are known."""
        return matching.distance_km(self.origin, wish)


class ClaimBound(LimitReached):
    """The volunteer may not claim now: `bound` is "active" (holds `limit` claimed wishes) or "daily"
    (claimed and released `limit` times today)."""

    def __init__(self, bound: str, limit: int) -> None:
        super().__init__(f"claim bound {bound} ({limit}) reached")
        self.bound = bound
        self.limit = limit


async def _claim_bound(env: Env, conn: AsyncConnection, volunteer_id: int, now: dt.datetime) -> ClaimBound | None:
    """Which bound a new claim would cross, if any (contact details are rationed)."""
    limit = env.settings.max_active_claims
    if await store.count_active_claims(conn, volunteer_id) >= limit:
        return ClaimBound("active", limit)
    per_day = env.settings.claims_per_day
    since = local_day_start(now, env.settings.tz)
    if await store.count_claims_and_releases_since(conn, volunteer_id, since) >= per_day:
        return ClaimBound("daily", per_day)
    return None


async def _alert_bound(env: Env, conn: AsyncConnection, volunteer_id: int, bound: ClaimBound, now: dt.datetime) -> None:
    """Tell the coordinators (once per volunteer, bound and local day) that someone hit a claim bound."""
    name = await volunteer_name(conn, volunteer_id)
    day = now.astimezone(env.settings.tz).date().isoformat()
    await notices.queue_many(
        conn,
        await coordinator_ids(conn, env.settings.admin_ids),
        Notice(
            "task.notice_claim_bound",
            {"name": name, "bound_key": f"task.bound_{bound.bound}", "limit": bound.limit},
        ),
        about=[volunteer_id],
        now=now,
        lane="urgent",
        dedupe_prefix=f"claim-bound:{volunteer_id}:{bound.bound}:{day}",
        condition=[notices.holds_role(Role.COORDINATOR)],
    )


async def volunteer_name(conn: AsyncConnection, person_id: int) -> str:
    """The name a volunteer asked to be shown by (their profile's), else their account's: a WeChat account gives
    none of its own (微信用户), and a Telegram name is not always the one they registered with."""
    profile = await profiles.find_volunteer(conn, person_id)
    return profile.name if profile is not None else (await users.get_user(conn, person_id)).display_name


def status_key(status: str) -> str:
    """The catalogue key of a task's status as its volunteer reads it in his list: a done task waits for the
    resident's confirmation (the resident's own words, "等您确认", are not his)."""
    return "task.status_done" if status == WishStatus.DONE else f"wish.status.{status}"


def local_due(env: Env, wish: Wish) -> str:
    """When the claimed wish is due, in the bot's time zone, as people read it."""
    if wish.due_at is None:
        return "—"
    return wish.due_at.astimezone(env.settings.tz).strftime("%m-%d %H:%M")


def format_hours(hours: float) -> str:
    """2.0 → "2", 1.5 → "1.5"."""
    return f"{hours:g}"


async def claim(env: Env, actor: Actor, wish_id: int, when: str) -> Claimed:
    """Take an open wish, promising it today, tomorrow or this week (`when`)."""
    if when not in WHEN_CHOICES or actor.user_id is None:
        raise ValueError(f"cannot claim for {when!r}")
    now = env.now()
    due_at = lifecycle.due_at_for(when, now, env.settings.tz, env.settings.claim_due_hours)
    async with env.db.write() as conn:
        refused = await _claim_bound(env, conn, actor.user_id, now)
        if refused is not None:
            await _alert_bound(env, conn, actor.user_id, refused, now)
    if refused is not None:
        env.wake()
        raise refused
    async with env.db.write() as conn:
        # Checked again in the claiming transaction: presses of one person are handled one after another.
        if (refused := await _claim_bound(env, conn, actor.user_id, now)) is not None:
            raise refused
        wish = await lifecycle.claim_wish(conn, wish_id, actor=actor, now=now, due_at=due_at)
        await whistles.answer(conn, wish, now=now)
        await tell_followers(conn, wish, now=now)
        name = await volunteer_name(conn, actor.user_id)
        await notices.queue(
            conn,
            wish.resident_id,
            Notice("wish.notice_claimed", {"ref": wish_ref(wish.ref_no), "name": name, "due": local_due(env, wish)}),
            now=now,
            lane="urgent",
            dedupe_key=f"wish-claimed:{wish.id}:{now.isoformat()}",
            condition=[notices.claimed_by(wish.id, actor.user_id)],
        )
    env.wake()
    return Claimed(wish)


async def release(env: Env, actor: Actor, wish_id: int, reason: str) -> Released:
    """Give a claimed wish back to everyone, saying why (`InvalidInput` for an empty or long reason)."""
    reason = lifecycle.check_text(reason, lifecycle.NOTE_MAX)
    now = env.now()
    async with env.db.write() as conn:
        claimer = (await store.get_wish(conn, wish_id)).claimed_by
        wish = await lifecycle.release_wish(conn, wish_id, actor=actor, now=now, reason=reason)
        if claimer is not None:
            await withdraw_cards(conn, wish, claimer, now=now)
        await notices.queue(
            conn,
            wish.resident_id,
            Notice("wish.notice_released", {"ref": wish_ref(wish.ref_no)}),
            now=now,
            dedupe_key=f"wish-released:{wish.id}:{wish.updated_at.isoformat()}",
            condition=[notices.wish_in(wish.id, WishStatus.OPEN)],
        )
    env.wake()
    return Released(wish)


async def finish(
    env: Env,
    actor: Actor,
    wish_id: int,
    *,
    hours: float,
    proof: str | None,
    note: str | None,
    proof_media: int | None = None,
) -> Finished:
    """Report a claimed wish done with the hours spent, an optional proof photo (a Telegram file reference, or
    `proof_media`: a photo stored already, e.g. sent on WeChat) and an optional note for the resident
    (`InvalidInput` for hours outside 0.5–24)."""
    now = env.now()
    async with env.db.write() as conn:
        wish = await lifecycle.finish_wish(
            conn, wish_id, actor=actor, now=now, hours=hours, proof_file_id=proof, note=note, proof_media_id=proof_media
        )
        await tell_followers(conn, wish, now=now)
        name = await volunteer_name(conn, actor.user_id) if actor.user_id is not None else "—"
        await notices.queue(
            conn,
            wish.resident_id,
            Notice(
                # A note left has its line; none left, no "留言：—" line.
                "wish.notice_done_note" if note else "wish.notice_done",
                {
                    "ref": wish_ref(wish.ref_no),
                    "name": name,
                    "hours": format_hours(wish.hours or 0),
                    **({"note": note} if note else {}),
                },
                (
                    (
                        Button("wish.button.confirm", Act.WISH_CONFIRM, wish.id),
                        Button("wish.button.not_yet", Act.WISH_NOT_YET, wish.id),
                    ),
                ),
                media=wish.proof_media_id,
            ),
            now=now,
            lane="urgent",
            dedupe_key=f"wish-done:{wish.id}:{wish.updated_at.isoformat()}",
            condition=[notices.wish_in(wish.id, WishStatus.DONE)],
        )
        if actor.user_id is not None:
            await _close_cards(conn, wish, actor.user_id, now=now)
    env.wake()
    return Finished(wish)


async def _close_cards(conn: AsyncConnection, wish: Wish, claimer: int, *, now: dt.datetime) -> None:
    """The task is reported done: every card of it in the claimer's chat loses ✅ 完成了 / ↩️ 放弃 and says it is
    done (a later "not yet" from the resident comes with fresh buttons; /mytasks shows the details again)."""
    for message_id, kind in await holds.cards_of(conn, wish.id, claimer):
        if kind != "card":
            continue
        await notices.queue(
            conn,
            claimer,
            Notice(
                "task.card_done",
                {"ref": wish_ref(wish.ref_no), "hours": format_hours(wish.hours or 0)},
                replaces=message_id,
            ),
            now=now,
            lane="urgent",
            dedupe_key=f"card-done:{wish.id}:{message_id}:{wish.updated_at.isoformat()}",
            condition=[notices.wish_in(wish.id, WishStatus.DONE)],
        )


async def withdraw_cards(conn: AsyncConnection, wish: Wish, former_claimer: int, *, now: dt.datetime) -> None:
    """The claim ended: every card that showed the former claimer the contact details is edited to say the wish
    is no longer theirs (in the caller's transaction)."""
    for message_id, kind in await holds.take_cards(conn, wish.id, former_claimer):
        # A card is edited to say so; the map pin and the photo (the place itself) are deleted.
        await notices.queue(
            conn,
            former_claimer,
            Notice("task.no_longer_yours", {"ref": wish_ref(wish.ref_no)}, replaces=message_id, delete=kind != "card"),
            now=now,
            lane="urgent",
            dedupe_key=f"card-withdrawn:{wish.id}:{message_id}:{now.isoformat()}",
        )


async def remember_card(env: Env, actor: Actor, wish_id: int, message_id: int, kind: str = "card") -> None:
    """The channel's message `message_id` showed the claimer the wish's contact details (withdrawn on release).

    The card is sent before it can be remembered, so the claim may have ended in between (a release pressed on
    another card while this one was on its way): then the card is withdrawn at once instead of being kept. The
    wish's row is locked, so a release either sees the remembered card or is seen here."""
    if actor.user_id is None:
        return
    async with env.db.write() as conn:
        await store.lock_wish(conn, wish_id)
        wish = await store.get_wish(conn, wish_id)
        await holds.remember_card(conn, wish_id, actor.user_id, message_id, kind)
        if wish.claimed_by == actor.user_id:
            return
        await withdraw_cards(conn, wish, actor.user_id, now=env.now())
    env.wake()


# --- reads for the channel -------------------------------------------------------------------------------


# Counted exactly up to this many offered wishes (200 pages); past it the title says "200+ pages": counting tens of
# thousands of index entries for a number nobody pages through would make /tasks cost grow with the district.
COUNT_UP_TO = 1000


async def open_tasks(
    env: Env, volunteer_id: int, page: int, *, show_all: bool, after: int | None = None, before: int | None = None
) -> TaskPage:
    """One page of the open wishes a volunteer may claim: those matching their skills, nearest first
    (or all of them), without the wishes held for other volunteers. Matched, ordered and paged in the
    database (`storage.wishes.open_page_for`): `after`/`before` are the wish ids at the edge of the page
    the volunteer saw (keyset pagination), `page` only numbers the page shown. Whether a next page exists
    is read with the page (one wish more than shown), so every wish stays reachable past the counted ones."""
    async with env.db.read() as conn:
        profile = await profiles.find_volunteer(conn, volunteer_id)
        skills = profile.skills if profile else frozenset()
        origin = profile.location if profile else None
        categories = None if show_all or not skills else tuple(sorted(skills))
        query = store.OpenQuery(volunteer_id, env.now(), categories, origin)
        total = await store.count_open_for(conn, query, up_to=COUNT_UP_TO)
        counted_all = total <= COUNT_UP_TO
        size = matching.PAGE_SIZE
        pages = max(1, -(-min(total, COUNT_UP_TO) // size))
        page = max(0, page) if not counted_all else min(max(0, page), pages - 1)
        if before is not None:
            shown = await store.open_page_for(conn, query, before=before, limit=size)
            has_next = True  # the wish the volunteer paged back from, or those after it
        else:
            shown = await store.open_page_for(conn, query, after=after, limit=size + 1)
            has_next = len(shown) > size
            shown = shown[:size]
        if not shown or (before is not None and len(shown) < size):
            # The edge wish's neighbours are gone (or the start was reached): show the first page.
            shown = await store.open_page_for(conn, query, limit=size + 1)
            page, has_next, shown = 0, len(shown) > size, shown[:size]
        if after is None and before is None:
            page = 0
        # Past the counted pages the number grows as the volunteer reads on; on the last page it is exact.
        pages = max(pages, page + 1 + has_next)
        if not counted_all and not has_next:
            pages, counted_all = page + 1, True
    return TaskPage(tuple(shown), page, pages, show_all, page * size + 1, origin, counted_all, has_next)


async def my_tasks(env: Env, volunteer_id: int) -> list[Wish]:
    """The wishes a volunteer holds: claimed, or done and waiting for the resident."""
    async with env.db.read() as conn:
        return await store.tasks_of_volunteer(conn, volunteer_id, [WishStatus.CLAIMED, WishStatus.DONE])


async def claimable(env: Env, actor: Actor, wish_id: int) -> tuple[Wish, Volunteer | None]:
    """A wish the volunteer may claim now, with their profile (for the distance); `AlreadyClaimed` when
    someone was quicker, `Held` while it is reserved for others, `Conflict`/`NotAllowed`/`NotFound` else."""
    async with env.db.read() as conn:
        wish = await store.get_wish(conn, wish_id)
        try:
            lifecycle.ensure_allowed(wish, WishAction.CLAIM, actor)
        except Conflict as exc:
            if exc.current in (WishStatus.CLAIMED, WishStatus.DONE, WishStatus.CONFIRMED) or isinstance(
                exc, AlreadyClaimed
            ):
                raise lifecycle.claimed_error(wish, actor, exc) from None
            raise
        await lifecycle.ensure_not_held(conn, wish, actor, env.now())
        profile = await profiles.find_volunteer(conn, actor.user_id) if actor.user_id is not None else None
    return wish, profile


async def task_of(env: Env, actor: Actor, wish_id: int, action: WishAction) -> Wish:
    """The task behind a Done / Release button if the volunteer may do that to it now (the action checks
    again when it commits); `Conflict`/`NotAllowed`/`NotFound` otherwise."""
    async with env.db.read() as conn:
        wish = await store.get_wish(conn, wish_id)
    lifecycle.ensure_allowed(wish, action, actor)
    return wish
