"""The newsroom desk: `/review` shows editors the queue of new tips (oldest first), each as its media (an
album) followed by a card with Accept, Decline, Ask for more and Published; it also lists accepted tips
waiting for publication and the pending reporter applications, which editors approve here.

Decline, Ask for more and Published need a few words from the editor (a reason, a question, the link),
so they open a short conversation written once (`conversations/tip_note.py`, run by `handlers/conversing.py`),
whose decision refreshes the card pressed. Every button re-checks the editor role and the tip's
current status in the database; when two editors act at once, one wins and the other is told.

Telegram channel code only: decisions are `actions.tips` actions (the change, its event, the audit
entry and the reporter's notice in one transaction); this module parses presses and renders cards.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
)

from actions import tips as tip_actions
from actions.buttons import Act, Button
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from channels.telegram.media import send_visuals
from conversations import pages, tip_note
from conversations.base import Outcome, Say, Subject
from conversations.pages import Item
from handlers import lists
from handlers.access import require
from handlers.common import actor_of, edit_in_place
from handlers.conversing import written_once
from rules.applications import ApplicationStatus
from rules.roles import Role
from rules.staff import person_ref
from rules.tips import (
    TipAction,
    TipStatus,
    actions_for,
    category_key,
    status_key,
    tip_reference,
)
from rules.wishes import wish_ref
from storage import applications, tips, users
from storage.errors import Conflict, NotAllowed, NotFound

log = logging.getLogger(__name__)

REVIEWING = "tip_review"
# The card buttons: which decision each makes, and the short name of its label and reply keys. Each press
# also carries the status the card showed (`actions.tips.SEEN_CODES`), so an outdated card is refused.
BUTTON_ACTIONS = {
    Act.TIP_ACCEPT: TipAction.ACCEPT,
    Act.TIP_DECLINE: TipAction.DECLINE,
    Act.TIP_MORE: TipAction.ASK_MORE,
    Act.TIP_PUBLISH: TipAction.PUBLISH,
}
ACTION_BUTTONS = {action: act for act, action in BUTTON_ACTIONS.items()}
ACTION_NAMES = {
    TipAction.ACCEPT: "accept",
    TipAction.DECLINE: "decline",
    TipAction.ASK_MORE: "more",
    TipAction.PUBLISH: "publish",
}
# -- /review ---------------------------------------------------------------------------------------------


# The two lists of the desk: the tips of a status, oldest first, as one message with pages (`handlers.lists`).
LISTS = {
    TipStatus.NEW: (Act.REVIEW_PAGE, "review.queue_title", "review.queue_empty"),
    TipStatus.ACCEPTED: (Act.REVIEW_ACCEPTED_PAGE, "review.accepted_title", "review.accepted_empty"),
}


async def show_queue(update: Update, context: TongxinContext) -> None:
    """/review and its pages: the new tips as one message, a line and a button each (a tap shows the tip's media
    and card: `view_pressed`), with the buttons to the accepted tips and the reporter applications."""
    await show_list(update, context, TipStatus.NEW)


async def show_accepted(update: Update, context: TongxinContext) -> None:
    """The list button and its pages: accepted tips waiting for their story, as one message like /review."""
    await show_list(update, context, TipStatus.ACCEPTED)


async def show_list(update: Update, context: TongxinContext, status: TipStatus) -> None:
    """Send a list's first page (the command or the list button), or turn the page in place (◀ / ▶)."""
    if update.effective_chat is None or not await require(update, context, Role.EDITOR):
        return
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    page_act = LISTS[status][0]
    turning = press is not None and press.act == page_act
    if query is not None:
        await query.answer()
    text, markup = await list_view(context, status, press.id if turning and press is not None else 0)
    if turning and query is not None:
        await edit_in_place(query, text, markup)
    else:
        await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def list_view(context: TongxinContext, status: TipStatus, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the tips in `status`: a numbered line and a "show" button per tip; /review's pages also carry
    the buttons to the other lists."""
    page_act, title_key, empty_key = LISTS[status]
    async with context.db.read() as conn:
        total = await tips.count_in_status(conn, status)
        page, page_count = lists.clamp(page, total)
        shown = await tips.in_status(conn, status, limit=lists.PAGE_SIZE, offset=page * lists.PAGE_SIZE)
        accepted = await tips.count_in_status(conn, TipStatus.ACCEPTED) if status == TipStatus.NEW else 0
        applying = len(await applications.pending(conn, "reporter")) if status == TipStatus.NEW else 0
    extra: list[tuple[Item, ...]] = []
    if accepted:
        extra.append((Item(None, Button("review.button_accepted", Act.REVIEW_ACCEPTED), {"count": accepted}),))
    if applying:
        extra.append((Item(None, Button("review.button_applications", Act.REVIEW_APPLICATIONS), {"count": applying}),))
    if not total:
        return context.t(empty_key), lists.buttons_of(context, extra)
    title = Say(title_key, {"count": total})
    shown_page = pages.tips(shown, title=title, page=page, pages=page_count, page_act=page_act, extra=tuple(extra))
    return lists.page_view(context, shown_page)


async def view_pressed(update: Update, context: TongxinContext) -> None:
    """A tip tapped on a list: its media and its card with the decisions its status still allows."""
    query = update.callback_query
    if query is None or update.effective_chat is None or not await require(update, context, Role.EDITOR):
        return
    press = callbacks.decode(query.data)
    if press is None:
        await query.answer(context.plain("review.not_found"), show_alert=True)
        return
    async with context.db.read() as conn:
        try:
            tip = await tips.get_tip(conn, press.id)
        except NotFound:
            await query.answer(context.plain("review.not_found"), show_alert=True)
            return
    await query.answer()
    await send_tip(context, update.effective_chat.id, tip)


async def send_tip(context: TongxinContext, chat_id: int, tip: tips.Tip) -> None:
    """A tip's photos and videos (as an album when there are several), its files, then its card."""
    visual = [m for m in tip.media if m.kind in ("photo", "video")]
    settings = context.settings
    await send_visuals(context.bot, context.db, settings.media_dir, chat_id, visual, caption=tip_reference(tip.id))
    for document in (m for m in tip.media if m.kind == "document"):
        await context.bot.send_document(chat_id, document.file_id, caption=tip_reference(tip.id))
    for voice in (m for m in tip.media if m.kind == "voice"):  # a spoken tip: the editor hears it
        await context.bot.send_voice(chat_id, voice.file_id, caption=tip_reference(tip.id))
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
            reference=tip_reference(tip.id),
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
        lines.append(context.t("review.from_wish", reference=tip_reference(tip.id), wish=wish_ref(tip.source_wish_ref)))
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
    seen = tip_actions.SEEN_CODES[TipStatus(tip.status)]
    buttons = [
        callbacks.button(context.plain(f"review.button_{ACTION_NAMES[action]}"), ACTION_BUTTONS[action], tip.id, seen)
        for action in actions_for(tip.status)
    ]
    rows = [buttons[:2], buttons[2:]] if len(buttons) > 2 else [buttons]
    if tip.status == TipStatus.ACCEPTED and context.settings.channel_id:  # issue 15: post it to the channel
        rows.append([callbacks.button(context.plain("publish.button"), Act.TIP_TO_CHANNEL, tip.id)])
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


# -- decisions -------------------------------------------------------------------------------------------


def parse_press(data: str | None) -> tuple[TipAction, int, TipStatus] | None:
    """A card button's press → (decision, tip id, status the card showed); None for anything malformed."""
    press = callbacks.decode(data)
    if press is None or press.act not in BUTTON_ACTIONS:
        return None
    shown = tip_actions.seen_status(press.arg)
    if shown is None:
        return None
    return BUTTON_ACTIONS[press.act], press.id, shown


async def accept_pressed(update: Update, context: TongxinContext) -> None:
    """Accept: no words needed, decided at once."""
    query = update.callback_query
    if query is None:
        return
    if (parsed := parse_press(query.data)) is None:
        await query.answer(context.plain("review.not_found"), show_alert=True)
        return
    _, tip_id, shown = parsed
    await decide(update, context, tip_id, shown)


async def note_pressed(update: Update, context: TongxinContext) -> Outcome | None:
    """Decline / Ask for more / Published: the conversation written once (`conversations.tip_note`) checks the
    tip can still take it and asks for the words."""
    query = update.callback_query
    if query is None or context.person is None:
        return None
    if (parsed := parse_press(query.data)) is None:
        return Outcome(answer=Say("review.not_found"))
    action, tip_id, shown = parsed
    return await tip_note.NOTE.start(context.env, actor_of(context), tip_id, action, shown)


async def refresh_changed(context: TongxinContext, chat_id: int, message_id: int, changed: Subject) -> None:
    """A note's decision made: the card pressed to start it shows the tip as it is now."""
    async with context.db.read() as conn:
        try:
            tip = await tips.get_tip(conn, changed.id)
        except NotFound:
            return
    await refresh_card(context, chat_id, message_id, tip)


async def decide(update: Update, context: TongxinContext, tip_id: int, expected: TipStatus) -> None:
    """Accept (which also tells the reporter), then answer the editor and refresh the card pressed."""
    query = update.callback_query
    if context.person is None or query is None:
        return
    try:
        tip = await tip_actions.accept(context.env, actor_of(context), tip_id, seen=expected)
    except NotFound:
        await query.answer(context.plain("review.not_found"), show_alert=True)
        return
    except NotAllowed:
        await query.answer(context.plain("error.not_allowed"), show_alert=True)
        return
    except Conflict as conflict:
        await query.answer(already_decided(context, conflict), show_alert=True)
        return
    await query.answer(context.plain("review.done_accept", reference=tip_reference(tip.id)))
    if query.message is not None:
        await refresh_card(context, query.message.chat.id, query.message.message_id, tip)


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
        log.info("could not refresh the card of %s", tip_reference(tip.id), exc_info=True)


def already_decided(context: TongxinContext, conflict: Conflict) -> str:
    """What an editor is told when the tip moved before their press (another editor was faster)."""
    status = context.plain(status_key(conflict.current)) if conflict.current else "?"
    return context.plain("review.already_decided", status=status)


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
            context.t(
                "reporter.application_card", name=html.escape(person.display_name), user_id=person_ref(person.id)
            ),
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        callbacks.button(
                            context.plain("reporter.button_approve"), Act.REPORTER_APPROVE, application.id
                        ),
                        callbacks.button(context.plain("reporter.button_reject"), Act.REPORTER_REJECT, application.id),
                    ]
                ]
            ),
        )


async def application_decided(update: Update, context: TongxinContext) -> None:
    """Approve / Reject a reporter application (only reporter applications, whatever the button says)."""
    query = update.callback_query
    if query is None or context.person is None:
        return
    if (press := callbacks.decode(query.data)) is None:
        await query.answer(context.plain("tip.stale_button"), show_alert=True)
        return
    try:
        outcome = await tip_actions.decide_application(
            context.env, actor_of(context), press.id, approve=press.act is Act.REPORTER_APPROVE
        )
    except (NotFound, NotAllowed):
        await query.answer(context.plain("error.not_allowed"), show_alert=True)
        return
    except Conflict:
        await query.answer(context.plain("reporter.already_decided"), show_alert=True)
        return
    approved = outcome.application.status == ApplicationStatus.APPROVED
    result_key = "reporter.approved" if approved else "reporter.rejected"
    await query.answer()
    await query.edit_message_text(
        context.t(result_key, name=html.escape(outcome.applicant.display_name)), parse_mode=ParseMode.HTML
    )


async def stale_press(update: Update, context: TongxinContext) -> None:
    """A desk button whose data no card of ours carries (forged, or from an older version): say so."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain("tip.stale_button"), show_alert=True)


# -- registration ------------------------------------------------------------------------------------------


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """The short exchange that asks an editor for a reason, a question or a link (written once)."""
    press = CallbackQueryHandler(
        note_pressed, pattern=callbacks.pattern(Act.TIP_DECLINE, Act.TIP_MORE, Act.TIP_PUBLISH)
    )
    note = tip_note.NOTE
    return [
        written_once(note, lambda _: note, key=REVIEWING, entry_points=[(press, note_pressed)], refresh=refresh_changed)
    ]


# The desk's buttons; a press of one that no handler took is malformed or forged.
DESK_ACTS = (
    Act.TIP_ACCEPT,
    Act.TIP_DECLINE,
    Act.TIP_MORE,
    Act.TIP_PUBLISH,
    Act.REVIEW_ACCEPTED,
    Act.REVIEW_APPLICATIONS,
    Act.REVIEW_PAGE,
    Act.REVIEW_ACCEPTED_PAGE,
    Act.REVIEW_VIEW,
    Act.REPORTER_APPROVE,
    Act.REPORTER_REJECT,
)


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/review and the desk's buttons, and an answer for a malformed press of one."""
    return [
        CommandHandler("review", show_queue),
        CallbackQueryHandler(show_queue, pattern=callbacks.pattern(Act.REVIEW_PAGE)),
        CallbackQueryHandler(view_pressed, pattern=callbacks.pattern(Act.REVIEW_VIEW)),
        CallbackQueryHandler(accept_pressed, pattern=callbacks.pattern(Act.TIP_ACCEPT)),
        CallbackQueryHandler(show_accepted, pattern=callbacks.pattern(Act.REVIEW_ACCEPTED, Act.REVIEW_ACCEPTED_PAGE)),
        CallbackQueryHandler(show_applications, pattern=callbacks.pattern(Act.REVIEW_APPLICATIONS)),
        CallbackQueryHandler(application_decided, pattern=callbacks.pattern(Act.REPORTER_APPROVE, Act.REPORTER_REJECT)),
        CallbackQueryHandler(stale_press, pattern=callbacks.prefix_pattern(*DESK_ACTS)),
    ]
