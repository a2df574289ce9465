"""Residents who joined someone else's similar wish hear of its progress, in the same transaction as it.

Effects, per status a wish reaches (called by the actions that move it):
  claimed · done · confirmed · cancelled · expired → one normal-lane notice to every follower, keyed by
  wish, status and time (so a retried action tells nobody twice), written under the condition that the
  wish is still in that status when the notice's turn comes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.messages import Notice
from rules.wishes import said, short_summary, wish_ref
from storage import followers
from storage.wishes import Wish

# Which progress of a followed wish its followers hear about.
PROGRESS_KEYS = {
    "claimed": "similar.notice_claimed",
    "done": "similar.notice_done",
    "confirmed": "similar.notice_confirmed",
    "cancelled": "similar.notice_cancelled",
    "expired": "similar.notice_expired",
}


async def tell_followers(conn: AsyncConnection, wish: Wish, *, now: dt.datetime) -> int:
    """Queue the notice for the status the wish just reached to each follower; how many were queued."""
    key = PROGRESS_KEYS.get(wish.status)
    if key is None:
        return 0
    notice = Notice(key, {"ref": wish_ref(wish.ref_no), "summary": short_summary(said(wish))})
    return await notices.queue_many(
        conn,
        await followers.followers_of(conn, wish.id),
        notice,
        now=now,
        dedupe_prefix=f"follow:{wish.id}:{wish.status}:{wish.updated_at.isoformat()}",
        condition=[notices.wish_in(wish.id, wish.status)],
    )
