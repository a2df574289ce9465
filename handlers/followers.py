"""Similar open wishes for residents: before a /wish is submitted, an open wish like it nearby is shown
with "Join that one" or "Submit anyway"; who joins follows that wish and is told when it is claimed,
done, confirmed, cancelled or expired, and finds it in their /mywishes.

The /wish conversation (handlers/residents.py) calls `offer_similar` at Submit and `join_pressed` for
the Join button; every handler that moves a wish to one of those statuses calls `tell_followers`, and
the scheduler, which moves wishes inside its own transaction, queues `follower_notices` there;
/mywishes shows `joined_section`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.context import TongxinContext
from bot.notify import Notice
from handlers import wish_cards
from rules.similar import WishSketch, join_wish, similar_open_wish
from rules.wishes import WishDraft, wish_ref
from storage import followers
from storage.errors import Conflict, NotAllowed, NotFound
from storage.wishes import Wish

# Which progress of a followed wish its followers hear about.
PROGRESS_KEYS = {
    "claimed": "similar.notice_claimed",
    "done": "similar.notice_done",
    "confirmed": "similar.notice_confirmed",
    "cancelled": "similar.notice_cancelled",
    "expired": "similar.notice_expired",
}
JOINED_SHOWN = 10


async def offer_similar(context: TongxinContext, draft: WishDraft, entered: dict[str, Any]) -> bool:
    """Show a similar open wish nearby with Join / Submit anyway; False when there is none, or when the
    person was already shown this one and chose to submit anyway."""
    assert context.person is not None
    sketch = WishSketch(0, draft.category, draft.description, draft.area, draft.location)
    async with context.db.read() as conn:
        similar = await similar_open_wish(conn, sketch, resident_id=context.person.id)
    if similar is None or entered.get("similar_offered") == similar.id:
        return False
    entered["similar_offered"] = similar.id
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(context.t("similar.button.join"), callback_data=f"wish:join:{similar.id}")],
            [InlineKeyboardButton(context.t("similar.button.submit_anyway"), callback_data="wish:submit")],
        ]
    )
    await context.bot.send_message(
        context.chat_id,
        context.t("similar.found", card=wish_cards.public_card(context.t, similar, context.now())),
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )
    return True


async def join_pressed(update: Update, context: TongxinContext) -> bool:
    """Join that one: follow the similar wish (True), or say why it can no longer be joined (False)."""
    query = update.callback_query
    assert query is not None
    assert context.person is not None
    wish_id = (query.data or "").removeprefix("wish:join:")
    if not wish_id.isdigit():
        await query.answer()
        return False
    try:
        async with context.db.write() as conn:
            wish = await join_wish(conn, int(wish_id), user_id=context.person.id, now=context.now())
    except (Conflict, NotAllowed, NotFound):
        await query.answer(context.t("similar.gone"), show_alert=True)
        return False
    await query.answer()
    await query.edit_message_reply_markup(None)
    await context.bot.send_message(
        context.chat_id,
        context.t("similar.joined", ref=wish_ref(wish.ref_no), status=wish_cards.status_words(context.t, wish.status)),
    )
    return True


async def follower_notices(conn: AsyncConnection, wish: Wish) -> list[tuple[int, Notice, str]]:
    """(follower, notice, dedupe key) for the status the wish just reached; none for other statuses."""
    key = PROGRESS_KEYS.get(wish.status)
    if key is None:
        return []
    notice = Notice(key, {"ref": wish_ref(wish.ref_no), "summary": wish_cards.short_description(wish)})
    return [
        (user_id, notice, f"follow:{wish.id}:{wish.status}:{wish.updated_at.isoformat()}:{user_id}")
        for user_id in await followers.followers_of(conn, wish.id)
    ]


async def tell_followers(context: TongxinContext, wish: Wish) -> None:
    """The wish was just claimed, done, confirmed, cancelled or expired: tell the residents who joined it."""
    if wish.status not in PROGRESS_KEYS:
        return
    async with context.db.read() as conn:
        notices = await follower_notices(conn, wish)
    for user_id, notice, dedupe_key in notices:
        await context.notifier.notify(user_id, notice, lane="normal", dedupe_key=dedupe_key)


async def joined_section(context: TongxinContext) -> str | None:
    """For /mywishes: the wishes the person joined, each with its status in words (HTML); None if none."""
    assert context.person is not None
    async with context.db.read() as conn:
        joined = await followers.wishes_followed_by(conn, context.person.id, limit=JOINED_SHOWN)
    if not joined:
        return None
    lines = [context.t("similar.mine_title", count=len(joined))]
    lines += [
        context.t(
            "similar.mine_line",
            ref=wish_ref(wish.ref_no),
            summary=wish_cards.short_description(wish),
            # "Done, waiting for your confirmation" is the resident's to give, not the follower's.
            status=context.t("similar.status_done")
            if wish.status == "done"
            else wish_cards.status_words(context.t, wish.status),
        )
        for wish in joined
    ]
    return "\n".join(lines)
