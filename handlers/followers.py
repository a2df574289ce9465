"""Similar open wishes for residents: before a /wish is submitted, an open wish like it nearby is shown
with "Join that one" or "Submit anyway"; who joins follows that wish and is told when it is claimed,
done, confirmed, cancelled or expired (by the actions that move it: `actions.followers`), and finds it
in their /mywishes.

The /wish conversation (handlers/residents.py) calls `offer_similar` at Submit and `join_pressed` for
the Join button; /mywishes shows `joined_section`.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from actions import followers as follower_actions
from actions import wishes as wish_actions
from actions.buttons import Act, Button
from bot.context import TongxinContext
from channels.telegram import callbacks
from handlers import wish_cards
from rules.wishes import Actor, WishDraft, wish_ref
from storage.errors import Conflict, NotAllowed, NotFound
from storage.wishes import Wish

# Which progress of a followed wish its followers hear about (one table, the action's).
PROGRESS_KEYS = follower_actions.PROGRESS_KEYS


def _chat(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


def _actor(context: TongxinContext) -> Actor:
    assert context.person is not None
    return Actor(context.person.id, context.roles)


async def offer_similar(
    update: Update, context: TongxinContext, draft: WishDraft, offered_before: int | None
) -> int | None:
    """Show a similar open wish nearby with Join / Submit anyway and return its id; None when there is
    none, or when it is the one shown before (`offered_before`) and the person chose to submit anyway."""
    similar = await wish_actions.similar_to(context.env, _actor(context), draft)
    if similar is None or similar.id == offered_before:
        return None
    rows = (
        (Button("similar.button.join", Act.WISH_JOIN, similar.id),),
        (Button("similar.button.submit_anyway", Act.WISH_SUBMIT),),
    )
    await context.bot.send_message(
        _chat(update),
        context.t("similar.found", card=wish_cards.public_card(context.t, similar, context.now())),
        parse_mode=ParseMode.HTML,
        reply_markup=callbacks.keyboard(rows, context.plain),
    )
    return similar.id


async def join_pressed(update: Update, context: TongxinContext) -> bool:
    """Join that one: follow the similar wish (True), or say why it can no longer be joined (False)."""
    query = update.callback_query
    assert query is not None
    press = callbacks.decode(query.data)
    if press is None or press.act is not Act.WISH_JOIN:
        await query.answer(context.plain("error.stale_button"), show_alert=True)
        return False
    try:
        joined = await wish_actions.join(context.env, _actor(context), press.id)
    except (Conflict, NotAllowed, NotFound):
        await query.answer(context.plain("similar.gone"), show_alert=True)
        return False
    await query.answer()
    await query.edit_message_reply_markup(None)
    wish = joined.wish
    await context.bot.send_message(
        _chat(update),
        context.t("similar.joined", ref=wish_ref(wish.ref_no), status=wish_cards.status_words(context.t, wish.status)),
    )
    return True


def joined_section(context: TongxinContext, joined: list[Wish]) -> str | None:
    """For /mywishes: the wishes the person joined, each with its status in words (HTML); None if none."""
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
