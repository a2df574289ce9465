"""Residents: `/wish` (a conversation from category to Submit, also started from the /start button),
`/mywishes` with the actions each status allows, and "not done yet" with a note for the volunteer.

The draft lives in `context.user_data["wish_draft"]` as plain JSON, so a restart mid-conversation
continues where the person was; the wish itself is committed before the bot says it was submitted.
Diagram: docs/wish.mmd.
"""

from __future__ import annotations

import html
import re
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
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
from handlers import followers, wish_cards
from handlers.prompts import ANSWER, share_or_skip, typed_answer
from handlers.reporters import offer_story_lead
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import Actor, InvalidInput, WishDraft, wish_ref
from storage import people, users
from storage import wishes as store
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound

CATEGORY, DESCRIPTION, AREA, PLACE, PHOTO, CONTACT, SUMMARY = range(7)
DRAFT = "wish_draft"
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
MYWISHES_SHOWN = 10
# Which state asks for which field when the person edits it from the summary.
FIELDS = {
    "category": CATEGORY,
    "description": DESCRIPTION,
    "area": AREA,
    "place": PLACE,
    "photo": PHOTO,
    "phone": CONTACT,
}


def actor_of(context: TongxinContext) -> Actor:
    """The person being answered, as the rules see them."""
    assert context.person is not None
    return Actor(context.person.id, context.roles)


def draft_of(context: TongxinContext) -> dict[str, Any]:
    """The wish being written (created empty on first use)."""
    assert context.user_data is not None
    draft: dict[str, Any] = context.user_data.setdefault(DRAFT, {})
    return draft


def skip_labels(context: TongxinContext) -> set[str]:
    """ "Skip" in every language, so a keyboard sent before a language change still works."""
    catalogues = context.bot_data.catalogues
    return {catalogues.text(language, "wish.button.skip") for language in ("zh-CN", "en")}


async def conflict_reply(update: Update, context: TongxinContext, exc: Conflict | NotAllowed | NotFound) -> None:
    """Tell the person why a button no longer works (an alert on the button, or a reply)."""
    if isinstance(exc, NotAllowed):
        text = context.t("error.not_allowed")
    elif isinstance(exc, NotFound):
        text = context.t("wish.not_found")
    else:
        text = context.t("wish.stale", status=wish_cards.status_words(context.t, exc.current or ""))
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


# --- the /wish conversation -------------------------------------------------------------------------------


async def start_wish(update: Update, context: TongxinContext) -> int:
    """/wish or the /start button: check today's limit, start a fresh draft, ask the category."""
    assert context.person is not None
    assert context.user_data is not None
    if update.callback_query is not None:
        await update.callback_query.answer()
    async with context.db.read() as conn:
        allowed = await lifecycle.may_submit(
            conn, context.person.id, now=context.now(), daily_limit=context.settings.wishes_per_day
        )
    if not allowed:
        await context.bot.send_message(context.chat_id, context.t("wish.limit", limit=context.settings.wishes_per_day))
        return ConversationHandler.END
    context.user_data[DRAFT] = {}
    await ask_category(context)
    return CATEGORY


async def ask_category(context: TongxinContext) -> None:
    """The categories as buttons, two per row."""
    assert context.person is not None
    buttons = [
        InlineKeyboardButton(context.t(f"category.{key}"), callback_data=f"wish:cat:{key}")
        for key in context.settings.categories
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await context.bot.send_message(
        context.chat_id, context.t("wish.ask_category"), reply_markup=InlineKeyboardMarkup(rows)
    )


async def category_chosen(update: Update, context: TongxinContext) -> int:
    """Remember the category; go on to the description (or back to the summary when editing)."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    key = query.data.removeprefix("wish:cat:")
    if key not in context.settings.categories:
        await query.answer(context.t("wish.pick_button"), show_alert=True)
        return CATEGORY
    await query.answer()
    draft = draft_of(context)
    draft["category"] = key
    await query.edit_message_text(context.t("wish.category_chosen", category=context.t(f"category.{key}")))
    return await next_step(update, context, DESCRIPTION)


async def press_a_button(update: Update, context: TongxinContext) -> None:
    """Something typed where a button is expected: say so; nothing entered is lost."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.pick_button"))


async def ask_description(context: TongxinContext) -> None:
    """Ask what help is needed."""
    assert context.person is not None
    await context.bot.send_message(
        context.chat_id,
        context.t("wish.ask_description", min=lifecycle.DESCRIPTION_MIN, max=lifecycle.DESCRIPTION_MAX),
        reply_markup=ReplyKeyboardRemove(),
    )


async def description_typed(update: Update, context: TongxinContext) -> int:
    """Check the description's length; keep it and ask for the area."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    try:
        description = lifecycle.check_description(message.text)
    except InvalidInput as exc:
        await message.reply_text(
            context.t(f"wish.description_{exc.reason}", min=lifecycle.DESCRIPTION_MIN, max=lifecycle.DESCRIPTION_MAX)
        )
        return DESCRIPTION
    draft_of(context)["description"] = description
    return await next_step(update, context, AREA)


async def description_not_text(update: Update, context: TongxinContext) -> None:
    """A sticker, photo or file where the description is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.description_not_text"))


async def ask_area(context: TongxinContext) -> None:
    """The district's towns and communities as buttons, and Skip."""
    assert context.person is not None
    buttons = [
        InlineKeyboardButton(area, callback_data=f"wish:area:{index}")
        for index, area in enumerate(context.settings.areas)
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton(context.t("wish.button.skip"), callback_data="wish:area:skip")])
    await context.bot.send_message(context.chat_id, context.t("wish.ask_area"), reply_markup=InlineKeyboardMarkup(rows))


async def area_chosen(update: Update, context: TongxinContext) -> int:
    """Remember the area (or none) and ask where exactly."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    choice = query.data.removeprefix("wish:area:")
    areas = context.settings.areas
    if choice != "skip" and not (choice.isdigit() and int(choice) < len(areas)):
        await query.answer(context.t("wish.pick_button"), show_alert=True)
        return AREA
    await query.answer()
    area = None if choice == "skip" else areas[int(choice)]
    draft_of(context)["area"] = area
    await query.edit_message_text(
        context.t("wish.area_chosen", area=html.escape(area) if area else context.t("wish.area_unknown")),
        parse_mode=ParseMode.HTML,
    )
    return await next_step(update, context, PLACE)


async def ask_place(context: TongxinContext) -> None:
    """Share a location with the button, type an address, or skip."""
    assert context.person is not None
    keyboard = share_or_skip(context, "wish.button.share_location", "wish.button.skip", location=True)
    await context.bot.send_message(
        context.chat_id, context.t("wish.ask_place", max=lifecycle.ADDRESS_MAX), reply_markup=keyboard
    )


async def location_shared(update: Update, context: TongxinContext) -> int:
    """Keep the shared location (a typed address is kept too: both help the volunteer)."""
    message = update.effective_message
    assert message is not None
    assert message.location is not None
    draft = draft_of(context)
    draft["location"] = [message.location.latitude, message.location.longitude]
    return await next_step(update, context, PHOTO)


async def address_typed(update: Update, context: TongxinContext) -> int:
    """Keep a typed address (beside any shared location); Skip clears both."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    draft = draft_of(context)
    if message.text.strip() in skip_labels(context):
        draft["address"] = None
        draft["location"] = None
        return await next_step(update, context, PHOTO)
    try:
        draft["address"] = lifecycle.check_text(message.text, lifecycle.ADDRESS_MAX)
    except InvalidInput:
        await message.reply_text(context.t("wish.address_too_long", max=lifecycle.ADDRESS_MAX))
        return PLACE
    return await next_step(update, context, PHOTO)


async def place_not_understood(update: Update, context: TongxinContext) -> None:
    """Anything else where a place is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.place_not_understood"))


async def ask_photo(context: TongxinContext) -> None:
    """A photo helps the volunteer; it is optional."""
    assert context.person is not None
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(context.t("wish.button.skip"))]], resize_keyboard=True, one_time_keyboard=True
    )
    await context.bot.send_message(context.chat_id, context.t("wish.ask_photo"), reply_markup=keyboard)


async def photo_sent(update: Update, context: TongxinContext) -> int:
    """Keep the largest size of the photo."""
    message = update.effective_message
    assert message is not None
    assert message.photo
    draft_of(context)["photo"] = message.photo[-1].file_id
    return await next_step(update, context, CONTACT)


async def photo_skipped(update: Update, context: TongxinContext) -> int:
    """No photo (Skip pressed); anything else typed is a mistake."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    if message.text.strip() not in skip_labels(context):
        await message.reply_text(context.t("wish.photo_expected"))
        return PHOTO
    draft_of(context)["photo"] = None
    return await next_step(update, context, CONTACT)


async def photo_as_file(update: Update, context: TongxinContext) -> None:
    """A document, sticker or video instead of a photo."""
    if (message := update.effective_message) is not None:
        key = "wish.photo_as_document" if message.document is not None else "wish.photo_expected"
        await message.reply_text(context.t(key))


async def ask_contact(context: TongxinContext) -> None:
    """Share the phone number with the button (only the claiming volunteer sees it), or skip."""
    assert context.person is not None
    keyboard = share_or_skip(context, "wish.button.share_phone", "wish.button.skip", contact=True)
    await context.bot.send_message(context.chat_id, context.t("wish.ask_contact"), reply_markup=keyboard)


async def contact_shared(update: Update, context: TongxinContext) -> int:
    """Keep the person's own phone number (someone else's contact card is refused)."""
    message = update.effective_message
    assert message is not None
    assert message.contact is not None
    assert context.person is not None
    if message.contact.user_id != context.telegram_user_id:
        await message.reply_text(context.t("wish.contact_not_own"))
        return CONTACT
    draft_of(context)["phone"] = message.contact.phone_number[:32]
    return await next_step(update, context, SUMMARY)


async def phone_typed(update: Update, context: TongxinContext) -> int:
    """A typed phone number, or Skip."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    text = message.text.strip()
    if text in skip_labels(context):
        draft_of(context)["phone"] = None
        return await next_step(update, context, SUMMARY)
    if not PHONE_PATTERN.match(text):
        await message.reply_text(context.t("wish.phone_invalid"))
        return CONTACT
    draft_of(context)["phone"] = text
    return await next_step(update, context, SUMMARY)


async def contact_not_understood(update: Update, context: TongxinContext) -> None:
    """Anything else where a phone number is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.phone_invalid"))


ASKERS = {
    CATEGORY: ask_category,
    DESCRIPTION: ask_description,
    AREA: ask_area,
    PLACE: ask_place,
    PHOTO: ask_photo,
    CONTACT: ask_contact,
}


async def next_step(update: Update, context: TongxinContext, state: int) -> int:
    """Ask for the next field, or show the summary again when one field was being edited."""
    draft = draft_of(context)
    if draft.get("editing") or state == SUMMARY:
        draft["editing"] = False
        await show_summary(context)
        return SUMMARY
    await ASKERS[state](context)
    return state


def summary_text(context: TongxinContext, draft: dict[str, Any]) -> str:
    """The draft as the person will check it (HTML)."""
    parts = [html.escape(draft["address"])] if draft.get("address") else []
    if draft.get("location"):
        parts.append(context.t("wish.summary.location_shared"))
    place = " + ".join(parts) or context.t("wish.summary.none")
    return context.t(
        "wish.summary",
        category=context.t(f"category.{draft.get('category', 'other')}"),
        description=html.escape(draft.get("description", "")),
        area=html.escape(draft["area"]) if draft.get("area") else context.t("wish.summary.none"),
        place=place,
        photo=context.t("wish.summary.yes") if draft.get("photo") else context.t("wish.summary.none"),
        phone=html.escape(draft["phone"]) if draft.get("phone") else context.t("wish.summary.none"),
    )


async def show_summary(context: TongxinContext) -> None:
    """Clear the reply keyboard, then show the draft with Submit / Edit / Cancel."""
    assert context.person is not None
    await context.bot.send_message(context.chat_id, context.t("wish.summary_intro"), reply_markup=ReplyKeyboardRemove())
    await context.bot.send_message(
        context.chat_id,
        summary_text(context, draft_of(context)),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(context.t("wish.button.submit"), callback_data="wish:submit")],
                [
                    InlineKeyboardButton(context.t("wish.button.edit"), callback_data="wish:edit"),
                    InlineKeyboardButton(context.t("wish.button.discard"), callback_data="wish:discard"),
                ],
            ]
        ),
    )


async def edit_chosen(update: Update, context: TongxinContext) -> int:
    """Offer the fields that can be changed one at a time."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    buttons = [
        InlineKeyboardButton(context.t(f"wish.field.{name}"), callback_data=f"wish:field:{name}") for name in FIELDS
    ]
    await query.edit_message_reply_markup(InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, 6, 3)]))
    return SUMMARY


async def field_chosen(update: Update, context: TongxinContext) -> int:
    """Ask again for one field; the others stay as they are."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    name = query.data.removeprefix("wish:field:")
    if name not in FIELDS:
        await query.answer()
        return SUMMARY
    await query.answer()
    await query.edit_message_reply_markup(None)
    draft_of(context)["editing"] = True
    state = FIELDS[name]
    await ASKERS[state](context)
    return state


async def submit_chosen(update: Update, context: TongxinContext) -> int:
    """Commit the wish, then tell the person its reference (and coordinators that one waits)."""
    query = update.callback_query
    assert query is not None
    assert context.person is not None
    assert context.user_data is not None
    draft = draft_of(context)
    location = draft.get("location")
    wish_draft = WishDraft(
        category=draft.get("category", "other"),
        description=draft.get("description", ""),
        area=draft.get("area"),
        address=draft.get("address"),
        location=(float(location[0]), float(location[1])) if location else None,
        photo_file_id=draft.get("photo"),
        phone=draft.get("phone"),
    )
    if await followers.offer_similar(context, wish_draft, draft):
        await query.answer()
        return SUMMARY
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.submit_wish(
                conn,
                wish_draft,
                resident_id=context.person.id,
                now=context.now(),
                review=context.settings.wish_review,
                daily_limit=context.settings.wishes_per_day,
            )
    except LimitReached:
        await query.answer(context.t("wish.limit", limit=context.settings.wishes_per_day), show_alert=True)
        return SUMMARY
    except InvalidInput:
        await query.answer(context.t("wish.pick_button"), show_alert=True)
        return SUMMARY
    await query.answer()
    await query.edit_message_reply_markup(None)
    reviewed = wish.status == lifecycle.WishStatus.PENDING_REVIEW
    await context.bot.send_message(
        context.chat_id,
        context.t("wish.submitted_review" if reviewed else "wish.submitted_open", ref=wish_ref(wish.ref_no)),
    )
    context.user_data.pop(DRAFT, None)
    if reviewed:
        await tell_coordinators(context, wish)
    return ConversationHandler.END


async def similar_joined(update: Update, context: TongxinContext) -> int:
    """Join that one: follow the similar open wish instead of submitting this draft."""
    assert context.user_data is not None
    if not await followers.join_pressed(update, context):
        return SUMMARY
    context.user_data.pop(DRAFT, None)
    return ConversationHandler.END


async def coordinator_ids(context: TongxinContext) -> list[int]:
    """Coordinators, and admins who have ever written to the bot (Telegram refuses chats never opened)."""
    async with context.db.read() as conn:
        ids = set(await users.ids_with_role(conn, Role.COORDINATOR))
        ids.update(await people.admin_person_ids(conn, context.settings.admin_ids))
    return sorted(ids)


async def tell_coordinators(context: TongxinContext, wish: store.Wish) -> None:
    """A new wish waits for review: every coordinator gets a notice with a button to /pending."""
    coordinators = await coordinator_ids(context)
    notice = Notice(
        "pending.notice_new_wish",
        {"ref": wish_ref(wish.ref_no), "category_key": f"category.{wish.category}"},
        ((Button("pending.button.open_pending", Act.PENDING_LIST),),),
    )
    for user_id in coordinators:
        await context.notifier.notify(user_id, notice, lane="normal", dedupe_key=f"wish-pending:{wish.id}:{user_id}")


async def discard_chosen(update: Update, context: TongxinContext) -> int:
    """Cancel from the summary: nothing is submitted."""
    query = update.callback_query
    assert query is not None
    assert context.user_data is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    context.user_data.pop(DRAFT, None)
    await context.bot.send_message(query.from_user.id, context.t("cancel.done"))
    return ConversationHandler.END


async def summary_waits(update: Update, context: TongxinContext) -> None:
    """Typed text at the summary: point at the buttons."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.use_summary_buttons"))


async def cancel(update: Update, context: TongxinContext) -> int:
    """/cancel: drop the draft and the keyboard."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
        context.user_data.pop("wish_notyet", None)
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("cancel.done"), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


NOT_COMMAND = ~filters.COMMAND


def wish_conversation() -> ConversationHandler[TongxinContext]:
    """/wish: category → description → area → place → photo → phone → summary (docs/wish.mmd)."""
    other = filters.ALL & NOT_COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("wish", start_wish),
            CallbackQueryHandler(start_wish, pattern=r"^wish:new$"),
        ],
        states={
            CATEGORY: [
                CallbackQueryHandler(category_chosen, pattern=r"^wish:cat:"),
                MessageHandler(other, press_a_button),
            ],
            DESCRIPTION: [
                MessageHandler(filters.TEXT & NOT_COMMAND, description_typed),
                MessageHandler(other, description_not_text),
            ],
            AREA: [
                CallbackQueryHandler(area_chosen, pattern=r"^wish:area:"),
                MessageHandler(other, press_a_button),
            ],
            PLACE: [
                MessageHandler(filters.LOCATION, location_shared),
                MessageHandler(filters.TEXT & NOT_COMMAND, address_typed),
                MessageHandler(other, place_not_understood),
            ],
            PHOTO: [
                MessageHandler(filters.PHOTO, photo_sent),
                MessageHandler(filters.TEXT & NOT_COMMAND, photo_skipped),
                MessageHandler(other, photo_as_file),
            ],
            CONTACT: [
                MessageHandler(filters.CONTACT, contact_shared),
                MessageHandler(filters.TEXT & NOT_COMMAND, phone_typed),
                MessageHandler(other, contact_not_understood),
            ],
            SUMMARY: [
                CallbackQueryHandler(submit_chosen, pattern=r"^wish:submit$"),
                CallbackQueryHandler(similar_joined, pattern=r"^wish:join:\d+$"),
                CallbackQueryHandler(edit_chosen, pattern=r"^wish:edit$"),
                CallbackQueryHandler(field_chosen, pattern=r"^wish:field:"),
                CallbackQueryHandler(discard_chosen, pattern=r"^wish:discard$"),
                MessageHandler(other, summary_waits),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        allow_reentry=True,
        persistent=True,
        name="wish",
    )


# --- /mywishes and the resident's buttons ----------------------------------------------------------------


def resident_buttons(context: TongxinContext, wish: store.Wish) -> InlineKeyboardMarkup | None:
    """The actions this wish's status allows its resident."""
    rows: list[list[InlineKeyboardButton]] = []
    actions = lifecycle.resident_actions(wish)
    if lifecycle.WishAction.CONFIRM in actions:
        rows.append(
            [
                InlineKeyboardButton(context.t("wish.button.confirm"), callback_data=f"wish:confirm:{wish.id}"),
                InlineKeyboardButton(context.t("wish.button.not_yet"), callback_data=f"wish:notyet:{wish.id}"),
            ]
        )
    if lifecycle.WishAction.CANCEL in actions:
        rows.append(
            [InlineKeyboardButton(context.t("wish.button.cancel_wish"), callback_data=f"wish:cancel:{wish.id}")]
        )
    if lifecycle.can_rate(wish) and wish.rating is None:
        rows.append(rating_buttons(wish.id))
    return InlineKeyboardMarkup(rows) if rows else None


def rating_buttons(wish_id: int) -> list[InlineKeyboardButton]:
    """1–5 stars."""
    return [
        InlineKeyboardButton(f"{n}⭐", callback_data=f"wish:rate:{wish_id}:{n}")
        for n in range(lifecycle.RATING_MIN, lifecycle.RATING_MAX + 1)
    ]


async def list_my_wishes(update: Update, context: TongxinContext) -> None:
    """/mywishes: each recent wish with its status in words and its buttons, then the wishes joined."""
    message = update.effective_message
    if message is None or context.person is None:
        return
    async with context.db.read() as conn:
        mine = await store.wishes_of_resident(conn, context.person.id, limit=MYWISHES_SHOWN)
    joined = await followers.joined_section(context)
    if not mine and joined is None:
        await message.reply_text(context.t("wish.mine.none"))
        return
    if mine:
        await message.reply_text(context.t("wish.mine.title", count=len(mine)))
    for wish in mine:
        await message.reply_text(
            wish_cards.resident_card(context.t, wish),
            parse_mode=ParseMode.HTML,
            reply_markup=resident_buttons(context, wish),
        )
    if joined is not None:
        await message.reply_text(joined, parse_mode=ParseMode.HTML)


def wish_id_from(data: str | None, position: int = 2) -> int | None:
    """The wish id inside callback data such as `wish:cancel:42` (never trusted beyond being a number)."""
    parts = (data or "").split(":")
    return int(parts[position]) if len(parts) > position and parts[position].isdigit() else None


async def show_updated(update: Update, context: TongxinContext, wish: store.Wish, extra_key: str | None = None) -> None:
    """Replace the pressed card with the wish as it is now."""
    query = update.callback_query
    assert query is not None
    text = wish_cards.resident_card(context.t, wish)
    if extra_key:
        text += "\n\n" + context.t(extra_key)
    if query.message is not None and isinstance(query.message, Message) and query.message.photo:
        await query.edit_message_caption(
            text[:1024], parse_mode=ParseMode.HTML, reply_markup=resident_buttons(context, wish)
        )
    else:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=resident_buttons(context, wish))


async def cancel_pressed(update: Update, context: TongxinContext) -> None:
    """The resident withdraws a wish; a volunteer who had claimed it is told."""
    query = update.callback_query
    if query is None or (wish_id := wish_id_from(query.data)) is None:
        return
    try:
        async with context.db.write() as conn:
            before = await store.get_wish(conn, wish_id)
            wish = await lifecycle.cancel_wish(conn, wish_id, actor=actor_of(context), now=context.now())
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    await query.answer(context.t("wish.cancelled"))
    await show_updated(update, context, wish)
    await followers.tell_followers(context, wish)
    if before.claimed_by is not None:
        await context.notifier.notify(
            before.claimed_by,
            Notice("task.notice_cancelled", {"ref": wish_ref(wish.ref_no)}),
            lane="urgent",
            dedupe_key=f"wish-cancelled:{wish.id}",
        )


async def confirm_pressed(update: Update, context: TongxinContext) -> None:
    """ "It's done — thank you": the hours count; ask for a rating; thank the volunteer."""
    query = update.callback_query
    if query is None or (wish_id := wish_id_from(query.data)) is None:
        return
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.confirm_wish(conn, wish_id, actor=actor_of(context), now=context.now())
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    await query.answer()
    await show_updated(update, context, wish, "wish.confirmed_rate")
    await followers.tell_followers(context, wish)
    if wish.claimed_by is not None:
        await context.notifier.notify(
            wish.claimed_by,
            Notice(
                "task.notice_confirmed",
                {"ref": wish_ref(wish.ref_no), "hours": wish_cards.format_hours(wish.hours or 0)},
            ),
            lane="normal",
            dedupe_key=f"wish-confirmed:{wish.id}",
        )
        if wish.proof_file_id:
            # One case across the centres: the proof photo may become a story lead, if the volunteer agrees.
            await offer_story_lead(
                context.db,
                context.notifier,
                wish_ref_no=wish.ref_no,
                volunteer_id=wish.claimed_by,
                photo_file_id=wish.proof_file_id,
                summary=wish.description,
                now=context.now(),
            )


async def rate_pressed(update: Update, context: TongxinContext) -> None:
    """A 1–5 rating of a confirmed wish; the volunteer hears about it."""
    query = update.callback_query
    if query is None or (wish_id := wish_id_from(query.data)) is None:
        return
    rating = wish_id_from(query.data, 3)
    if rating is None:
        await query.answer()
        return
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.rate_wish(conn, wish_id, actor=actor_of(context), now=context.now(), rating=rating)
    except InvalidInput:
        await query.answer()
        return
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    await query.answer(context.t("wish.rated"))
    await show_updated(update, context, wish, "wish.rated")
    if wish.claimed_by is not None:
        await context.notifier.notify(
            wish.claimed_by,
            Notice("task.notice_rated", {"ref": wish_ref(wish.ref_no), "rating": rating}),
            lane="normal",
            dedupe_key=f"wish-rated:{wish.id}:{rating}",
        )


async def not_yet_pressed(update: Update, context: TongxinContext) -> int:
    """ "Not done yet": check it still can be said, then ask what is missing."""
    query = update.callback_query
    assert query is not None
    assert context.user_data is not None
    if (wish_id := wish_id_from(query.data)) is None:
        await query.answer()
        return ConversationHandler.END
    try:
        async with context.db.read() as conn:
            wish = await store.get_wish(conn, wish_id)
        lifecycle.ensure_allowed(wish, lifecycle.WishAction.REOPEN, actor_of(context))
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return ConversationHandler.END
    await query.answer()
    context.user_data["wish_notyet"] = wish_id
    await context.bot.send_message(
        query.from_user.id, context.t("wish.ask_not_yet_note", ref=wish_ref(wish.ref_no), max=lifecycle.NOTE_MAX)
    )
    return ANSWER


async def not_yet_note_typed(update: Update, context: TongxinContext) -> int:
    """Send the wish back to its volunteer with the resident's note."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    assert context.user_data is not None
    try:
        note = lifecycle.check_text(message.text, lifecycle.NOTE_MAX)
    except InvalidInput:
        await message.reply_text(context.t("wish.note_too_long", max=lifecycle.NOTE_MAX))
        return ANSWER
    wish_id = int(context.user_data.get("wish_notyet", 0))
    try:
        async with context.db.write() as conn:
            wish = await lifecycle.reopen_wish(conn, wish_id, actor=actor_of(context), now=context.now(), note=note)
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        context.user_data.pop("wish_notyet", None)
        return ConversationHandler.END
    context.user_data.pop("wish_notyet", None)
    await message.reply_text(context.t("wish.not_yet_sent", ref=wish_ref(wish.ref_no)))
    if wish.claimed_by is not None:
        await context.notifier.notify(
            wish.claimed_by,
            Notice(
                "task.notice_not_yet",
                {"ref": wish_ref(wish.ref_no), "note": note},
                (
                    (
                        Button("task.button.done", Act.TASK_DONE, wish.id),
                        Button("task.button.release", Act.TASK_RELEASE, wish.id),
                    ),
                ),
            ),
            lane="urgent",
            dedupe_key=f"wish-notyet:{wish.id}:{wish.updated_at.isoformat()}",
        )
    return ConversationHandler.END


async def note_not_text(update: Update, context: TongxinContext) -> None:
    """Something other than text where the note is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.note_expected"))


def not_yet_conversation() -> ConversationHandler[TongxinContext]:
    """ "Not done yet" → the resident's note → back to the volunteer."""
    return typed_answer(
        name="wish_not_yet",
        pattern=r"^wish:notyet:\d+$",
        asked=not_yet_pressed,
        answered=not_yet_note_typed,
        not_text=note_not_text,
        cancelled=cancel,
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/wish and "not done yet"."""
    return [wish_conversation(), not_yet_conversation()]  # type: ignore[list-item]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/mywishes and the resident's buttons on their wishes."""
    return [
        CommandHandler("mywishes", list_my_wishes),
        CallbackQueryHandler(cancel_pressed, pattern=r"^wish:cancel:\d+$"),
        CallbackQueryHandler(confirm_pressed, pattern=r"^wish:confirm:\d+$"),
        CallbackQueryHandler(rate_pressed, pattern=r"^wish:rate:\d+:\d$"),
    ]
