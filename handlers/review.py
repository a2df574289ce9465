"""Coordinators' review queue `/pending`: wishes waiting for review (Approve, Reject with a reason,
Change category) and volunteer applications (Approve, Reject with a reason), in one place.

Every button checks the coordinator role again and goes through the lifecycle rules, so a second
coordinator pressing the same button gets "already handled" and nothing changes twice.
"""

from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.context import TongxinContext
from bot.notify import Notice
from handlers import wish_cards
from handlers.access import require
from handlers.basics import refresh_menu_of
from handlers.prompts import ANSWER, typed_answer
from handlers.residents import actor_of, conflict_reply
from rules import wishes as lifecycle
from rules.applications import ApplicationAction
from rules.roles import Role
from rules.wishes import InvalidInput, wish_ref
from storage import applications, audit, users
from storage import volunteers as profiles
from storage import wishes as store
from storage.errors import Conflict, NotAllowed, NotFound

REJECTING = "review_rejecting"
QUEUE_SHOWN = 10
NOT_COMMAND = ~filters.COMMAND


def wish_review_buttons(context: TongxinContext, wish: store.Wish) -> InlineKeyboardMarkup:
    """Approve / Reject / Change category for a pending wish."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(context.t("pending.button.approve"), callback_data=f"pending:approve:{wish.id}"),
                InlineKeyboardButton(context.t("pending.button.reject"), callback_data=f"pending:reject:{wish.id}"),
            ],
            [InlineKeyboardButton(context.t("pending.button.category"), callback_data=f"pending:cat:{wish.id}")],
        ]
    )


def wish_review_card(context: TongxinContext, wish: store.Wish) -> str:
    """A pending wish with everything a coordinator may see."""
    submitted = wish.created_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M")
    text = wish_cards.full_details(context.t, wish) + "\n" + context.t("pending.submitted_at", at=submitted)
    if wish.photo_file_id:
        text += "\n" + context.t("pending.has_photo")
    return text


async def show_queue(update: Update, context: TongxinContext) -> None:
    """/pending (or its button on a notice): every wish and volunteer application waiting, one card each."""
    if not await require(update, context, Role.COORDINATOR) or context.person is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat_id = context.chat_id
    async with context.db.read() as conn:
        waiting = await store.wishes_in_status(conn, lifecycle.WishStatus.PENDING_REVIEW, limit=QUEUE_SHOWN)
        applicants = await applications.pending(conn, "volunteer", limit=QUEUE_SHOWN)
        volunteer_profiles = [await profiles.find_volunteer(conn, a.user_id) for a in applicants]
    if not waiting and not applicants:
        await context.bot.send_message(chat_id, context.t("pending.queue_empty"))
        return
    await context.bot.send_message(
        chat_id, context.t("pending.queue_title", wishes=len(waiting), volunteers=len(applicants))
    )
    for wish in waiting:
        await context.bot.send_message(
            chat_id,
            wish_review_card(context, wish),
            parse_mode=ParseMode.HTML,
            reply_markup=wish_review_buttons(context, wish),
        )
    for application, profile in zip(applicants, volunteer_profiles, strict=True):
        await context.bot.send_message(
            chat_id,
            application_card(context, application.user_id, profile),
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            context.t("pending.button.approve"), callback_data=f"pending:vapprove:{application.id}"
                        ),
                        InlineKeyboardButton(
                            context.t("pending.button.reject"), callback_data=f"pending:vreject:{application.id}"
                        ),
                    ]
                ]
            ),
        )


def application_card(context: TongxinContext, user_id: int, profile: profiles.Volunteer | None) -> str:
    """A volunteer application with the profile the person entered."""
    if profile is None:
        return context.t("pending.application_bare", user_id=user_id)
    return context.t(
        "pending.application",
        name=html.escape(profile.name),
        phone=html.escape(profile.phone) if profile.phone else context.t("wish.no_phone"),
        skills="、".join(context.t(f"category.{key}") for key in sorted(profile.skills)),
        area=html.escape(profile.area) if profile.area else context.t("wish.area_unknown"),
    )


def numbers_in(data: str | None, pattern: str) -> tuple[int, ...] | None:
    """The numbers of callback data matching `pattern`, or None (the data is never trusted further)."""
    match = re.fullmatch(pattern, data or "")
    return tuple(int(g) for g in match.groups() if g.isdigit()) if match else None


async def approve_pressed(update: Update, context: TongxinContext) -> None:
    """Approve a wish: volunteers can see it now; the resident is told."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.COORDINATOR) or context.person is None:
        return
    if (ids := numbers_in(query.data, r"pending:approve:(\d+)")) is None:
        await query.answer()
        return
    now = context.now()
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.approve_wish(conn, ids[0], actor=actor_of(context), now=now)
            await audit.record(
                conn, actor_id=context.person.id, action="wish.approve", subject=wish_ref(wish.ref_no), now=now
            )
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    await query.answer(context.t("pending.approved_short"))
    await query.edit_message_text(
        wish_review_card(context, wish)
        + "\n\n"
        + context.t("pending.approved_by", name=html.escape(context.person.first_name)),
        parse_mode=ParseMode.HTML,
    )
    await context.notifier.notify(
        wish.resident_id,
        Notice("wish.notice_approved", {"ref": wish_ref(wish.ref_no)}),
        lane="normal",
        dedupe_key=f"wish-approved:{wish.id}",
    )


async def category_pressed(update: Update, context: TongxinContext) -> None:
    """Offer the categories for this wish."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.COORDINATOR):
        return
    if (ids := numbers_in(query.data, r"pending:cat:(\d+)")) is None:
        await query.answer()
        return
    await query.answer()
    buttons = [
        InlineKeyboardButton(context.t(f"category.{key}"), callback_data=f"pending:setcat:{ids[0]}:{key}")
        for key in context.settings.categories
    ]
    await query.edit_message_reply_markup(InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]))


async def category_set(update: Update, context: TongxinContext) -> None:
    """File the wish under the chosen category and show its card again."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.COORDINATOR) or context.person is None:
        return
    match = re.fullmatch(r"pending:setcat:(\d+):([a-z_]+)", query.data or "")
    if match is None or match.group(2) not in context.settings.categories:
        await query.answer()
        return
    now = context.now()
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.change_category(
                conn, int(match.group(1)), match.group(2), actor=actor_of(context), now=now
            )
            await audit.record(
                conn,
                actor_id=context.person.id,
                action="wish.category",
                subject=wish_ref(wish.ref_no),
                now=now,
                detail=wish.category,
            )
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    await query.answer(context.t("pending.category_changed"))
    buttons = wish_review_buttons(context, wish) if wish.status == lifecycle.WishStatus.PENDING_REVIEW else None
    await query.edit_message_text(wish_review_card(context, wish), parse_mode=ParseMode.HTML, reply_markup=buttons)


async def approve_volunteer_pressed(update: Update, context: TongxinContext) -> None:
    """Approve a volunteer application: the person gets the role, a new menu and a welcome."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.COORDINATOR) or context.person is None:
        return
    if (ids := numbers_in(query.data, r"pending:vapprove:(\d+)")) is None:
        await query.answer()
        return
    now = context.now()
    try:
        async with context.db.write() as conn:
            application = await applications.transition(
                conn, ids[0], ApplicationAction.APPROVE, actor_id=context.person.id, now=now
            )
            await audit.record(
                conn, actor_id=context.person.id, action="volunteer.approve", subject=str(application.user_id), now=now
            )
            person = await users.get_user(conn, application.user_id)
    except (Conflict, NotFound):
        await query.answer(context.t("pending.already_decided"), show_alert=True)
        return
    await query.answer(context.t("pending.approved_short"))
    await query.edit_message_reply_markup(None)
    await context.bot.send_message(
        context.chat_id, context.t("pending.volunteer_approved", name=html.escape(person.display_name))
    )
    await refresh_menu_of(context, person)
    await context.notifier.notify(
        person.id, Notice("volunteer.notice_approved"), lane="normal", dedupe_key=f"volunteer-approved:{application.id}"
    )


async def reject_pressed(update: Update, context: TongxinContext) -> int:
    """Reject (a wish or an application): ask the reason the person will read."""
    query = update.callback_query
    assert query is not None
    assert context.user_data is not None
    if not await require(update, context, Role.COORDINATOR) or context.person is None:
        return ConversationHandler.END
    match = re.fullmatch(r"pending:(reject|vreject):(\d+)", query.data or "")
    if match is None:
        await query.answer()
        return ConversationHandler.END
    kind, item_id = ("wish" if match.group(1) == "reject" else "application"), int(match.group(2))
    try:
        async with context.db.read() as conn:
            if kind == "wish":
                wish = await store.get_wish(conn, item_id)
                lifecycle.ensure_allowed(wish, lifecycle.WishAction.REJECT, actor_of(context))
            elif (await applications.get_application(conn, item_id)).status != "pending":
                raise Conflict(current="decided")
    except (Conflict, NotAllowed, NotFound) as exc:
        if kind == "application":
            await query.answer(context.t("pending.already_decided"), show_alert=True)
        else:
            await conflict_reply(update, context, exc)
        return ConversationHandler.END
    await query.answer()
    context.user_data[REJECTING] = [kind, item_id]
    await context.bot.send_message(context.chat_id, context.t("pending.ask_reason", max=lifecycle.NOTE_MAX))
    return ANSWER


async def reason_typed(update: Update, context: TongxinContext) -> int:
    """Reject with the typed reason and send it to the person."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    assert context.user_data is not None
    assert context.person is not None
    try:
        reason = lifecycle.check_text(message.text, lifecycle.NOTE_MAX)
    except InvalidInput:
        await message.reply_text(context.t("wish.note_too_long", max=lifecycle.NOTE_MAX))
        return ANSWER
    kind, item_id = context.user_data.pop(REJECTING, ["", 0])
    now = context.now()
    try:
        async with context.db.write() as conn:
            if kind == "wish":
                wish = await lifecycle.reject_wish(conn, int(item_id), actor=actor_of(context), now=now, reason=reason)
                recipient, notice = (
                    wish.resident_id,
                    Notice("wish.notice_rejected", {"ref": wish_ref(wish.ref_no), "reason": reason}),
                )
                subject = wish_ref(wish.ref_no)
            else:
                application = await applications.transition(
                    conn, int(item_id), ApplicationAction.REJECT, actor_id=context.person.id, now=now, note=reason
                )
                recipient, notice = (
                    application.user_id,
                    Notice("volunteer.notice_rejected", {"reason": reason}),
                )
                subject = str(application.user_id)
            await audit.record(
                conn, actor_id=context.person.id, action=f"{kind}.reject", subject=subject, now=now, detail=reason
            )
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return ConversationHandler.END
    await message.reply_text(context.t("pending.rejected"))
    await context.notifier.notify(recipient, notice, lane="normal", dedupe_key=f"{kind}-rejected:{item_id}")
    return ConversationHandler.END


async def reason_not_text(update: Update, context: TongxinContext) -> None:
    """Something other than text where the reason is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.note_expected"))


async def cancel(update: Update, context: TongxinContext) -> int:
    """/cancel: nothing is rejected."""
    if context.user_data is not None:
        context.user_data.pop(REJECTING, None)
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("cancel.done"))
    return ConversationHandler.END


def reject_conversation() -> ConversationHandler[TongxinContext]:
    """Reject → reason → the person is told."""
    return typed_answer(
        name="review_reject",
        pattern=r"^pending:v?reject:\d+$",
        asked=reject_pressed,
        answered=reason_typed,
        not_text=reason_not_text,
        cancelled=cancel,
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Rejecting with a reason."""
    return [reject_conversation()]  # type: ignore[list-item]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/pending and the review buttons."""
    return [
        CommandHandler("pending", show_queue),
        CallbackQueryHandler(show_queue, pattern=r"^pending:list$"),
        CallbackQueryHandler(approve_pressed, pattern=r"^pending:approve:\d+$"),
        CallbackQueryHandler(category_pressed, pattern=r"^pending:cat:\d+$"),
        CallbackQueryHandler(category_set, pattern=r"^pending:setcat:"),
        CallbackQueryHandler(approve_volunteer_pressed, pattern=r"^pending:vapprove:\d+$"),
    ]
