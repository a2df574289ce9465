"""Is there already an open wish like this one nearby? Then the resident can join it instead of adding another.

Similar means: the same category, texts sharing enough character pairs (robust for Chinese without
segmentation, and for typos), and places within about a kilometre — or, when either has no
location, the same area. `similar_open_wish` and `join_wish` apply this to the database in the
caller's transaction: the resident never joins their own wish, nor one that is no longer going ahead.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from storage import followers
from storage import wishes as store
from storage.errors import Conflict, NotAllowed
from storage.wishes import Wish

NEARBY_KM = 1.0
MIN_TEXT_SIMILARITY = 0.3
# A follower joins a wish that is still going ahead: waiting for a volunteer or being done.
JOINABLE = ("open", "claimed")
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class WishSketch:
    """What similarity looks at: the id, category, text, area and location of a wish (or of a draft: id 0)."""

    id: int
    category: str
    text: str
    area: str | None = None
    location: tuple[float, float] | None = None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text.lower() if c.isalnum()]
    return {a + b for a, b in itertools.pairwise(chars)} or set(chars)


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the texts' character pairs, 0..1."""
    first, second = _bigrams(a), _bigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def is_nearby(draft: WishSketch, other: WishSketch, max_km: float = NEARBY_KM) -> bool:
    """Within `max_km` when both have a location; otherwise the same area."""
    if draft.location and other.location:
        return distance_km(draft.location, other.location) <= max_km
    return draft.area is not None and draft.area == other.area


def find_similar_wish(
    draft: WishSketch,
    open_wishes: Iterable[WishSketch],
    *,
    max_km: float = NEARBY_KM,
    min_similarity: float = MIN_TEXT_SIMILARITY,
) -> WishSketch | None:
    """The most similar open wish of the same category nearby, or None."""
    best: tuple[float, WishSketch] | None = None
    for wish in open_wishes:
        if wish.id == draft.id or wish.category != draft.category or not is_nearby(draft, wish, max_km):
            continue
        score = text_similarity(draft.text, wish.text)
        if score >= min_similarity and (best is None or score > best[0]):
            best = (score, wish)
    return best[1] if best else None


def sketch_of(wish: Wish) -> WishSketch:
    """What similarity looks at in a stored wish."""
    return WishSketch(wish.id, wish.category, wish.description, wish.area, wish.location)


async def similar_open_wish(conn: AsyncConnection, draft: WishSketch, *, resident_id: int) -> Wish | None:
    """The open wish most like the resident's draft nearby, not their own nor one they already follow."""
    candidates = {
        wish.id: wish
        for wish in await store.wishes_in_status(conn, "open", categories=[draft.category])
        if wish.resident_id != resident_id and not await followers.is_following(conn, wish.id, resident_id)
    }
    found = find_similar_wish(draft, (sketch_of(wish) for wish in candidates.values()))
    return candidates[found.id] if found else None


async def join_wish(conn: AsyncConnection, wish_id: int, *, user_id: int, now: dt.datetime) -> Wish:
    """Add the resident to the wish's followers; `Conflict` (with the status) when it is no longer
    going ahead, `NotAllowed` for their own wish. Joining twice changes nothing."""
    wish = await store.get_wish(conn, wish_id)
    if wish.resident_id == user_id:
        raise NotAllowed(f"{user_id} cannot follow their own wish {wish_id}")
    if wish.status not in JOINABLE:
        raise Conflict(f"wish {wish_id} is {wish.status}", current=wish.status)
    await followers.follow(conn, wish_id, user_id, now=now)
    return wish
