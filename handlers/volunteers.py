"""Volunteers: `/volunteer` registration (also from a team invite link), `/hours` and `/top`.
(`/tasks` and `/mytasks` — claiming, finishing and releasing tasks — are in `handlers/tasks.py`.)
Diagram: docs/volunteer.mmd (registration).
"""

from __future__ import annotations

import html
import re
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from actions.buttons import Act, Button
from bot.context import TongxinContext
from bot.notify import Notice
from handlers import wish_cards
from handlers.access import require
from handlers.basics import refresh_menu_of
from handlers.prompts import share_or_skip
from handlers.residents import coordinator_ids, skip_labels
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import InvalidInput
from storage import invites, users
from storage import volunteers as profiles
from storage import wishes as store
from storage.errors import LimitReached, NotFound

NAME, PHONE, SKILLS, AREA, LOCATION = range(5)
FORM = "volunteer_form"
NAME_MAX = 64
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
NOT_COMMAND = ~filters.COMMAND
OTHER = filters.ALL & NOT_COMMAND


def form_of(context: TongxinContext) -> dict[str, Any]:
    """The registration being filled in."""
    assert context.user_data is not None
    form: dict[str, Any] = context.user_data.setdefault(FORM, {})
    return form


async def say(update: Update, context: TongxinContext, key: str, **values: object) -> None:
    """Reply to the message being handled with one catalogue message."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t(key, **values))


# --- /volunteer registration ------------------------------------------------------------------------------


async def start_registration(update: Update, context: TongxinContext) -> int:
    """/volunteer: start (or redo) the profile; the name is prefilled from Telegram."""
    assert context.user_data is not None
    context.user_data[FORM] = {"skills": [], "invite": None}
    return await ask_name(update, context)


async def start_from_invite(update: Update, context: TongxinContext) -> int:
    """/start vinv_<code>: a team invite; registration then approves at once if the link still works."""
    assert context.user_data is not None
    code = (context.args or [""])[0].removeprefix("vinv_")
    try:
        async with context.db.read() as conn:
            await invites.check_invite(conn, code, "volunteer", context.now())
    except (NotFound, LimitReached):
        await say(update, context, "invite.invalid")
        code = ""
    context.user_data[FORM] = {"skills": [], "invite": code or None}
    if code:
        await say(update, context, "volunteer.invited")
    return await ask_name(update, context)


async def ask_name(update: Update, context: TongxinContext) -> int:
    """Ask the name to show; one button keeps the Telegram first name."""
    assert context.person is not None
    name = context.person.first_name[:NAME_MAX] or context.person.display_name
    form_of(context)["suggested"] = name
    await context.bot.send_message(
        context.person.id,
        context.t("volunteer.ask_name", max=NAME_MAX),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(context.t("volunteer.button.use_name", name=name), callback_data="vreg:name")]]
        ),
    )
    return NAME


async def name_kept(update: Update, context: TongxinContext) -> int:
    """The Telegram first name is fine."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    form = form_of(context)
    form["name"] = form.get("suggested") or query.from_user.first_name[:NAME_MAX]
    return await ask_phone(context)


async def name_typed(update: Update, context: TongxinContext) -> int:
    """A name typed by the volunteer."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    try:
        form_of(context)["name"] = lifecycle.check_text(message.text, NAME_MAX)
    except InvalidInput:
        await say(update, context, "volunteer.name_invalid", max=NAME_MAX)
        return NAME
    return await ask_phone(context)


async def name_not_text(update: Update, context: TongxinContext) -> None:
    """A sticker or photo where the name is expected."""
    await say(update, context, "volunteer.name_invalid", max=NAME_MAX)


async def ask_phone(context: TongxinContext) -> int:
    """Phone through the contact button, optional."""
    assert context.person is not None
    keyboard = share_or_skip(context, "wish.button.share_phone", "wish.button.skip", contact=True)
    await context.bot.send_message(context.person.id, context.t("volunteer.ask_phone"), reply_markup=keyboard)
    return PHONE


async def contact_shared(update: Update, context: TongxinContext) -> int:
    """The volunteer's own number (someone else's contact card is refused)."""
    message = update.effective_message
    assert message is not None
    assert message.contact is not None
    assert context.person is not None
    if message.contact.user_id != context.person.id:
        await say(update, context, "wish.contact_not_own")
        return PHONE
    form_of(context)["phone"] = message.contact.phone_number[:32]
    return await ask_skills(update, context)


async def phone_typed(update: Update, context: TongxinContext) -> int:
    """A typed number, or Skip."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    text = message.text.strip()
    if text in skip_labels(context):
        form_of(context)["phone"] = None
    elif PHONE_PATTERN.match(text):
        form_of(context)["phone"] = text
    else:
        await say(update, context, "wish.phone_invalid")
        return PHONE
    return await ask_skills(update, context)


async def phone_not_understood(update: Update, context: TongxinContext) -> None:
    """Anything else where a phone number is expected."""
    await say(update, context, "wish.phone_invalid")


def skills_keyboard(context: TongxinContext) -> InlineKeyboardMarkup:
    """Every category as a toggle (✅ when chosen), and Done."""
    chosen = set(form_of(context).get("skills", []))
    buttons = [
        InlineKeyboardButton(
            ("✅ " if key in chosen else "") + context.t(f"category.{key}"), callback_data=f"vreg:skill:{key}"
        )
        for key in context.settings.categories
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(context.t("volunteer.button.skills_done"), callback_data="vreg:skills_done")])
    return InlineKeyboardMarkup(rows)


async def ask_skills(update: Update, context: TongxinContext) -> int:
    """Clear the phone keyboard and offer the skills."""
    assert context.person is not None
    await context.bot.send_message(
        context.person.id, context.t("volunteer.phone_noted"), reply_markup=ReplyKeyboardRemove()
    )
    await context.bot.send_message(
        context.person.id, context.t("volunteer.ask_skills"), reply_markup=skills_keyboard(context)
    )
    return SKILLS


async def skill_toggled(update: Update, context: TongxinContext) -> int:
    """Add or remove one skill and redraw the toggles."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    key = query.data.removeprefix("vreg:skill:")
    if key not in context.settings.categories:
        await query.answer()
        return SKILLS
    form = form_of(context)
    skills = set(form.get("skills", []))
    skills.symmetric_difference_update({key})
    form["skills"] = sorted(skills)
    await query.answer()
    await query.edit_message_reply_markup(skills_keyboard(context))
    return SKILLS


async def skills_done(update: Update, context: TongxinContext) -> int:
    """At least one skill, then the area."""
    query = update.callback_query
    assert query is not None
    skills = form_of(context).get("skills", [])
    if not skills:
        await query.answer(context.t("volunteer.skills_needed"), show_alert=True)
        return SKILLS
    await query.answer()
    names = "、".join(context.t(f"category.{key}") for key in skills)
    await query.edit_message_text(context.t("volunteer.skills_chosen", skills=names))
    buttons = [
        InlineKeyboardButton(area, callback_data=f"vreg:area:{index}")
        for index, area in enumerate(context.settings.areas)
    ]
    await context.bot.send_message(
        query.from_user.id,
        context.t("volunteer.ask_area"),
        reply_markup=InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)]),
    )
    return AREA


async def area_chosen(update: Update, context: TongxinContext) -> int:
    """Remember the area, then offer to share a location (optional)."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    index = query.data.removeprefix("vreg:area:")
    areas = context.settings.areas
    if not (index.isdigit() and int(index) < len(areas)):
        await query.answer()
        return AREA
    await query.answer()
    form_of(context)["area"] = areas[int(index)]
    await query.edit_message_text(
        context.t("volunteer.area_chosen", area=html.escape(areas[int(index)])), parse_mode=ParseMode.HTML
    )
    keyboard = share_or_skip(context, "wish.button.share_location", "wish.button.skip", location=True)
    await context.bot.send_message(query.from_user.id, context.t("volunteer.ask_location"), reply_markup=keyboard)
    return LOCATION


async def press_a_button(update: Update, context: TongxinContext) -> None:
    """Typed text where a button is expected."""
    await say(update, context, "wish.pick_button")


async def location_shared(update: Update, context: TongxinContext) -> int:
    """Keep the location (tasks nearby come first) and finish."""
    message = update.effective_message
    assert message is not None
    assert message.location is not None
    form_of(context)["location"] = [message.location.latitude, message.location.longitude]
    return await finish_registration(update, context)


async def location_skipped(update: Update, context: TongxinContext) -> int:
    """Skip pressed: no location; anything else typed is a mistake."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    if message.text.strip() not in skip_labels(context):
        await say(update, context, "volunteer.location_expected")
        return LOCATION
    form_of(context)["location"] = None
    return await finish_registration(update, context)


async def location_not_understood(update: Update, context: TongxinContext) -> None:
    """Anything else where a location is expected."""
    await say(update, context, "volunteer.location_expected")


async def finish_registration(update: Update, context: TongxinContext) -> int:
    """Save the profile and apply (approved at once with a working invite); tell coordinators if it waits."""
    assert context.person is not None
    assert context.user_data is not None
    form = form_of(context)
    location = form.get("location")
    async with context.db.write() as conn:
        registration = await profiles.register_volunteer(
            conn,
            user_id=context.person.id,
            name=form.get("name") or context.person.display_name,
            phone=form.get("phone"),
            skills=form.get("skills", []),
            area=form.get("area"),
            location=(float(location[0]), float(location[1])) if location else None,
            invite_code=form.get("invite"),
            now=context.now(),
        )
        person = await users.get_user(conn, context.person.id)
    context.user_data.pop(FORM, None)
    if registration.newly_approved:
        key = "volunteer.approved_now"
    else:
        key = {"approved": "volunteer.profile_updated", "pending": "volunteer.application_sent"}.get(
            registration.status, "volunteer.suspended"
        )
    await context.bot.send_message(context.person.id, context.t(key), reply_markup=ReplyKeyboardRemove())
    if registration.newly_approved:
        await refresh_menu_of(context, person)
    elif registration.status == "pending" and not registration.invite_used:
        await tell_coordinators_of_application(context, registration.volunteer.name)
    return ConversationHandler.END


async def tell_coordinators_of_application(context: TongxinContext, name: str) -> None:
    """A volunteer application waits: coordinators get a notice with a button to /pending."""
    coordinators = await coordinator_ids(context)
    assert context.person is not None
    notice = Notice(
        "pending.notice_new_volunteer",
        {"name": name},
        ((Button("pending.button.open_pending", Act.PENDING_LIST),),),
    )
    for user_id in coordinators:
        await context.notifier.notify(
            user_id, notice, lane="normal", dedupe_key=f"volunteer-applied:{context.person.id}:{user_id}"
        )


async def cancel(update: Update, context: TongxinContext) -> int:
    """/cancel: leave without saving."""
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("cancel.done"), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


def registration_conversation() -> ConversationHandler[TongxinContext]:
    """/volunteer: name → phone → skills → area → location (docs/volunteer.mmd)."""
    return ConversationHandler(
        entry_points=[
            CommandHandler("volunteer", start_registration),
            CommandHandler("start", start_from_invite, filters=filters.Regex(r"^/start vinv_")),
        ],
        states={
            NAME: [
                CallbackQueryHandler(name_kept, pattern=r"^vreg:name$"),
                MessageHandler(filters.TEXT & NOT_COMMAND, name_typed),
                MessageHandler(OTHER, name_not_text),
            ],
            PHONE: [
                MessageHandler(filters.CONTACT, contact_shared),
                MessageHandler(filters.TEXT & NOT_COMMAND, phone_typed),
                MessageHandler(OTHER, phone_not_understood),
            ],
            SKILLS: [
                CallbackQueryHandler(skill_toggled, pattern=r"^vreg:skill:"),
                CallbackQueryHandler(skills_done, pattern=r"^vreg:skills_done$"),
                MessageHandler(OTHER, press_a_button),
            ],
            AREA: [
                CallbackQueryHandler(area_chosen, pattern=r"^vreg:area:"),
                MessageHandler(OTHER, press_a_button),
            ],
            LOCATION: [
                MessageHandler(filters.LOCATION, location_shared),
                MessageHandler(filters.TEXT & NOT_COMMAND, location_skipped),
                MessageHandler(OTHER, location_not_understood),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        allow_reentry=True,
        persistent=True,
        name="volunteer",
    )


# --- /hours and /top ---------------------------------------------------------------------------------------


async def show_hours(update: Update, context: TongxinContext) -> None:
    """/hours: own confirmed hours and tasks, this month's hours and rank."""
    message = update.effective_message
    if message is None or context.person is None or not await require(update, context, Role.VOLUNTEER):
        return
    since, until = lifecycle.month_bounds(context.now(), context.settings.tz)
    async with context.db.read() as conn:
        total, tasks = await store.volunteer_hours(conn, context.person.id)
        month, _ = await store.volunteer_hours(conn, context.person.id, since=since, until=until)
        rank = await store.hours_rank(conn, context.person.id, since=since, until=until)
    text = context.t("hours.mine", hours=wish_cards.format_hours(total), tasks=tasks)
    text += "\n" + (
        context.t("hours.month_rank", hours=wish_cards.format_hours(month), rank=rank)
        if rank is not None
        else context.t("hours.month_none")
    )
    await message.reply_text(text)


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
            "hours.top_line",
            place=place,
            name=html.escape(row.first_name),
            hours=wish_cards.format_hours(row.hours),
            tasks=row.tasks,
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
    ]
