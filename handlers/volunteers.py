"""Volunteers: `/volunteer` registration (also from a team invite link), `/tasks` to find and claim open
wishes, `/mytasks` to finish (hours, proof photo, note) or release them, `/hours` and `/top`.

Claiming is one atomic transition in `rules.wishes`; only after it succeeded does the claimer see the
address, location pin, phone number and photo. Browsing shows the public card only.
Diagrams: docs/volunteer.mmd (registration), docs/task_done.mmd (finishing a task).
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
from handlers import followers, whistles, wish_cards
from handlers.access import require
from handlers.basics import refresh_menu_of
from handlers.prompts import ANSWER, share_or_skip, typed_answer
from handlers.residents import actor_of, conflict_reply, coordinator_ids, skip_labels, wish_id_from
from rules import matching
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import InvalidInput, wish_ref
from storage import invites, users
from storage import volunteers as profiles
from storage import wishes as store
from storage.errors import AlreadyClaimed, Conflict, Held, LimitReached, NotAllowed, NotFound

NAME, PHONE, SKILLS, AREA, LOCATION = range(5)
HOURS, PROOF, NOTE = range(3)
FORM = "volunteer_form"
TASK_DONE = "task_done"
TASK_RELEASE = "task_release"
NAME_MAX = 64
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
HOUR_CHOICES = ("0.5", "1", "2", "4")
WHEN_CHOICES = ("today", "tomorrow", "week")
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
        context.chat_id,
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
    await context.bot.send_message(context.chat_id, context.t("volunteer.ask_phone"), reply_markup=keyboard)
    return PHONE


async def contact_shared(update: Update, context: TongxinContext) -> int:
    """The volunteer's own number (someone else's contact card is refused)."""
    message = update.effective_message
    assert message is not None
    assert message.contact is not None
    assert context.person is not None
    if message.contact.user_id != context.telegram_user_id:
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
        context.chat_id, context.t("volunteer.phone_noted"), reply_markup=ReplyKeyboardRemove()
    )
    await context.bot.send_message(
        context.chat_id, context.t("volunteer.ask_skills"), reply_markup=skills_keyboard(context)
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
    await context.bot.send_message(context.chat_id, context.t(key), reply_markup=ReplyKeyboardRemove())
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
        for key in (FORM, TASK_DONE, TASK_RELEASE):
            context.user_data.pop(key, None)
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


# --- /tasks and claiming ----------------------------------------------------------------------------------


async def tasks_page(context: TongxinContext, page: int, show_all: bool) -> tuple[str, InlineKeyboardMarkup]:
    """One page of open wishes for the volunteer being answered, with view / paging / toggle buttons."""
    assert context.person is not None
    async with context.db.read() as conn:
        profile = await profiles.find_volunteer(conn, context.person.id)
        open_wishes = await lifecycle.claimable_wishes(conn, context.person.id, context.now())
    skills = profile.skills if profile else frozenset()
    origin = profile.location if profile else None
    offered = matching.select_tasks(open_wishes, skills=skills, origin=origin, show_all=show_all)
    shown, page, pages = matching.page_of(offered, page)
    flag = int(show_all)
    rows: list[list[InlineKeyboardButton]] = []
    if not shown:
        text = context.t("task.none_all" if show_all else "task.none_matching")
    else:
        now = context.now()
        cards = [
            f"{n}. " + wish_cards.public_card(context.t, wish, now, matching.distance_km(origin, wish))
            for n, wish in enumerate(shown, start=page * matching.PAGE_SIZE + 1)
        ]
        title = context.t("task.list_title_all" if show_all else "task.list_title", page=page + 1, pages=pages)
        text = title + "\n\n" + "\n\n".join(cards)
        rows += [
            [
                InlineKeyboardButton(
                    context.t("task.button.view", ref=wish_ref(w.ref_no)), callback_data=f"task:view:{w.id}"
                )
            ]
            for w in shown
        ]
        nav = []
        if page > 0:
            nav.append(
                InlineKeyboardButton(context.t("task.button.previous"), callback_data=f"task:page:{page - 1}:{flag}")
            )
        if page < pages - 1:
            nav.append(
                InlineKeyboardButton(context.t("task.button.next"), callback_data=f"task:page:{page + 1}:{flag}")
            )
        if nav:
            rows.append(nav)
    toggle = "task.button.only_mine" if show_all else "task.button.show_all"
    rows.append([InlineKeyboardButton(context.t(toggle), callback_data=f"task:page:0:{1 - flag}")])
    return text, InlineKeyboardMarkup(rows)


async def list_tasks(update: Update, context: TongxinContext) -> None:
    """/tasks: the first page of open wishes matching the volunteer's skills."""
    if (message := update.effective_message) is None or not await require(update, context, Role.VOLUNTEER):
        return
    text, markup = await tasks_page(context, 0, show_all=False)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def page_pressed(update: Update, context: TongxinContext) -> None:
    """Next / Previous / Show all: redraw the list in place."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.VOLUNTEER):
        return
    match = re.fullmatch(r"task:page:(\d{1,4}):([01])", query.data or "")
    if match is None:
        await query.answer()
        return
    await query.answer()
    text, markup = await tasks_page(context, int(match.group(1)), show_all=match.group(2) == "1")
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def view_pressed(update: Update, context: TongxinContext) -> None:
    """One open wish's public card with the claim buttons (when will you do it?)."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.VOLUNTEER):
        return
    if (wish_id := wish_id_from(query.data)) is None:
        await query.answer()
        return
    try:
        async with context.db.read() as conn:
            wish = await store.get_wish(conn, wish_id)
            lifecycle.ensure_allowed(wish, lifecycle.WishAction.CLAIM, actor_of(context))
            await lifecycle.ensure_not_held(conn, wish, actor_of(context), context.now())
    except AlreadyClaimed:
        await query.answer(context.t("task.just_taken"), show_alert=True)
        return
    except Held as exc:
        await answer_held(update, context, exc)
        return
    except Conflict as exc:
        if exc.current in (lifecycle.WishStatus.CLAIMED, lifecycle.WishStatus.DONE, lifecycle.WishStatus.CONFIRMED):
            await query.answer(context.t("task.just_taken"), show_alert=True)
        else:
            await conflict_reply(update, context, exc)
        return
    except (NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    await query.answer()
    async with context.db.read() as conn:
        profile = await profiles.find_volunteer(conn, context.person.id) if context.person else None
    distance = matching.distance_km(profile.location if profile else None, wish)
    buttons = [
        InlineKeyboardButton(context.t(f"task.button.claim_{when}"), callback_data=f"task:claim:{wish.id}:{when}")
        for when in WHEN_CHOICES
    ]
    await context.bot.send_message(
        query.from_user.id,
        wish_cards.public_card(context.t, wish, context.now(), distance) + "\n\n" + context.t("task.ask_when"),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([buttons]),
    )


async def claim_pressed(update: Update, context: TongxinContext) -> None:
    """Claim, atomically: exactly one of several volunteers wins; the winner sees the full details and
    the resident is told who took the wish."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.VOLUNTEER):
        return
    match = re.fullmatch(r"task:claim:(\d{1,9}):(today|tomorrow|week)", query.data or "")
    if match is None or context.person is None:
        await query.answer()
        return
    now = context.now()
    due_at = lifecycle.due_at_for(match.group(2), now, context.settings.tz, context.settings.claim_due_hours)
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.claim_wish(
                conn, int(match.group(1)), actor=actor_of(context), now=now, due_at=due_at
            )
    except AlreadyClaimed:
        await query.answer(context.t("task.just_taken"), show_alert=True)
        await query.edit_message_reply_markup(None)
        return
    except Held as exc:
        await answer_held(update, context, exc)
        return
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    due = due_at.astimezone(context.settings.tz).strftime("%m-%d %H:%M")
    await query.answer(context.t("task.claimed_short"))
    await query.edit_message_text(context.t("task.claimed", ref=wish_ref(wish.ref_no), due=due), reply_markup=None)
    await send_details(context, wish)
    await whistles.note_claim(context, wish)
    await followers.tell_followers(context, wish)
    await context.notifier.notify(
        wish.resident_id,
        Notice(
            "wish.notice_claimed",
            {"ref": wish_ref(wish.ref_no), "name": context.person.first_name, "due": due},
        ),
        lane="urgent",
        dedupe_key=f"wish-claimed:{wish.id}:{now.isoformat()}",
    )


async def answer_held(update: Update, context: TongxinContext, exc: Held) -> None:
    """The wish is reserved for the volunteers it was offered to: say until when (local time)."""
    assert update.callback_query is not None
    until = exc.until.astimezone(context.settings.tz).strftime("%H:%M")
    await update.callback_query.answer(context.t("task.held", until=until), show_alert=True)


def task_buttons(context: TongxinContext, wish: store.Wish) -> InlineKeyboardMarkup | None:
    """Done / Release for a claimed task; nothing while the resident confirms."""
    if wish.status != lifecycle.WishStatus.CLAIMED:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(context.t("task.button.done"), callback_data=f"task:done:{wish.id}"),
                InlineKeyboardButton(context.t("task.button.release"), callback_data=f"task:release:{wish.id}"),
            ]
        ]
    )


async def send_details(context: TongxinContext, wish: store.Wish) -> None:
    """Everything the claimer needs: the photo, the details with the phone, the location pin."""
    assert context.person is not None
    chat_id = context.chat_id
    if wish.photo_file_id:
        await context.bot.send_photo(chat_id, wish.photo_file_id, caption=wish_ref(wish.ref_no))
    text = wish_cards.full_details(context.t, wish)
    if wish.status == lifecycle.WishStatus.CLAIMED and wish.due_at is not None:
        text += "\n" + context.t("task.due", due=wish.due_at.astimezone(context.settings.tz).strftime("%m-%d %H:%M"))
    elif wish.status == lifecycle.WishStatus.DONE:
        text += "\n" + context.t("task.waiting_confirmation")
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=task_buttons(context, wish))
    if wish.location:
        await context.bot.send_location(chat_id, wish.location[0], wish.location[1])


async def list_my_tasks(update: Update, context: TongxinContext) -> None:
    """/mytasks: the wishes the volunteer holds, each with its details and Done / Release."""
    message = update.effective_message
    if message is None or context.person is None or not await require(update, context, Role.VOLUNTEER):
        return
    async with context.db.read() as conn:
        tasks = await store.tasks_of_volunteer(
            conn, context.person.id, [lifecycle.WishStatus.CLAIMED, lifecycle.WishStatus.DONE]
        )
    if not tasks:
        await message.reply_text(context.t("task.mine_none"))
        return
    await message.reply_text(context.t("task.mine_title", count=len(tasks)))
    for wish in tasks:
        await send_details(context, wish)


# --- Done: hours → proof photo → note ---------------------------------------------------------------------


async def check_task(update: Update, context: TongxinContext, action: lifecycle.WishAction) -> store.Wish | None:
    """The task behind a Done / Release button if this volunteer may do that now; otherwise say why."""
    query = update.callback_query
    assert query is not None
    if not await require(update, context, Role.VOLUNTEER):
        return None
    if (wish_id := wish_id_from(query.data)) is None:
        await query.answer()
        return None
    try:
        async with context.db.read() as conn:
            wish = await store.get_wish(conn, wish_id)
        lifecycle.ensure_allowed(wish, action, actor_of(context))
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return None
    await query.answer()
    return wish


async def done_pressed(update: Update, context: TongxinContext) -> int:
    """Done: ask the hours spent (buttons or typed)."""
    assert context.user_data is not None
    assert context.person is not None
    wish = await check_task(update, context, lifecycle.WishAction.FINISH)
    if wish is None:
        return ConversationHandler.END
    context.user_data[TASK_DONE] = {"wish_id": wish.id, "ref": wish_ref(wish.ref_no)}
    buttons = [InlineKeyboardButton(f"{h} h", callback_data=f"task:hours:{h}") for h in HOUR_CHOICES]
    await context.bot.send_message(
        context.chat_id,
        context.t("task.ask_hours", ref=wish_ref(wish.ref_no), min="0.5", max="24"),
        reply_markup=InlineKeyboardMarkup([buttons]),
    )
    return HOURS


async def ask_proof(context: TongxinContext) -> int:
    """A photo of the work done, optional."""
    assert context.person is not None
    await context.bot.send_message(
        context.chat_id,
        context.t("task.ask_proof"),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(context.t("wish.button.skip"), callback_data="task:skip")]]
        ),
    )
    return PROOF


async def hours_pressed(update: Update, context: TongxinContext) -> int:
    """Hours from a button."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    assert context.user_data is not None
    value = query.data.removeprefix("task:hours:")
    if value not in HOUR_CHOICES:
        await query.answer()
        return HOURS
    await query.answer()
    await query.edit_message_reply_markup(None)
    context.user_data.setdefault(TASK_DONE, {})["hours"] = float(value)
    return await ask_proof(context)


async def hours_typed(update: Update, context: TongxinContext) -> int:
    """Hours typed, 0.5–24."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    assert context.user_data is not None
    try:
        hours = lifecycle.parse_hours(message.text)
    except InvalidInput:
        await say(update, context, "task.hours_invalid", min="0.5", max="24")
        return HOURS
    context.user_data.setdefault(TASK_DONE, {})["hours"] = hours
    return await ask_proof(context)


async def hours_not_text(update: Update, context: TongxinContext) -> None:
    """Anything else where hours are expected."""
    await say(update, context, "task.hours_invalid", min="0.5", max="24")


async def ask_note(context: TongxinContext) -> int:
    """A note for the resident, optional."""
    assert context.person is not None
    await context.bot.send_message(
        context.chat_id,
        context.t("task.ask_note", max=lifecycle.NOTE_MAX),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(context.t("wish.button.skip"), callback_data="task:skip")]]
        ),
    )
    return NOTE


async def proof_sent(update: Update, context: TongxinContext) -> int:
    """Keep the proof photo's file id (the newsroom may use it for a story lead)."""
    message = update.effective_message
    assert message is not None
    assert message.photo
    assert context.user_data is not None
    context.user_data.setdefault(TASK_DONE, {})["proof"] = message.photo[-1].file_id
    return await ask_note(context)


async def proof_skipped(update: Update, context: TongxinContext) -> int:
    """No proof photo."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await ask_note(context)


async def proof_not_photo(update: Update, context: TongxinContext) -> None:
    """A document, sticker or text instead of a photo."""
    message = update.effective_message
    key = "wish.photo_as_document" if message is not None and message.document is not None else "task.proof_expected"
    await say(update, context, key)


async def note_typed(update: Update, context: TongxinContext) -> int:
    """The note, then finish."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    try:
        note = lifecycle.check_text(message.text, lifecycle.NOTE_MAX)
    except InvalidInput:
        await say(update, context, "wish.note_too_long", max=lifecycle.NOTE_MAX)
        return NOTE
    return await finish_task(update, context, note)


async def note_skipped(update: Update, context: TongxinContext) -> int:
    """No note, finish."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await finish_task(update, context, None)


async def note_not_text(update: Update, context: TongxinContext) -> None:
    """Something other than text where the note is expected."""
    await say(update, context, "wish.note_expected")


async def finish_task(update: Update, context: TongxinContext, note: str | None) -> int:
    """Mark the wish done and ask the resident to confirm and rate (with the proof photo)."""
    assert context.person is not None
    assert context.user_data is not None
    entered = context.user_data.get(TASK_DONE, {})
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.finish_wish(
                conn,
                int(entered.get("wish_id", 0)),
                actor=actor_of(context),
                now=context.now(),
                hours=float(entered.get("hours", 0)),
                proof_file_id=entered.get("proof"),
                note=note,
            )
    except (Conflict, NotAllowed, NotFound, InvalidInput) as exc:
        context.user_data.pop(TASK_DONE, None)
        if isinstance(exc, InvalidInput):
            await context.bot.send_message(context.chat_id, context.t("task.hours_invalid", min="0.5", max="24"))
        else:
            await conflict_reply(update, context, exc)
        return ConversationHandler.END
    context.user_data.pop(TASK_DONE, None)
    await followers.tell_followers(context, wish)
    hours = wish_cards.format_hours(wish.hours or 0)
    await context.bot.send_message(
        context.chat_id, context.t("task.done_thanks", ref=wish_ref(wish.ref_no), hours=hours)
    )
    values: dict[str, str | int | float] = {
        "ref": wish_ref(wish.ref_no),
        "name": context.person.first_name,
        "hours": hours,
        "note": note if note else "—",
    }
    await context.notifier.notify(
        wish.resident_id,
        Notice(
            "wish.notice_done",
            values,
            (
                (
                    Button("wish.button.confirm", Act.WISH_CONFIRM, wish.id),
                    Button("wish.button.not_yet", Act.WISH_NOT_YET, wish.id),
                ),
            ),
            photo=wish.proof_file_id,
        ),
        lane="urgent",
        dedupe_key=f"wish-done:{wish.id}:{wish.updated_at.isoformat()}",
    )
    return ConversationHandler.END


def done_conversation() -> ConversationHandler[TongxinContext]:
    """Done → hours → proof photo → note (docs/task_done.mmd)."""
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(done_pressed, pattern=r"^task:done:\d+$")],
        states={
            HOURS: [
                CallbackQueryHandler(hours_pressed, pattern=r"^task:hours:"),
                MessageHandler(filters.TEXT & NOT_COMMAND, hours_typed),
                MessageHandler(OTHER, hours_not_text),
            ],
            PROOF: [
                MessageHandler(filters.PHOTO, proof_sent),
                CallbackQueryHandler(proof_skipped, pattern=r"^task:skip$"),
                MessageHandler(OTHER, proof_not_photo),
            ],
            NOTE: [
                MessageHandler(filters.TEXT & NOT_COMMAND, note_typed),
                CallbackQueryHandler(note_skipped, pattern=r"^task:skip$"),
                MessageHandler(OTHER, note_not_text),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        allow_reentry=True,
        persistent=True,
        name="task_done",
    )


# --- Release with a reason --------------------------------------------------------------------------------


async def release_pressed(update: Update, context: TongxinContext) -> int:
    """Release: ask why (the resident and the next volunteer benefit from knowing)."""
    assert context.user_data is not None
    assert context.person is not None
    wish = await check_task(update, context, lifecycle.WishAction.RELEASE)
    if wish is None:
        return ConversationHandler.END
    context.user_data[TASK_RELEASE] = wish.id
    await context.bot.send_message(
        context.chat_id,
        context.t("task.ask_release_reason", ref=wish_ref(wish.ref_no), max=lifecycle.NOTE_MAX),
    )
    return ANSWER


async def release_reason_typed(update: Update, context: TongxinContext) -> int:
    """Give the wish back to everyone and tell the resident."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    assert context.user_data is not None
    try:
        reason = lifecycle.check_text(message.text, lifecycle.NOTE_MAX)
    except InvalidInput:
        await say(update, context, "wish.note_too_long", max=lifecycle.NOTE_MAX)
        return ANSWER
    wish_id = int(context.user_data.pop(TASK_RELEASE, 0))
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.release_wish(
                conn, wish_id, actor=actor_of(context), now=context.now(), reason=reason
            )
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return ConversationHandler.END
    await say(update, context, "task.released", ref=wish_ref(wish.ref_no))
    await context.notifier.notify(
        wish.resident_id,
        Notice("wish.notice_released", {"ref": wish_ref(wish.ref_no)}),
        lane="normal",
        dedupe_key=f"wish-released:{wish.id}:{wish.updated_at.isoformat()}",
    )
    return ConversationHandler.END


def release_conversation() -> ConversationHandler[TongxinContext]:
    """Release → reason."""
    return typed_answer(
        name="task_release",
        pattern=r"^task:release:\d+$",
        asked=release_pressed,
        answered=release_reason_typed,
        not_text=note_not_text,
        cancelled=cancel,
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
    """Registration, finishing a task, releasing a task."""
    return [registration_conversation(), done_conversation(), release_conversation()]  # type: ignore[list-item]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/tasks, /mytasks, /hours, /top and the task buttons."""
    return [
        CommandHandler("tasks", list_tasks),
        CommandHandler("mytasks", list_my_tasks),
        CommandHandler("hours", show_hours),
        CommandHandler("top", show_top),
        CallbackQueryHandler(page_pressed, pattern=r"^task:page:"),
        CallbackQueryHandler(view_pressed, pattern=r"^task:view:\d+$"),
        CallbackQueryHandler(claim_pressed, pattern=r"^task:claim:"),
    ]
