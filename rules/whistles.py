"""The coordinator's whistle: which open wish may be whistled, and which volunteers it reaches.

"The centre blows the whistle, departments mobilize": an urgent dispatch of one open wish to the
approved volunteers whose skills include its category and who are in its area or live within the
configured distance of it. `blow_whistle` checks and records the dispatch in the caller's
transaction; `actions.whistles` queues the notices in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from rules.matching import haversine_km
from rules.wishes import WishStatus, parse_wish_ref, wish_ref
from storage import audit, whistles
from storage import volunteers as profiles
from storage import wishes as store
from storage.volunteers import Volunteer
from storage.wishes import Wish

# A second whistle for the same wish within this time is refused: a double tap must not call everyone twice.
REPEAT_AFTER = dt.timedelta(minutes=30)


class WhistleError(ValueError):
    """A whistle that cannot be blown; `reason` is a message key, `values` fill it in."""

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


class Placed(Protocol):
    """What reach needs to know about a volunteer."""

    @property
    def area(self) -> str | None: ...
    @property
    def location(self) -> tuple[float, float] | None: ...


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A recorded whistle: the wish and the volunteers to call."""

    whistle_id: int
    wish: Wish
    recipients: tuple[Volunteer, ...]


def elapsed(since: dt.datetime, until: dt.datetime) -> tuple[str, int]:
    """How long from `since` to `until` in the largest sensible unit: a message key (`wish.age.*`, with
    placeholder `n`) and the number."""
    minutes = max(0, int((until - since).total_seconds() // 60))
    if minutes < 60:
        return "wish.age.minutes", minutes
    if minutes < 48 * 60:
        return "wish.age.hours", minutes // 60
    return "wish.age.days", minutes // (24 * 60)


def parse_whistle_args(args: Sequence[str]) -> int:
    """`/whistle W-0042` → 42; `WhistleError` with the usage or a bad-reference message."""
    if not args:
        raise WhistleError("whistle.usage")
    ref_no = parse_wish_ref(args[0])
    if ref_no is None:
        raise WhistleError("whistle.bad_ref", ref=args[0][:20])
    return ref_no


def reaches(wish: Wish, volunteer: Placed, radius_km: float) -> bool:
    """Same area, or within `radius_km` when both locations are known; a wish with neither area nor
    location is for the whole district."""
    if wish.area is None and wish.location is None:
        return True
    if wish.area is not None and volunteer.area == wish.area:
        return True
    if wish.location is not None and volunteer.location is not None:
        return haversine_km(wish.location, volunteer.location) <= radius_km
    return False


def choose_recipients(
    wish: Wish, candidates: Iterable[Volunteer], radius_km: float, *, exclude: Iterable[int] = ()
) -> list[Volunteer]:
    """The volunteers (already matching the category) the whistle reaches, without the resident."""
    excluded = {wish.resident_id, *exclude}
    return [v for v in candidates if v.user_id not in excluded and reaches(wish, v, radius_km)]


def check_whistle(wish: Wish, last_at: dt.datetime | None, now: dt.datetime) -> None:
    """Only an open wish, and not again within `REPEAT_AFTER` of an unanswered whistle."""
    if wish.status != WishStatus.OPEN:
        # Said to a coordinator: a done wish waits for its resident ("等您确认" is the resident's wording).
        said = "similar.status_done" if wish.status == WishStatus.DONE else f"wish.status.{wish.status}"
        raise WhistleError("whistle.not_open", status_key=said)
    if last_at is not None and now - last_at < REPEAT_AFTER:
        raise WhistleError("whistle.too_soon", minutes=max(1, int((now - last_at).total_seconds() // 60)))


async def blow_whistle(
    conn: AsyncConnection, wish_id: int, *, coordinator_id: int, now: dt.datetime, radius_km: float
) -> Dispatch:
    """Check the wish, pick the volunteers and record the whistle (and the audit entry).

    `NotFound` for an unknown wish; `WhistleError` when it is not open, was just whistled, or no
    volunteer matches (nothing is recorded then).
    """
    await store.lock_wish(conn, wish_id)
    wish = await store.get_wish(conn, wish_id)
    last = await whistles.latest_unanswered(conn, wish_id)
    check_whistle(wish, last.created_at if last else None, now)
    candidates = await profiles.volunteers_matching(conn, wish.category)
    active = await whistles.reachable_ids(conn, [v.user_id for v in candidates])
    chosen = choose_recipients(wish, candidates, radius_km, exclude=[coordinator_id])
    recipients = [v for v in chosen if v.user_id in active]
    if not recipients:
        raise WhistleError("whistle.nobody", ref=wish_ref(wish.ref_no))
    whistle_id = await whistles.create_whistle(
        conn, wish_id=wish.id, coordinator_id=coordinator_id, sent_count=len(recipients), now=now
    )
    await audit.record(
        conn,
        actor_id=coordinator_id,
        action="wish.whistle",
        subject=f"wish:{wish.id}",
        now=now,
        detail=f"{len(recipients)} volunteers",
    )
    return Dispatch(whistle_id, wish, tuple(recipients))
