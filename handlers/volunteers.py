"""Volunteers: `/volunteer` registration (also from a team invite link), `/hours` and `/top`.
(`/tasks` and `/mytasks` — claiming, finishing and releasing tasks — are in `handlers/tasks.py`.)
Diagram: docs/volunteer.mmd (registration).
"""

from __future__ import annotations

import contextlib
import html
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from actions import applications as application_actions
from actions import hours as hour_actions
from actions import invites as invite_actions
from actions.buttons import Act
from bot.context import TongxinContext
from channels.telegram import callbacks
from handlers import wish_cards
from handlers.access import require
from handlers.common import press_of, refresh_menu_of, skip_labels, stale_press, step_passed
from handlers.leaving import asking, register_steps
from handlers.prompts import share_or_skip
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import InvalidInput
from storage import wishes as store
from storage.errors import LimitReached, NotFound
from storage.invites import INVITE_PREFIXES

NAME, PHONE, SKILLS, AREA, LOCATION = range(5)
FORM = "volunteer_form"
NAME_MAX = 64
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
NOT_COMMAND = ~filters.COMMAND
OTHER = filters.ALL & NOT_COMMAND
INVITE_PREFIX = INVITE_PREFIXES["volunteer"] + "_"
REGISTRATION_BUTTONS = (Act.VOLUNTEER_NAME, Act.VOLUNTEER_SKILL, Act.VOLUNTEER_SKILLS_DONE, Act.VOLUNTEER_AREA)


@dataclass
class RegistrationDraft:
    """What the person entered so far (stored as JSON in `user_data[FORM]`)."""

    invite: str | None = None
    suggested: str | None = None
    name: str | None = None
    phone: str | None = None
    skills: list[str] = field(default_factory=list)
    area: str | None = None
    location: list[float] | None = None

    @classmethod
    def from_json(cls, data: Any) -> RegistrationDraft:
        """The draft back from `user_data` (unknown or malformed fields are dropped)."""
        if not isinstance(data, dict):
            return cls()
        known = cls.__dataclass_fields__
        return cls(**{name: value for name, value in data.items() if name in known})

    def form(self, fallback_name: str) -> application_actions.VolunteerForm:
        """The finished registration as the action takes it."""
        location = self.location
        return application_actions.VolunteerForm(
            name=self.name or fallback_name,
            phone=self.phone,
            skills=tuple(self.skills),
            area=self.area,
            location=(float(location[0]), float(location[1])) if location else None,
        )


def draft_of(context: TongxinContext) -> RegistrationDraft:
    """The registration being filled in."""
    data = context.user_data.get(FORM) if context.user_data is not None else None
    return RegistrationDraft.from_json(data)


def keep(context: TongxinContext, draft: RegistrationDraft) -> None:
    """Store the draft for the next step."""
    if context.user_data is not None:
        context.user_data[FORM] = asdict(draft)


async def say(update: Update, context: TongxinContext, key: str, **values: object) -> None:
    """Reply to the message being handled with one catalogue message."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t(key, **values))


# --- /volunteer registration ------------------------------------------------------------------------------


async def start_registration(update: Update, context: TongxinContext) -> int:
    """/volunteer: start (or redo) the profile; the name is prefilled from Telegram."""
    keep(context, RegistrationDraft())
    return await ask_name(update, context)


async def start_from_words(update: Update, context: TongxinContext) -> int:
    """[🤝 报名当志愿者] under plain words such as "我想当志愿者": the same registration as /volunteer."""
    if (query := update.callback_query) is not None:
        await query.answer()
        await query.edit_message_reply_markup(None)
    return await start_registration(update, context)


async def start_from_invite(update: Update, context: TongxinContext) -> int:
    """/start vinv_<code>: a team invite; registration then approves at once if the link still works."""
    code = (context.args or [""])[0].removeprefix(INVITE_PREFIX)
    needs_review = False
    try:
        needs_review = (await invite_actions.check_invite(context.env, code, "volunteer")).needs_review
    except (NotFound, LimitReached):
        await say(update, context, "invite.invalid")
        code = ""
    keep(context, RegistrationDraft(invite=code or None))
    if code:
        await say(update, context, "volunteer.invited_review" if needs_review else "volunteer.invited")
    return await ask_name(update, context)


async def ask_name(update: Update, context: TongxinContext) -> int:
    """Ask the name to show; one button keeps the Telegram first name."""
    if context.person is None or (chat := update.effective_chat) is None:
        return ConversationHandler.END
    name = context.person.first_name[:NAME_MAX] or context.person.display_name
    draft = draft_of(context)
    draft.suggested = name
    keep(context, draft)
    button = callbacks.button(context.plain("volunteer.button.use_name", name=name), Act.VOLUNTEER_NAME)
    await context.bot.send_message(
        chat.id, asking(context, "volunteer.ask_name", max=NAME_MAX), reply_markup=InlineKeyboardMarkup([[button]])
    )
    return NAME


async def name_kept(update: Update, context: TongxinContext) -> int:
    """The Telegram first name is fine."""
    if (query := update.callback_query) is None:
        return NAME
    await query.answer()
    await query.edit_message_reply_markup(None)
    draft = draft_of(context)
    draft.name = draft.suggested or query.from_user.first_name[:NAME_MAX]
    keep(context, draft)
    return await ask_phone(update, context)


async def name_typed(update: Update, context: TongxinContext) -> int:
    """A name typed by the volunteer."""
    if (message := update.effective_message) is None or message.text is None:
        return NAME
    draft = draft_of(context)
    try:
        draft.name = lifecycle.check_text(message.text, NAME_MAX)
    except InvalidInput:
        await say(update, context, "volunteer.name_invalid", max=NAME_MAX)
        return NAME
    keep(context, draft)
    return await ask_phone(update, context)


async def name_not_text(update: Update, context: TongxinContext) -> None:
    """A sticker or photo where the name is expected."""
    await say(update, context, "volunteer.name_invalid", max=NAME_MAX)


async def ask_phone(update: Update, context: TongxinContext) -> int:
    """Phone through the contact button, optional."""
    if (chat := update.effective_chat) is None:
        return PHONE
    keyboard = share_or_skip(context, "wish.button.share_phone", "wish.button.skip", contact=True)
    await context.bot.send_message(chat.id, asking(context, "volunteer.ask_phone"), reply_markup=keyboard)
    return PHONE


# Help words at a step ask its question again (handlers/leaving.py); the area and the place fall back to the reply.
register_steps("volunteer", {NAME: ask_name, PHONE: ask_phone})


async def contact_shared(update: Update, context: TongxinContext) -> int:
    """The volunteer's own number (someone else's contact card is refused)."""
    message = update.effective_message
    if message is None or message.contact is None or update.effective_user is None:
        return PHONE
    if message.contact.user_id != update.effective_user.id:  # Telegram ids on both sides
        await say(update, context, "wish.contact_not_own")
        return PHONE
    draft = draft_of(context)
    draft.phone = message.contact.phone_number[:32]
    keep(context, draft)
    return await ask_skills(update, context)


async def phone_typed(update: Update, context: TongxinContext) -> int:
    """A typed number, or Skip."""
    if (message := update.effective_message) is None or message.text is None:
        return PHONE
    text = message.text.strip()
    draft = draft_of(context)
    if text in skip_labels(context):
        draft.phone = None
    elif PHONE_PATTERN.match(text):
        draft.phone = text
    else:
        await say(update, context, "wish.phone_invalid")
        return PHONE
    keep(context, draft)
    return await ask_skills(update, context)


async def phone_not_understood(update: Update, context: TongxinContext) -> None:
    """Anything else where a phone number is expected."""
    await say(update, context, "wish.phone_invalid")


def skills_keyboard(context: TongxinContext) -> InlineKeyboardMarkup:
    """Every category as a toggle (✅ when chosen), and Done."""
    chosen = set(draft_of(context).skills)
    buttons = [
        callbacks.button(
            ("✅ " if key in chosen else "") + context.plain(f"category.{key}"), Act.VOLUNTEER_SKILL, arg=key
        )
        for key in context.settings.categories
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([callbacks.button(context.plain("volunteer.button.skills_done"), Act.VOLUNTEER_SKILLS_DONE)])
    return InlineKeyboardMarkup(rows)


async def ask_skills(update: Update, context: TongxinContext) -> int:
    """Clear the phone keyboard and offer the skills."""
    if (chat := update.effective_chat) is None:
        return SKILLS
    await context.bot.send_message(chat.id, context.t("volunteer.phone_noted"), reply_markup=ReplyKeyboardRemove())
    await context.bot.send_message(
        chat.id, asking(context, "volunteer.ask_skills"), reply_markup=skills_keyboard(context)
    )
    return SKILLS


async def skill_toggled(update: Update, context: TongxinContext) -> int:
    """Add or remove one skill and redraw the toggles."""
    press = press_of(update)
    if (query := update.callback_query) is None or press is None or press.arg not in context.settings.categories:
        await stale_press(update, context)
        return SKILLS
    draft = draft_of(context)
    draft.skills = sorted(set(draft.skills) ^ {press.arg})
    keep(context, draft)
    await query.answer()
    await query.edit_message_reply_markup(skills_keyboard(context))
    return SKILLS


async def skills_done(update: Update, context: TongxinContext) -> int:
    """At least one skill, then the area."""
    if (query := update.callback_query) is None or (chat := update.effective_chat) is None:
        return SKILLS
    skills = draft_of(context).skills
    if not skills:
        await query.answer(context.plain("volunteer.skills_needed"), show_alert=True)
        return SKILLS
    await query.answer()
    names = "、".join(context.t(f"category.{key}") for key in skills)
    await query.edit_message_text(context.t("volunteer.skills_chosen", skills=names), parse_mode=ParseMode.HTML)
    buttons = [
        callbacks.button(area, Act.VOLUNTEER_AREA, arg=str(index)) for index, area in enumerate(context.settings.areas)
    ]
    await context.bot.send_message(
        chat.id,
        asking(context, "volunteer.ask_area"),
        reply_markup=InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)]),
    )
    return AREA


async def area_chosen(update: Update, context: TongxinContext) -> int:
    """Remember the area, then offer to share a location (optional)."""
    press = press_of(update)
    areas = context.settings.areas
    query = update.callback_query
    if query is None or press is None or press.arg is None or int(press.arg) >= len(areas):
        await stale_press(update, context)
        return AREA
    if (chat := update.effective_chat) is None:
        return AREA
    await query.answer()
    area = areas[int(press.arg)]
    draft = draft_of(context)
    draft.area = area
    keep(context, draft)
    await query.edit_message_text(context.t("volunteer.area_chosen", area=html.escape(area)), parse_mode=ParseMode.HTML)
    keyboard = share_or_skip(context, "wish.button.share_location", "wish.button.skip", location=True)
    await context.bot.send_message(chat.id, asking(context, "volunteer.ask_location"), reply_markup=keyboard)
    return LOCATION


async def press_a_button(update: Update, context: TongxinContext) -> None:
    """Typed text where a button is expected."""
    await say(update, context, "wish.pick_button")


async def location_shared(update: Update, context: TongxinContext) -> int:
    """Keep the location (tasks nearby come first) and finish."""
    if (message := update.effective_message) is None or message.location is None:
        return LOCATION
    draft = draft_of(context)
    draft.location = [message.location.latitude, message.location.longitude]
    keep(context, draft)
    return await finish_registration(update, context)


async def location_skipped(update: Update, context: TongxinContext) -> int:
    """Skip pressed: no location; anything else typed is a mistake."""
    if (message := update.effective_message) is None or message.text is None:
        return LOCATION
    if message.text.strip() not in skip_labels(context):
        await say(update, context, "volunteer.location_expected")
        return LOCATION
    draft = draft_of(context)
    draft.location = None
    keep(context, draft)
    return await finish_registration(update, context)


async def location_not_understood(update: Update, context: TongxinContext) -> None:
    """Anything else where a location is expected."""
    await say(update, context, "volunteer.location_expected")


async def finish_registration(update: Update, context: TongxinContext) -> int:
    """Register (the action saves, applies and tells coordinators) and say where the application stands."""
    if context.person is None or (chat := update.effective_chat) is None:
        return ConversationHandler.END
    draft = draft_of(context)
    outcome = await application_actions.register_volunteer(
        context.env, context.person.id, draft.form(context.person.display_name), invite_code=draft.invite
    )
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    if outcome.newly_approved:
        key = "volunteer.approved_now"
    else:
        key = {"approved": "volunteer.profile_updated", "pending": "volunteer.application_sent"}.get(
            outcome.status, "volunteer.suspended"
        )
    await context.bot.send_message(chat.id, context.t(key), reply_markup=ReplyKeyboardRemove())
    if outcome.newly_approved:
        with contextlib.suppress(TelegramError):  # the menu is a convenience; the role itself is granted
            await refresh_menu_of(context, outcome.person)
    return ConversationHandler.END


async def cancel(update: Update, context: TongxinContext) -> int:
    """/cancel: leave without saving."""
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("cancel.done"), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


async def stale_in_state(update: Update, context: TongxinContext) -> None:
    """A registration button that does not belong to this step (an older message or a double tap; a forged one
    is stale)."""
    if press_of(update) is None:
        await stale_press(update, context)
    else:
        await step_passed(update, context)


def registration_conversation() -> ConversationHandler[TongxinContext]:
    """/volunteer: name → phone → skills → area → location (docs/volunteer.mmd)."""
    stale: CallbackQueryHandler[TongxinContext, object] = CallbackQueryHandler(
        stale_in_state, pattern=callbacks.prefix_pattern(*REGISTRATION_BUTTONS)
    )
    return ConversationHandler(
        entry_points=[
            CommandHandler("volunteer", start_registration),
            CallbackQueryHandler(start_from_words, pattern=callbacks.pattern(Act.VOLUNTEER_NEW)),
            CommandHandler("start", start_from_invite, filters=filters.Regex(rf"^/start {INVITE_PREFIX}")),
        ],
        states={
            NAME: [
                CallbackQueryHandler(name_kept, pattern=callbacks.pattern(Act.VOLUNTEER_NAME)),
                MessageHandler(filters.TEXT & NOT_COMMAND, name_typed),
                MessageHandler(OTHER, name_not_text),
                stale,
            ],
            PHONE: [
                MessageHandler(filters.CONTACT, contact_shared),
                MessageHandler(filters.TEXT & NOT_COMMAND, phone_typed),
                MessageHandler(OTHER, phone_not_understood),
                stale,
            ],
            SKILLS: [
                CallbackQueryHandler(skill_toggled, pattern=callbacks.pattern(Act.VOLUNTEER_SKILL)),
                CallbackQueryHandler(skills_done, pattern=callbacks.pattern(Act.VOLUNTEER_SKILLS_DONE)),
                MessageHandler(OTHER, press_a_button),
                stale,
            ],
            AREA: [
                CallbackQueryHandler(area_chosen, pattern=callbacks.pattern(Act.VOLUNTEER_AREA)),
                MessageHandler(OTHER, press_a_button),
                stale,
            ],
            LOCATION: [
                MessageHandler(filters.LOCATION, location_shared),
                MessageHandler(filters.TEXT & NOT_COMMAND, location_skipped),
                MessageHandler(OTHER, location_not_understood),
                stale,
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        allow_reentry=True,
        persistent=True,
        name="volunteer",
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
