"""Residents: `/wish` (the wish form written once in `conversations/wish.py`, rendered here: also started from the
/start button and from plain words), `/mywishes` with the actions each status allows, and "not done yet" with a
note for the volunteer (`conversations/not_yet.py`).

What a submit, cancel, confirm, rating or "not done yet" sets off (coordinators, the volunteer, the followers, the
story lead) is the action's (`actions/wishes.py`); these handlers parse, call and reply. Diagram: docs/wish.mmd.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler

from actions import wishes as wish_actions
from actions.buttons import Act
from channels import wish_cards
from channels.telegram import callbacks, render
from channels.telegram.context import TongxinContext
from conversations import pages
from conversations.base import Outcome
from conversations.not_yet import NotYet
from conversations.wish import WishConversation, WishForm
from handlers import followers, lists, plain_words
from handlers.common import actor_of, conflict_reply, expect_press, stale_press, unchanged
from handlers.conversing import written_once
from rules import wishes as lifecycle
from rules.wishes import InvalidInput
from storage import wishes as store
from storage.errors import Conflict, NotAllowed, NotFound

DRAFT = "wish_draft"


def chat_of(update: Update) -> int:
    """The chat to answer in (a chat id, not a person id: the two may differ)."""
    assert update.effective_chat is not None
    return update.effective_chat.id


# --- the /wish conversation (conversations/wish.py) --------------------------------------------------------


def wish_form(context: TongxinContext) -> WishConversation:
    return WishConversation(context.settings.categories, context.settings.areas)


async def start_wish(update: Update, context: TongxinContext) -> Outcome:
    """/wish or the /start button: a fresh form (today's limit checked first)."""
    return await wish_form(context).start(context.env, actor_of(context))


async def start_wish_from_text(update: Update, context: TongxinContext) -> Outcome | None:
    """[提交为微心愿] under plain words: a wish with those words as the description and the category guessed (both
    can be changed in the summary), or with the voice note as the description; words too short for a
    description start the usual form."""
    query = update.callback_query
    press = plain_words.press_of(update)
    if query is None or press is None or (text := plain_words.pending_text(context, press.id)) is None:
        if query is not None:
            await query.answer(context.plain("plain.expired"), show_alert=True)
        return None
    voice = plain_words.pending_voice(context, press.id)
    plain_words.forget(context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    prefill: WishForm | None = None
    if voice is not None:
        prefill = WishForm(voice=voice[0], voice_seconds=voice[1])
    else:
        try:
            description = lifecycle.check_description(text)
        except InvalidInput:
            description = None
        if description is not None:
            prefill = WishForm(category=plain_words.category_of(context, text), description=description)
    return await wish_form(context).start(context.env, actor_of(context), prefill)


def wish_conversation() -> ConversationHandler[TongxinContext]:
    """/wish: category → description → area → place → photo → phone → summary (docs/wish.mmd)."""
    return written_once(
        WishConversation((), ()),
        wish_form,
        key=DRAFT,
        entry_points=[
            (CommandHandler("wish", stale_press), start_wish),
            (CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.WISH_NEW)), start_wish),
            (
                CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.WISH_FROM_TEXT)),
                start_wish_from_text,
            ),
        ],
    )


# --- /mywishes and the resident's buttons ----------------------------------------------------------------

NOT_YET = "wish_notyet"


def resident_buttons(context: TongxinContext, wish: store.Wish) -> InlineKeyboardMarkup | None:
    """The actions this wish's status allows its resident (`conversations.pages.wish_buttons`)."""
    rows = pages.wish_buttons(wish)
    return callbacks.keyboard(rows, context.plain) if rows else None


def my_wishes_view(context: TongxinContext, mine: wish_actions.Mine) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the resident's wishes (`conversations.pages.my_wishes`)."""
    return lists.page_view(context, pages.my_wishes(mine))


async def list_my_wishes(update: Update, context: TongxinContext) -> None:
    """/mywishes: the resident's wishes as one message with pages (a tap shows one with its buttons), then
    the wishes joined."""
    message = update.effective_message
    if message is None or context.person is None:
        return
    mine = await wish_actions.mine(context.env, actor_of(context))
    joined = followers.joined_section(context, mine.joined)
    if not mine.wishes and joined is None:
        await message.reply_text(context.t("wish.mine.none"))
        return
    if mine.wishes:
        text, markup = my_wishes_view(context, mine)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    if joined is not None:
        await message.reply_text(joined, parse_mode=ParseMode.HTML)


async def my_wishes_page_pressed(update: Update, context: TongxinContext) -> None:
    """◀ / ▶ on /mywishes: redraw the list in place."""
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    if query is None or press is None or context.person is None:
        return
    await query.answer()
    mine = await wish_actions.mine(context.env, actor_of(context), press.id)
    if not mine.wishes:
        await query.edit_message_text(context.t("wish.mine.none"))
        return
    text, markup = my_wishes_view(context, mine)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def show_wish_pressed(update: Update, context: TongxinContext) -> None:
    """A wish on /mywishes tapped: its card with the buttons its status allows (only the resident's own)."""
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    if query is None or press is None or context.person is None:
        return
    wish = await wish_actions.own_wish(context.env, actor_of(context), press.id)
    if wish is None:
        await query.answer(context.plain("error.not_allowed"), show_alert=True)
        return
    await query.answer()
    if (chat := update.effective_chat) is not None:
        await context.bot.send_message(
            chat.id,
            wish_cards.resident_card(context.t, wish, await wish_actions.referral(context.env, wish)),
            parse_mode=ParseMode.HTML,
            reply_markup=resident_buttons(context, wish),
        )


async def show_updated(update: Update, context: TongxinContext, wish: store.Wish, extra_key: str | None = None) -> None:
    """Replace the pressed card with the wish as it is now."""
    query = update.callback_query
    assert query is not None
    text = wish_cards.resident_card(context.t, wish)
    if extra_key:
        text += "\n\n" + context.t(extra_key)
    if unchanged(context, query.message, text, resident_buttons(context, wish)):
        return  # the same button pressed twice: the card shows this already
    if query.message is not None and isinstance(query.message, Message) and query.message.photo:
        await query.edit_message_caption(
            render.whole_lines(text.split("\n"), render.CAPTION_MAX),
            parse_mode=ParseMode.HTML,
            reply_markup=resident_buttons(context, wish),
        )
    else:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=resident_buttons(context, wish))


async def cancel_pressed(update: Update, context: TongxinContext) -> None:
    """The resident withdraws a wish (the action tells a volunteer who had claimed it, and the followers)."""
    if (press := await expect_press(update, context, Act.WISH_CANCEL)) is None:
        return
    try:
        changed = await wish_actions.cancel(context.env, actor_of(context), press.id)
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    assert update.callback_query is not None
    await update.callback_query.answer(context.plain("wish.cancelled"))
    await show_updated(update, context, changed.wish)


async def confirm_pressed(update: Update, context: TongxinContext) -> None:
    """ "It's done — thank you": the hours count; ask for a rating (the action thanks the volunteer)."""
    if (press := await expect_press(update, context, Act.WISH_CONFIRM)) is None:
        return
    try:
        confirmed = await wish_actions.confirm(context.env, actor_of(context), press.id)
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await show_updated(update, context, confirmed.wish, "wish.confirmed_rate")


async def rate_pressed(update: Update, context: TongxinContext) -> None:
    """A 1–5 rating of a confirmed wish (the action tells the volunteer)."""
    if (press := await expect_press(update, context, Act.WISH_RATE)) is None or press.arg is None:
        return
    try:
        changed = await wish_actions.rate(context.env, actor_of(context), press.id, int(press.arg))
    except InvalidInput:
        await stale_press(update, context)
        return
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    assert update.callback_query is not None
    await update.callback_query.answer(context.plain("wish.rated"))
    await show_updated(update, context, changed.wish, "wish.rated")


async def start_not_yet(update: Update, context: TongxinContext) -> Outcome | None:
    """还没办好: what is missing is asked (conversations/not_yet.py)."""
    if (press := await expect_press(update, context, Act.WISH_NOT_YET)) is None:
        return None
    return await NotYet().start(context.env, actor_of(context), press.id)


def not_yet_conversation() -> ConversationHandler[TongxinContext]:
    """ "Not done yet" → the resident's note → back to the volunteer."""
    return written_once(
        NotYet(),
        lambda context: NotYet(),
        key=NOT_YET,
        entry_points=[(CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.WISH_NOT_YET)), start_not_yet)],
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/wish and "not done yet"."""
    return [wish_conversation(), not_yet_conversation()]  # type: ignore[list-item]


# Every button of a resident's wish; a press of one that reaches the last handler below is stale or forged.
RESIDENT_ACTS = (
    Act.WISH_NEW,
    Act.WISH_CATEGORY,
    Act.WISH_AREA,
    Act.WISH_SUBMIT,
    Act.WISH_EDIT,
    Act.WISH_FIELD,
    Act.WISH_DISCARD,
    Act.WISH_JOIN,
    Act.WISH_CONFIRM,
    Act.WISH_NOT_YET,
    Act.WISH_CANCEL,
    Act.WISH_RATE,
    Act.WISH_MINE_PAGE,
    Act.WISH_SHOW,
)


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/mywishes and the resident's buttons on their wishes; then an answer for stale or forged presses."""
    return [
        CommandHandler("mywishes", list_my_wishes),
        CallbackQueryHandler(my_wishes_page_pressed, pattern=callbacks.pattern(Act.WISH_MINE_PAGE)),
        CallbackQueryHandler(show_wish_pressed, pattern=callbacks.pattern(Act.WISH_SHOW)),
        CallbackQueryHandler(cancel_pressed, pattern=callbacks.pattern(Act.WISH_CANCEL)),
        CallbackQueryHandler(confirm_pressed, pattern=callbacks.pattern(Act.WISH_CONFIRM)),
        CallbackQueryHandler(rate_pressed, pattern=callbacks.pattern(Act.WISH_RATE)),
        CallbackQueryHandler(stale_press, pattern=callbacks.prefix_pattern(*RESIDENT_ACTS)),
    ]
