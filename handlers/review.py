"""Coordinators' review queue `/pending`: wishes waiting for review (Approve, Reject with a reason,
Change category) and volunteer applications (their buttons: `handlers.volunteer_review`), in one place.

Every button checks the coordinator role again and goes through the lifecycle rules, so a second
coordinator pressing the same button gets "already handled" and nothing changes twice. Approving,
rejecting and recategorising a wish are actions (`actions/wishes.py`: the audit entry and the resident's
notice are written with the change); these handlers parse the press, call the action and show the card.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from actions import wishes as wish_actions
from actions.buttons import Act, Button
from channels import wish_cards
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from channels.telegram.media import send_photo_of
from conversations import pages
from conversations.base import Outcome
from conversations.rejection import WISH
from handlers import lists, volunteer_review
from handlers.access import require
from handlers.common import actor_of, conflict_reply, edit_in_place, expect_press, stale_press, tell
from handlers.conversing import written_once
from handlers.leaving import asking
from handlers.prompts import ANSWER, typed_answer
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import InvalidInput, wish_ref
from storage import applications
from storage import volunteers as profiles
from storage import wishes as store
from storage.errors import Conflict, NotAllowed, NotFound

REJECTING = "review_rejecting"
NOT_COMMAND = ~filters.COMMAND


def wish_review_buttons(context: TongxinContext, wish: store.Wish) -> InlineKeyboardMarkup:
    """Approve / Reject / Change category for a pending wish."""
    rows: list[list[Button]] = [
        [
            Button("pending.button.approve", Act.PENDING_APPROVE, wish.id),
            Button("pending.button.reject", Act.PENDING_REJECT, wish.id),
        ],
        [Button("pending.button.category", Act.PENDING_CATEGORY, wish.id)],
    ]
    if wish.voice_seconds is not None and not wish.description:  # spoken, no text yet: offer a summary line
        rows.append([Button("pending.button.summary", Act.PENDING_SUMMARY, wish.id)])
    return callbacks.keyboard(rows, context.plain)


def wish_review_card(context: TongxinContext, wish: store.Wish) -> str:
    """A pending wish with everything a coordinator may see."""
    submitted = wish.created_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M")
    text = wish_cards.full_details(context.t, wish) + "\n" + context.t("pending.submitted_at", at=submitted)
    if wish.photo_file_id or wish.photo_media_id is not None:
        text += "\n" + context.t("pending.has_photo")
    return text


async def show_queue(update: Update, context: TongxinContext) -> None:
    """/pending (or its button on a notice): every wish and volunteer application waiting, as one message with
    pages (wishes oldest first, then applications); a tap shows one card with its review buttons."""
    if not await require(update, context, Role.COORDINATOR) or context.person is None:
        return
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    page = press.id if press is not None and press.act == Act.PENDING_PAGE else 0
    if query is not None:
        await query.answer()
    if update.effective_chat is None:
        return
    text, markup = await queue_view(context, page)
    if press is not None and press.act == Act.PENDING_PAGE and query is not None:
        await edit_in_place(query, text, markup)
    else:
        await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def queue_view(context: TongxinContext, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the review queue: a line per wish or application, a button each for its card."""
    size = lists.PAGE_SIZE
    async with context.db.read() as conn:
        wish_count = await store.count_in_status(conn, lifecycle.WishStatus.PENDING_REVIEW)
        applicant_count = await applications.count_pending(conn, "volunteer")
        page, page_count = lists.clamp(page, wish_count + applicant_count)
        first = page * size
        waiting = await store.wishes_in_status(
            conn, lifecycle.WishStatus.PENDING_REVIEW, limit=max(0, min(size, wish_count - first)), offset=first
        )
        rest = size - len(waiting)
        applicants = (
            await applications.pending(conn, "volunteer", limit=rest, offset=max(0, first - wish_count)) if rest else []
        )
        volunteer_profiles = [await profiles.find_volunteer(conn, a.user_id) for a in applicants]
    if not wish_count and not applicant_count:
        return context.t("pending.queue_empty"), None
    named = [
        (application.id, profile.name if profile is not None else str(application.user_id))
        for application, profile in zip(applicants, volunteer_profiles, strict=True)
    ]
    shown = pages.pending(
        waiting, named, first=first, page=page, pages=page_count, counts=(wish_count, applicant_count)
    )
    return lists.page_view(context, shown)


async def view_pressed(update: Update, context: TongxinContext) -> None:
    """A wish or an application on /pending tapped: its card with the review buttons."""
    if not await require(update, context, Role.COORDINATOR) or context.person is None:
        return
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    if query is None or press is None or update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    async with context.db.read() as conn:
        try:
            if press.act == Act.PENDING_VIEW:
                wish = await store.get_wish(conn, press.id)
                application = None
            else:
                application = await applications.get_application(conn, press.id)
                profile = await profiles.find_volunteer(conn, application.user_id)
        except NotFound:
            await query.answer(context.plain("pending.gone"), show_alert=True)
            return
    if application is None:
        if wish.status != lifecycle.WishStatus.PENDING_REVIEW:
            await query.answer(context.plain("pending.gone"), show_alert=True)
            return
        await query.answer()
        await send_photo_of(  # the coordinator sees the photo before deciding
            context.bot,
            context.db,
            context.settings.media_dir,
            chat_id,
            file_id=wish.photo_file_id,
            media_id=wish.photo_media_id,
            caption=wish_ref(wish.ref_no),
        )
        if wish.voice_file_id:  # a spoken wish: the coordinator hears it before deciding
            await context.bot.send_voice(
                chat_id, wish.voice_file_id, caption=wish_ref(wish.ref_no), duration=wish.voice_seconds
            )
        await context.bot.send_message(
            chat_id,
            wish_review_card(context, wish),
            parse_mode=ParseMode.HTML,
            reply_markup=wish_review_buttons(context, wish),
        )
        return
    if application.status != "pending":
        await query.answer(context.plain("pending.gone"), show_alert=True)
        return
    await query.answer()
    await context.bot.send_message(
        chat_id,
        volunteer_review.application_card(context, application.user_id, profile),
        parse_mode=ParseMode.HTML,
        reply_markup=volunteer_review.application_buttons(context, application),
    )


async def approve_pressed(update: Update, context: TongxinContext) -> None:
    """Approve a wish: volunteers can see it now (the action tells the resident)."""
    if not await require(update, context, Role.COORDINATOR) or context.person is None:
        return
    if (press := await expect_press(update, context, Act.PENDING_APPROVE)) is None:
        return
    try:
        approved = await wish_actions.approve(context.env, actor_of(context), press.id)
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    query = update.callback_query
    assert query is not None
    await query.answer(context.plain("pending.approved_short"))
    await query.edit_message_text(
        wish_review_card(context, approved.wish)
        + "\n\n"
        + context.t("pending.approved_by", name=html.escape(context.person.first_name)),
        parse_mode=ParseMode.HTML,
    )


async def category_pressed(update: Update, context: TongxinContext) -> None:
    """Offer the categories for this wish."""
    if not await require(update, context, Role.COORDINATOR):
        return
    if (press := await expect_press(update, context, Act.PENDING_CATEGORY)) is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    buttons = [
        Button(f"category.{key}", Act.PENDING_SET_CATEGORY, press.id, key) for key in context.settings.categories
    ]
    await query.edit_message_reply_markup(
        callbacks.keyboard([buttons[i : i + 2] for i in range(0, len(buttons), 2)], context.plain)
    )


async def category_set(update: Update, context: TongxinContext) -> None:
    """File the wish under the chosen category and show its card again."""
    if not await require(update, context, Role.COORDINATOR):
        return
    if (press := await expect_press(update, context, Act.PENDING_SET_CATEGORY)) is None or press.arg is None:
        return
    try:
        changed = await wish_actions.recategorize(context.env, actor_of(context), press.id, press.arg)
    except InvalidInput:
        await stale_press(update, context)
        return
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    query = update.callback_query
    assert query is not None
    wish = changed.wish
    await query.answer(context.plain("pending.category_changed"))
    buttons = wish_review_buttons(context, wish) if wish.status == lifecycle.WishStatus.PENDING_REVIEW else None
    await query.edit_message_text(wish_review_card(context, wish), parse_mode=ParseMode.HTML, reply_markup=buttons)


async def start_reject(update: Update, context: TongxinContext) -> Outcome | None:
    """不通过 on a wish: the layer's rejection (conversations/rejection.py) asks the reason the resident will read."""
    if not await require(update, context, Role.COORDINATOR) or context.person is None:
        return None
    if (press := await expect_press(update, context, Act.PENDING_REJECT)) is None:
        return None
    return await WISH.start(context.env, actor_of(context), press.id)


def reject_conversation() -> ConversationHandler[TongxinContext]:
    """Reject → reason → the person is told, written once in conversations/rejection.py."""
    pressed = CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.PENDING_REJECT))
    return written_once(WISH, lambda context: WISH, key=REJECTING, entry_points=[(pressed, start_reject)])


SUMMARIZING = "summarizing_wish"


async def summary_not_text(update: Update, context: TongxinContext) -> None:
    """Something other than text where the summary line is expected."""
    await tell(update, context, "wish.note_expected")


async def cancel_summary(update: Update, context: TongxinContext) -> int:
    """/cancel: the wish keeps its voice note alone."""
    if context.user_data is not None:
        context.user_data.pop(SUMMARIZING, None)
    await tell(update, context, "cancel.done")
    return ConversationHandler.END


async def summary_pressed(update: Update, context: TongxinContext) -> int:
    """One line for a spoken wish: ask for it."""
    assert context.user_data is not None
    if not await require(update, context, Role.COORDINATOR):
        return ConversationHandler.END
    if (press := await expect_press(update, context, Act.PENDING_SUMMARY)) is None:
        return ConversationHandler.END
    assert update.callback_query is not None
    await update.callback_query.answer()
    context.user_data[SUMMARIZING] = press.id
    await context.bot.send_message(context.chat_id, asking(context, "pending.ask_summary", max=lifecycle.SUMMARY_MAX))
    return ANSWER


async def summary_typed(update: Update, context: TongxinContext) -> int:
    """Keep the line as the wish's description (the voice note stays)."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    assert context.user_data is not None
    wish_id = int(context.user_data.get(SUMMARIZING, 0))
    try:
        changed = await wish_actions.summarize(context.env, actor_of(context), wish_id, message.text)
    except InvalidInput:
        await message.reply_text(context.t("pending.summary_invalid", max=lifecycle.SUMMARY_MAX))
        return ANSWER
    except (Conflict, NotAllowed, NotFound) as exc:
        context.user_data.pop(SUMMARIZING, None)
        await conflict_reply(update, context, exc)
        return ConversationHandler.END
    context.user_data.pop(SUMMARIZING, None)
    await message.reply_text(
        wish_review_card(context, changed.wish),
        parse_mode=ParseMode.HTML,
        reply_markup=wish_review_buttons(context, changed.wish)
        if changed.wish.status == lifecycle.WishStatus.PENDING_REVIEW
        else None,
    )
    return ConversationHandler.END


def summary_conversation() -> ConversationHandler[TongxinContext]:
    """Summary → one typed line → the card again."""
    return typed_answer(
        name="review_summary",
        pattern=callbacks.pattern(Act.PENDING_SUMMARY),
        asked=summary_pressed,
        answered=summary_typed,
        not_text=summary_not_text,
        cancelled=cancel_summary,
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Rejecting with a reason; a summary line for a spoken wish."""
    return [reject_conversation(), summary_conversation()]  # type: ignore[list-item]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/pending and the review buttons."""
    return [
        CommandHandler("pending", show_queue),
        CallbackQueryHandler(show_queue, pattern=callbacks.pattern(Act.PENDING_LIST, Act.PENDING_PAGE)),
        CallbackQueryHandler(view_pressed, pattern=callbacks.pattern(Act.PENDING_VIEW, Act.PENDING_VOLUNTEER_VIEW)),
        CallbackQueryHandler(approve_pressed, pattern=callbacks.pattern(Act.PENDING_APPROVE)),
        CallbackQueryHandler(category_pressed, pattern=callbacks.pattern(Act.PENDING_CATEGORY)),
        CallbackQueryHandler(category_set, pattern=callbacks.pattern(Act.PENDING_SET_CATEGORY)),
        # A wish's review button that is garbled, forged or out of range: say so rather than stay silent.
        CallbackQueryHandler(
            stale_press,
            pattern=callbacks.prefix_pattern(
                Act.PENDING_LIST,
                Act.PENDING_PAGE,
                Act.PENDING_VIEW,
                Act.PENDING_VOLUNTEER_VIEW,
                Act.PENDING_APPROVE,
                Act.PENDING_REJECT,
                Act.PENDING_CATEGORY,
                Act.PENDING_SET_CATEGORY,
                Act.PENDING_SUMMARY,
            ),
        ),
    ]
