"""The newsroom desk: `/review` shows editors the queue of new tips (oldest first), each as its media (an
album) followed by a card with Accept, Decline, Ask for more and Published; it also lists accepted tips
waiting for publication and the pending reporter applications, which editors approve here.

Decline, Ask for more and Published need a few words from the editor (a reason, a question, the link),
so they open a short conversation (`review_note`). Every button re-checks the editor role and the tip's
current status in the database; when two editors act at once, one wins and the other is told.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, InputMediaVideo, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
)

from actions.buttons import Act, Button
from bot.context import TongxinContext
from bot.notify import Notice
from handlers.access import require
from handlers.prompts import ANSWER, typed_answer
from rules.applications import ApplicationAction, ApplicationStatus
from rules.roles import Role
from rules.tips import (
    TipAction,
    TipInputError,
    TipStatus,
    actions_for,
    category_key,
    clean_link,
    clean_note,
    next_status,
    status_key,
)
from rules.wishes import wish_ref
from storage import applications, audit, people, tips, users
from storage.errors import Conflict, NotAllowed, NotFound

log = logging.getLogger(__name__)

QUEUE_PAGE = 5
REVIEWING = "tip_review"
# Button prefixes: tip:<action>:<id> acts on a tip, tiprev:<list> opens a list, tipapp:<decision>:<id> decides
# a reporter application. Short action names keep callback data well under 64 bytes.
BUTTON_ACTIONS = {
    "accept": TipAction.ACCEPT,
    "decline": TipAction.DECLINE,
    "more": TipAction.ASK_MORE,
    "publish": TipAction.PUBLISH,
}
ACTION_BUTTONS = {action: name for name, action in BUTTON_ACTIONS.items()}
# A card's buttons also carry the status the card showed (tip:<action>:<id>:<status code>), so a decision
# taken on an outdated card is refused instead of overruling a colleague's.
STATUS_CODES = {
    TipStatus.NEW: "n",
    TipStatus.ACCEPTED: "a",
    TipStatus.MORE_INFO_REQUESTED: "m",
    TipStatus.PUBLISHED: "p",
    TipStatus.DECLINED: "d",
}
CODE_STATUSES = {code: status for status, code in STATUS_CODES.items()}
# What the editor is asked for before a decision that needs words, and what the reporter is told after.
NOTE_PROMPTS = {
    TipAction.DECLINE: "review.ask_reason",
    TipAction.ASK_MORE: "review.ask_question",
    TipAction.PUBLISH: "review.ask_link",
}
REPORTER_NOTICES = {
    TipStatus.ACCEPTED: "tip.notice_accepted",
    TipStatus.DECLINED: "tip.notice_declined",
    TipStatus.MORE_INFO_REQUESTED: "tip.notice_more_info",
    TipStatus.PUBLISHED: "tip.notice_published",
}


def drafts(context: TongxinContext) -> dict[Any, Any]:
    """The person's own scratch data (conversation drafts); every update handled here comes from a person."""
    if context.user_data is None:
        raise RuntimeError("an update without a user reached a conversation step")
    return context.user_data


async def notify_editors(context: TongxinContext, notice: Notice, *, dedupe_key: str | None) -> None:
    """Tell every editor (admins included) about something new for the desk."""
    async with context.db.read() as conn:
        editors = await users.ids_with_role(conn, Role.EDITOR)
        # An admin from the settings who never opened a chat with the bot has no person yet: left out.
        editors += await people.admin_person_ids(conn, context.settings.admin_ids)
    for editor_id in dict.fromkeys(editors):
        key = f"{dedupe_key}:{editor_id}" if dedupe_key else None
        await context.notifier.notify(editor_id, notice, lane="normal", dedupe_key=key)


# -- /review ---------------------------------------------------------------------------------------------


async def show_queue(update: Update, context: TongxinContext) -> None:
    """/review: the oldest new tips, each with its media and a card of buttons, then the other lists."""
    if (message := update.effective_message) is None or update.effective_chat is None:
        return
    if not await require(update, context, Role.EDITOR):
        return
    async with context.db.read() as conn:
        queue = await tips.review_queue(conn, QUEUE_PAGE)
        waiting = await tips.count_in_status(conn, TipStatus.NEW)
        accepted = await tips.count_in_status(conn, TipStatus.ACCEPTED)
        pending = await applications.pending(conn, "reporter")
    key = "review.queue_title" if waiting else "review.queue_empty"
    await message.reply_text(context.t(key, count=waiting, shown=len(queue)))
    for tip in queue:
        await send_tip(context, update.effective_chat.id, tip)
    extras = []
    if accepted:
        extras.append(
            [InlineKeyboardButton(context.t("review.button_accepted", count=accepted), callback_data="tiprev:accepted")]
        )
    if pending:
        extras.append(
            [
                InlineKeyboardButton(
                    context.t("review.button_applications", count=len(pending)), callback_data="tiprev:apps"
                )
            ]
        )
    if extras:
        await message.reply_text(context.t("review.more_lists"), reply_markup=InlineKeyboardMarkup(extras))


async def send_tip(context: TongxinContext, chat_id: int, tip: tips.Tip) -> None:
    """A tip's photos and videos (as an album when there are several), its files, then its card."""
    visual = [m for m in tip.media if m.kind in ("photo", "video")]
    for start in range(0, len(visual), 10):
        chunk = visual[start : start + 10]
        caption = tip.reference if start == 0 else None
        if len(chunk) == 1:
            item = chunk[0]
            if item.kind == "photo":
                await context.bot.send_photo(chat_id, item.file_id, caption=caption)
            else:
                await context.bot.send_video(chat_id, item.file_id, caption=caption)
            continue
        album = [
            InputMediaPhoto(m.file_id, caption=caption if i == 0 else None)
            if m.kind == "photo"
            else InputMediaVideo(m.file_id, caption=caption if i == 0 else None)
            for i, m in enumerate(chunk)
        ]
        await context.bot.send_media_group(chat_id, album)
    for document in (m for m in tip.media if m.kind == "document"):
        await context.bot.send_document(chat_id, document.file_id, caption=tip.reference)
    text = await render_card(context, tip)
    await context.bot.send_message(
        chat_id, text, parse_mode=ParseMode.HTML, reply_markup=card_buttons(context, tip), disable_web_page_preview=True
    )


async def render_card(context: TongxinContext, tip: tips.Tip) -> str:
    """The card under a tip's media: reference, status, who sent it, when, what, and the questions asked."""
    async with context.db.read() as conn:
        events = await tips.events_of(conn, tip.id)
        try:
            reporter = await users.get_user(conn, tip.reporter_id) if tip.reporter_id else None
        except NotFound:
            reporter = None
    name = html.escape(reporter.display_name) if reporter else context.t("review.unknown_reporter")
    lines = [
        context.t(
            "review.card",
            reference=tip.reference,
            status=context.t(status_key(tip.status)),
            category=context.t(category_key(tip.category)),
            name=name,
            when=tip.created_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M"),
            media=len(tip.media),
        )
    ]
    if tip.by_reporter:
        lines.append(context.t("review.by_reporter"))
    if tip.source_wish_ref is not None:
        lines.append(context.t("review.from_wish", reference=tip.reference, wish=wish_ref(tip.source_wish_ref)))
    lines.append(html.escape(tip.description))
    if tip.location:
        lines.append(
            context.t("review.location", latitude=f"{tip.location[0]:.5f}", longitude=f"{tip.location[1]:.5f}")
        )
    for event in events:
        if event.to_status == TipStatus.MORE_INFO_REQUESTED and event.note:
            lines.append(context.t("review.question", text=html.escape(event.note)))
        elif event.from_status == TipStatus.MORE_INFO_REQUESTED and event.to_status == TipStatus.NEW:
            lines.append(context.t("review.answer", text=html.escape(event.note or "—")))
    if tip.published_url:
        lines.append(context.t("review.published_at", link=html.escape(tip.published_url)))
    return "\n".join(lines)


def card_buttons(context: TongxinContext, tip: tips.Tip) -> InlineKeyboardMarkup | None:
    """The decisions a tip's status still allows, as buttons."""
    buttons = [
        InlineKeyboardButton(
            context.t(f"review.button_{ACTION_BUTTONS[action]}"),
            callback_data=f"tip:{ACTION_BUTTONS[action]}:{tip.id}:{STATUS_CODES[tip.status]}",
        )
        for action in actions_for(tip.status)
    ]
    if not buttons:
        return None
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]] if len(buttons) > 2 else [buttons])


async def show_accepted(update: Update, context: TongxinContext) -> None:
    """The list button: accepted tips waiting for their story, each with its card."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    if not await require(update, context, Role.EDITOR):
        return
    await query.answer()
    async with context.db.read() as conn:
        waiting = await tips.awaiting_publication(conn)
    if not waiting:
        await context.bot.send_message(update.effective_chat.id, context.t("review.accepted_empty"))
    for tip in waiting:
        await send_tip(context, update.effective_chat.id, tip)


# -- decisions -------------------------------------------------------------------------------------------


def parse_button(data: str | None) -> tuple[TipAction, int, TipStatus] | None:
    """`tip:<action>:<id>:<status code>` → (action, tip id, status shown); None for anything malformed."""
    parts = (data or "").split(":")
    if len(parts) != 4 or parts[1] not in BUTTON_ACTIONS or not parts[2].isdigit() or parts[3] not in CODE_STATUSES:
        return None
    return BUTTON_ACTIONS[parts[1]], int(parts[2]), CODE_STATUSES[parts[3]]


async def accept_pressed(update: Update, context: TongxinContext) -> None:
    """Accept: no words needed, decided at once."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.EDITOR):
        return
    if (parsed := parse_button(query.data)) is None:
        await query.answer(context.t("review.not_found"), show_alert=True)
        return
    action, tip_id, shown = parsed
    await decide(update, context, tip_id, action, note=None, expected=shown)


async def note_pressed(update: Update, context: TongxinContext) -> int:
    """Decline / Ask for more / Published: check the tip can still take it, then ask for the words."""
    query = update.callback_query
    if query is None or update.effective_chat is None or not await require(update, context, Role.EDITOR):
        return ConversationHandler.END
    if (parsed := parse_button(query.data)) is None:
        await query.answer(context.t("review.not_found"), show_alert=True)
        return ConversationHandler.END
    action, tip_id, shown = parsed
    async with context.db.read() as conn:
        try:
            tip = await tips.get_tip(conn, tip_id)
            if tip.status is not shown:
                raise Conflict("the card is outdated", current=tip.status)
            next_status(tip.status, action)
        except NotFound:
            await query.answer(context.t("review.not_found"), show_alert=True)
            return ConversationHandler.END
        except Conflict as conflict:
            await query.answer(already_decided(context, conflict), show_alert=True)
            return ConversationHandler.END
    message_id = query.message.message_id if query.message else None
    drafts(context)[REVIEWING] = {"tip": tip_id, "action": action.value, "card": message_id, "shown": shown.value}
    await query.answer()
    await context.bot.send_message(update.effective_chat.id, context.t(NOTE_PROMPTS[action], reference=tip.reference))
    return ANSWER


async def note_received(update: Update, context: TongxinContext) -> int | None:
    """The reason, question or link: checked, then the decision is made."""
    if (message := update.effective_message) is None:
        return None
    if not await require(update, context, Role.EDITOR):
        drafts(context).pop(REVIEWING, None)
        return ConversationHandler.END
    pending = drafts(context).get(REVIEWING) or {}
    if "tip" not in pending:
        return ConversationHandler.END
    action = TipAction(pending["action"])
    try:
        words = clean_link(message.text) if action is TipAction.PUBLISH else clean_note(message.text)
    except TipInputError as error:
        await message.reply_text(context.t(error.key, **error.values))
        return None
    drafts(context).pop(REVIEWING, None)
    await decide(
        update,
        context,
        int(pending["tip"]),
        action,
        note=words,
        card_id=pending.get("card"),
        expected=TipStatus(pending["shown"]) if pending.get("shown") else None,
    )
    return ConversationHandler.END


async def note_not_text(update: Update, context: TongxinContext) -> None:
    """Anything but text while the desk waits for words: say what is needed."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("review.note_expects_text"))


async def cancel_note(update: Update, context: TongxinContext) -> int:
    """/cancel while asked for a reason, question or link: nothing is decided."""
    drafts(context).pop(REVIEWING, None)
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("cancel.done"))
    return ConversationHandler.END


async def decide(
    update: Update,
    context: TongxinContext,
    tip_id: int,
    action: TipAction,
    *,
    note: str | None,
    card_id: int | None = None,
    expected: TipStatus | None = None,
) -> None:
    """Make the decision in one transaction, then refresh the card, answer the editor and tell the reporter."""
    query = update.callback_query
    if context.person is None or update.effective_chat is None:
        return
    now = context.now()
    try:
        async with context.db.write() as conn:
            tip = await tips.transition(
                conn,
                tip_id,
                action,
                actor_id=context.person.id,
                actor_roles=context.roles,
                now=now,
                note=None if action is TipAction.PUBLISH else note,
                link=note if action is TipAction.PUBLISH else None,
                expected=expected,
            )
            await audit.record(
                conn,
                actor_id=context.person.id,
                action=f"tip.{action.value}",
                subject=tip.reference,
                now=now,
                detail=note,
            )
    except NotFound:
        await tell_editor(update, context, context.t("review.not_found"))
        return
    except NotAllowed:
        await tell_editor(update, context, context.t("error.not_allowed"))
        return
    except Conflict as conflict:
        await tell_editor(update, context, already_decided(context, conflict))
        return
    done = context.t(f"review.done_{ACTION_BUTTONS[action]}", reference=tip.reference)
    if query is not None:
        await query.answer(done)
        card_id = query.message.message_id if query.message else None
    else:
        await context.bot.send_message(update.effective_chat.id, done)
    if card_id is not None:
        await refresh_card(context, update.effective_chat.id, card_id, tip)
    await tell_reporter(context, tip, note)


async def refresh_card(context: TongxinContext, chat_id: int, message_id: int, tip: tips.Tip) -> None:
    """Show the decision on the card and leave only the buttons that still apply."""
    try:
        await context.bot.edit_message_text(
            await render_card(context, tip),
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=card_buttons(context, tip),
            disable_web_page_preview=True,
        )
    except BadRequest:
        # The card may be gone or already show this; the decision itself is made.
        log.info("could not refresh the card of %s", tip.reference, exc_info=True)


async def tell_editor(update: Update, context: TongxinContext, text: str) -> None:
    """An answer to the editor: an alert on a button, a reply to a message."""
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def already_decided(context: TongxinContext, conflict: Conflict) -> str:
    """What an editor is told when the tip moved before their press (another editor was faster)."""
    status = context.t(status_key(conflict.current)) if conflict.current else "?"
    return context.t("review.already_decided", status=status)


async def tell_reporter(context: TongxinContext, tip: tips.Tip, note: str | None) -> None:
    """The reporter hears each outcome, in their own language."""
    key = REPORTER_NOTICES.get(tip.status)
    if key is None or tip.reporter_id is None:
        return
    values: dict[str, str | int | float] = {"reference": tip.reference}
    buttons: tuple[tuple[Button, ...], ...] = ()
    if tip.status is TipStatus.DECLINED:
        values["reason"] = note or "—"
    elif tip.status is TipStatus.MORE_INFO_REQUESTED:
        values["question"] = note or ""
        buttons = ((Button("tip.button_answer", Act.TIP_ANSWER, tip.id),),)
    elif tip.status is TipStatus.PUBLISHED:
        values["link"] = tip.published_url or ""
    await context.notifier.notify(
        tip.reporter_id,
        Notice(key, values, buttons),
        lane="normal",
        dedupe_key=f"tip:{tip.id}:{tip.status}:{tip.updated_at.timestamp():.0f}",
    )


# -- reporter applications -------------------------------------------------------------------------------


async def show_applications(update: Update, context: TongxinContext) -> None:
    """The list button: pending reporter applications, each with Approve / Reject."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    if not await require(update, context, Role.EDITOR):
        return
    await query.answer()
    async with context.db.read() as conn:
        pending = await applications.pending(conn, "reporter")
        people = {a.user_id: await users.get_user(conn, a.user_id) for a in pending}
    if not pending:
        await context.bot.send_message(update.effective_chat.id, context.t("reporter.no_applications"))
    for application in pending:
        person = people[application.user_id]
        await context.bot.send_message(
            update.effective_chat.id,
            context.t("reporter.application_card", name=html.escape(person.display_name), user_id=person.id),
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            context.t("reporter.button_approve"), callback_data=f"tipapp:approve:{application.id}"
                        ),
                        InlineKeyboardButton(
                            context.t("reporter.button_reject"), callback_data=f"tipapp:reject:{application.id}"
                        ),
                    ]
                ]
            ),
        )


async def application_decided(update: Update, context: TongxinContext) -> None:
    """Approve / Reject a reporter application (only reporter applications, whatever the button says)."""
    query = update.callback_query
    if query is None or query.data is None or context.person is None:
        return
    if not await require(update, context, Role.EDITOR):
        return
    _, decision, application_id = query.data.split(":")
    action = ApplicationAction.APPROVE if decision == "approve" else ApplicationAction.REJECT
    now = context.now()
    try:
        async with context.db.write() as conn:
            current = await applications.get_application(conn, int(application_id))
            if current.role != "reporter":
                raise NotAllowed("editors decide reporter applications only")
            decided = await applications.transition(conn, current.id, action, actor_id=context.person.id, now=now)
            await audit.record(
                conn, actor_id=context.person.id, action=f"reporter.{decision}", subject=str(current.user_id), now=now
            )
            person = await users.get_user(conn, current.user_id)
    except (NotFound, NotAllowed):
        await query.answer(context.t("error.not_allowed"), show_alert=True)
        return
    except Conflict:
        await query.answer(context.t("reporter.already_decided"), show_alert=True)
        return
    approved = decided.status is ApplicationStatus.APPROVED
    result_key = "reporter.approved" if approved else "reporter.rejected"
    await query.answer()
    await query.edit_message_text(
        context.t(result_key, name=html.escape(person.display_name)), parse_mode=ParseMode.HTML
    )
    notice_key = "reporter.you_are_approved" if approved else "reporter.you_are_rejected"
    await context.notifier.notify(
        person.id, Notice(notice_key), dedupe_key=f"reporter:decided:{decided.id}:{now.timestamp():.0f}"
    )


# -- registration ------------------------------------------------------------------------------------------


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """The short exchange that asks an editor for a reason, a question or a link."""
    return [
        typed_answer(
            name="review_note",
            pattern=r"^tip:(decline|more|publish):",
            asked=note_pressed,
            answered=note_received,
            not_text=note_not_text,
            cancelled=cancel_note,
        )
    ]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/review and the desk's buttons."""
    return [
        CommandHandler("review", show_queue),
        CallbackQueryHandler(accept_pressed, pattern=r"^tip:accept:"),
        CallbackQueryHandler(show_accepted, pattern=r"^tiprev:accepted$"),
        CallbackQueryHandler(show_applications, pattern=r"^tiprev:apps$"),
        CallbackQueryHandler(application_decided, pattern=r"^tipapp:(approve|reject):\d+$"),
    ]
