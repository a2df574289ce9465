"""Coordinators deciding volunteer applications from `/pending`: the application card with Approve / Reject,
and Reject → the reason the applicant will read. The decisions are `actions.applications`; `/pending`
itself (and its wish cards) is `handlers.review`.
"""

from __future__ import annotations

import contextlib
import html

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from actions import applications as application_actions
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from conversations.base import Outcome
from conversations.rejection import APPLICATION
from handlers.common import actor_of, press_of, refresh_menu_of, stale_press, tell
from handlers.conversing import written_once
from rules.staff import person_ref
from storage import volunteers as profiles
from storage.applications import Application
from storage.errors import Conflict, NotAllowed, NotFound

REJECTING = "volunteer_rejecting"  # the conversation's draft in user_data


def application_card(context: TongxinContext, user_id: int, profile: profiles.Volunteer | None) -> str:
    """A volunteer application with the profile the person entered (Telegram HTML)."""
    if profile is None:
        return context.t("pending.application_bare", user_id=person_ref(user_id))
    return context.t(
        "pending.application",
        name=html.escape(profile.name),
        phone=html.escape(profile.phone) if profile.phone else context.t("wish.no_phone"),
        skills="、".join(context.t(f"category.{key}") for key in sorted(profile.skills)),
        area=html.escape(profile.area) if profile.area else context.t("wish.area_unknown"),
    )


def application_buttons(context: TongxinContext, application: Application) -> InlineKeyboardMarkup:
    """Approve / Reject under an application card."""
    return InlineKeyboardMarkup(
        [
            [
                callbacks.button(
                    context.plain("pending.button.approve"), Act.PENDING_VOLUNTEER_APPROVE, application.id
                ),
                callbacks.button(context.plain("pending.button.reject"), Act.PENDING_VOLUNTEER_REJECT, application.id),
            ]
        ]
    )


async def refused(update: Update, context: TongxinContext, exc: Conflict | NotAllowed | NotFound) -> None:
    """Why a decision button no longer works: not a coordinator, or the application was decided (or is gone)."""
    await tell(update, context, "error.not_allowed" if isinstance(exc, NotAllowed) else "pending.already_decided")


async def approve_pressed(update: Update, context: TongxinContext) -> None:
    """Approve: the person becomes a volunteer (the action tells them); the coordinator sees who."""
    query = update.callback_query
    if query is None or (chat := update.effective_chat) is None:
        return
    if (press := press_of(update)) is None:
        await stale_press(update, context)
        return
    try:
        outcome = await application_actions.approve_volunteer(context.env, actor_of(context), press.id)
    except (Conflict, NotAllowed, NotFound) as exc:
        await refused(update, context, exc)
        return
    await query.answer(context.plain("pending.approved_short"))
    await query.edit_message_reply_markup(None)
    await context.bot.send_message(
        chat.id,
        context.t("pending.volunteer_approved", name=html.escape(outcome.person.display_name)),
        parse_mode=ParseMode.HTML,
    )
    with contextlib.suppress(TelegramError):  # the menu is a convenience; the role itself is granted
        await refresh_menu_of(context, outcome.person)


async def start_reject(update: Update, context: TongxinContext) -> Outcome | None:
    """不通过: the layer's rejection (conversations/rejection.py) asks the reason, if the application still
    waits."""
    if (press := press_of(update)) is None:
        await stale_press(update, context)
        return None
    return await APPLICATION.start(context.env, actor_of(context), press.id)


def reject_conversation() -> ConversationHandler[TongxinContext]:
    """Reject → reason → the person is told, written once in conversations/rejection.py."""
    pressed = CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.PENDING_VOLUNTEER_REJECT))
    return written_once(APPLICATION, lambda context: APPLICATION, key=REJECTING, entry_points=[(pressed, start_reject)])


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Rejecting an application with a reason."""
    return [reject_conversation()]  # type: ignore[list-item]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Approve, and any malformed decision button (answered, never silent)."""
    return [
        CallbackQueryHandler(approve_pressed, pattern=callbacks.pattern(Act.PENDING_VOLUNTEER_APPROVE)),
        CallbackQueryHandler(
            stale_press,
            pattern=callbacks.prefix_pattern(Act.PENDING_VOLUNTEER_APPROVE, Act.PENDING_VOLUNTEER_REJECT),
        ),
    ]
