"""Volunteers: `/volunteer` registration (also from a team invite link; the form written once in
`conversations/registration.py`), `/hours` and `/top`.
(`/tasks` and `/mytasks` — claiming, finishing and releasing tasks — are in `handlers/tasks.py`.)
Diagram: docs/volunteer.mmd (registration).
"""

from __future__ import annotations

import html

from telegram import (
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from actions import hours as hour_actions
from actions.buttons import Act
from channels import wish_cards
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from conversations.base import Outcome
from conversations.registration import NAME_MAX, Registration
from handlers.access import require
from handlers.common import actor_of, stale_press
from handlers.conversing import written_once
from rules import wishes as lifecycle
from rules.roles import Role
from storage import wishes as store
from storage.invites import INVITE_PREFIXES

FORM = "volunteer_form"
INVITE_PREFIX = INVITE_PREFIXES["volunteer"] + "_"
REGISTRATION_BUTTONS = tuple(Registration.acts)


def registration(context: TongxinContext) -> Registration:
    return Registration(context.settings.categories, context.settings.areas)


async def start_registration(update: Update, context: TongxinContext, invite: str | None = None) -> Outcome | None:
    """/volunteer: start (or redo) the profile (conversations/registration.py); the name is offered from Telegram."""
    if context.person is None:
        return None
    suggested = context.person.first_name[:NAME_MAX] or context.person.display_name
    return await registration(context).start(
        context.env, actor_of(context), invite=invite, suggested=suggested, fallback=context.person.display_name
    )


async def start_from_words(update: Update, context: TongxinContext) -> Outcome | None:
    """[🤝 报名当志愿者] under plain words such as "我想当志愿者": the same registration as /volunteer."""
    if (query := update.callback_query) is not None:
        await query.answer()
        await query.edit_message_reply_markup(None)
    return await start_registration(update, context)


async def start_from_invite(update: Update, context: TongxinContext) -> Outcome | None:
    """/start vinv_<code>: a team invite; registration then approves at once if the link still works."""
    return await start_registration(update, context, (context.args or [""])[0].removeprefix(INVITE_PREFIX))


def registration_conversation() -> ConversationHandler[TongxinContext]:
    """/volunteer: name → phone → skills → area → location (docs/volunteer.mmd)."""
    return written_once(
        Registration((), ()),
        registration,
        key=FORM,
        entry_points=[
            (CommandHandler("volunteer", stale_press), start_registration),
            (CallbackQueryHandler(stale_press, pattern=callbacks.pattern(Act.VOLUNTEER_NEW)), start_from_words),
            (
                CommandHandler("start", stale_press, filters=filters.Regex(rf"^/start {INVITE_PREFIX}")),
                start_from_invite,
            ),
        ],
    )


# --- /hours and /top ---------------------------------------------------------------------------------------


async def show_hours(update: Update, context: TongxinContext) -> None:
    """/hours: own confirmed hours and tasks, this month's hours and rank (`actions.hours`)."""
    message = update.effective_message
    if message is None or context.person is None or not await require(update, context, Role.VOLUNTEER):
        return
    figures = await hour_actions.of_volunteer(context.env, context.person.id)
    await message.reply_text(hour_actions.describe(context.t, figures))


async def show_top(update: Update, context: TongxinContext) -> None:
    """/top: this month's ten volunteers with the most confirmed hours (first names only)."""
    if (message := update.effective_message) is None:
        return
    since, until = lifecycle.month_bounds(context.now(), context.settings.tz)
    async with context.db.read() as conn:
        board = await store.hours_leaderboard(conn, since=since, until=until, limit=10)
    if not board:
        await message.reply_text(context.t("hours.top_none"))
        return
    lines = [context.t("hours.top_title")]
    lines += [
        context.t(
            "hours.top_line_activities" if row.activities else "hours.top_line",
            place=place,
            name=html.escape(row.first_name),
            hours=wish_cards.format_hours(row.hours),
            tasks=row.tasks,
            activities=row.activities,
        )
        for place, row in enumerate(board, start=1)
    ]
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Registration."""
    return [registration_conversation()]  # type: ignore[list-item]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/hours and /top."""
    return [
        CommandHandler("hours", show_hours),
        CommandHandler("top", show_top),
        # A registration button pressed after its conversation ended: say it no longer works.
        CallbackQueryHandler(stale_press, pattern=callbacks.prefix_pattern(*REGISTRATION_BUTTONS)),
    ]
