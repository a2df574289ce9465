"""Residents: `/wish` (a conversation from category to Submit, also started from the /start button),
`/mywishes` with the actions each status allows, and "not done yet" with a note for the volunteer.

The draft lives in `context.user_data["wish_draft"]` as plain JSON, so a restart mid-conversation
continues where the person was; the wish itself is committed before the bot says it was submitted.
What a submit, cancel, confirm, rating or "not done yet" sets off (coordinators, the volunteer, the
followers, the story lead) is the action's (`actions/wishes.py`); these handlers parse, call and reply.
Diagram: docs/wish.mmd.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from telegram import (
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

from actions import wishes as wish_actions
from actions.buttons import Act, Button
from bot.context import TongxinContext
from channels.telegram import callbacks, render
from handlers import followers, lists, plain_words, wish_cards
from handlers.common import actor_of, conflict_reply, expect_press, skip_labels, stale_press, step_passed, unchanged
from handlers.leaving import asking, register_steps
from handlers.prompts import ANSWER, share_or_skip, typed_answer
from rules import wishes as lifecycle
from rules.wishes import InvalidInput, WishDraft, wish_ref
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


def chat_of(update: Update) -> int:
    """The chat to answer in (a chat id, not a person id: the two may differ)."""
    assert update.effective_chat is not None
    return update.effective_chat.id


@dataclass(frozen=True, slots=True)
class WishForm:
    """What the resident has entered in /wish so far. It lives in `user_data` as JSON (`to_json` /
    `from_json`), so a restart in the middle of the conversation continues where they were."""

    category: str | None = None
    description: str | None = None
    area: str | None = None
    address: str | None = None
    location: tuple[float, float] | None = None
    photo: str | None = None
    phone: str | None = None
    voice: str | None = None  # a spoken description: the voice note's file reference...
    voice_seconds: int | None = None  # ...and its length
    editing: bool = False  # one field is being changed from the summary: go back to it after
    similar_offered: int | None = None  # the similar wish already shown (Submit again submits anyway)

    def to_json(self) -> dict[str, Any]:
        """The form as JSON-serialisable data."""
        data = asdict(self)
        data["location"] = list(self.location) if self.location else None
        return data

    @classmethod
    def from_json(cls, data: object) -> WishForm:
        """The form back from `to_json` (or from the plain dict drafts stored before it); an unreadable
        value starts an empty form rather than failing the person's next step."""
        if not isinstance(data, dict):
            return cls()
        names = ("category", "description", "area", "address", "photo", "phone", "voice")
        texts = {name: data.get(name) for name in names}
        location, offered, seconds = data.get("location"), data.get("similar_offered"), data.get("voice_seconds")
        try:
            return cls(
                **{name: value if isinstance(value, str) else None for name, value in texts.items()},
                location=(float(location[0]), float(location[1])) if location else None,
                editing=bool(data.get("editing")),
                similar_offered=offered if isinstance(offered, int) else None,
                voice_seconds=seconds if isinstance(seconds, int) else None,
            )
        except (TypeError, ValueError, IndexError):
            return cls()

    def to_draft(self) -> WishDraft:
        """The form as the rules take it (the action checks the description again)."""
        return WishDraft(
            category=self.category or "other",
            description=self.description or "",
            area=self.area,
            address=self.address,
            location=self.location,
            photo_file_id=self.photo,
            phone=self.phone,
            voice_file_id=self.voice,
            voice_seconds=self.voice_seconds,
        )


def form_of(context: TongxinContext) -> WishForm:
    """The wish being written (empty when none is)."""
    return WishForm.from_json(context.user_data.get(DRAFT) if context.user_data is not None else None)


def remember(context: TongxinContext, **changes: Any) -> WishForm:
    """Change some fields of the wish being written, and keep it."""
    form = replace(form_of(context), **changes)
    if context.user_data is not None:
        context.user_data[DRAFT] = form.to_json()
    return form


# --- the /wish conversation -------------------------------------------------------------------------------


async def start_wish(update: Update, context: TongxinContext) -> int:
    """/wish or the /start button: check today's limit, start a fresh draft, ask the category."""
    assert context.user_data is not None
    if update.callback_query is not None:
        await update.callback_query.answer()
    if not await wish_actions.may_submit(context.env, actor_of(context)):
        await context.bot.send_message(chat_of(update), context.t("wish.limit", limit=context.settings.wishes_per_day))
        return ConversationHandler.END
    context.user_data[DRAFT] = WishForm().to_json()
    await ask_category(update, context)
    return CATEGORY


async def start_wish_from_text(update: Update, context: TongxinContext) -> int | None:
    """[提交为微心愿] under plain words: a wish with those words as the description and the category guessed
    (both can be changed in the summary); the area is asked next. Words too short for a description start
    the usual /wish instead."""
    assert context.user_data is not None
    query = update.callback_query
    press = plain_words.press_of(update)
    if query is None or press is None or (text := plain_words.pending_text(context, press.id)) is None:
        if query is not None:
            await query.answer(context.plain("plain.expired"), show_alert=True)
        return None
    voice = plain_words.pending_voice(context, press.id)
    plain_words.forget(context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    if not await wish_actions.may_submit(context.env, actor_of(context)):
        await context.bot.send_message(chat_of(update), context.t("wish.limit", limit=context.settings.wishes_per_day))
        return ConversationHandler.END
    if voice is not None:  # a spoken need: the voice note is the description; the category is asked
        context.user_data[DRAFT] = WishForm(voice=voice[0], voice_seconds=voice[1]).to_json()
        await ask_category(update, context)
        return CATEGORY
    try:
        description = lifecycle.check_description(text)
    except InvalidInput:
        context.user_data[DRAFT] = WishForm().to_json()
        await ask_category(update, context)
        return CATEGORY
    category = plain_words.category_of(context, text)
    context.user_data[DRAFT] = WishForm(category=category, description=description).to_json()
    await context.bot.send_message(
        chat_of(update), context.t("plain.wish_prefilled", category=context.t(f"category.{category}"))
    )
    await ask_area(update, context)
    return AREA


async def ask_category(update: Update, context: TongxinContext) -> None:
    """The categories as buttons, two per row."""
    buttons = [Button(f"category.{key}", Act.WISH_CATEGORY, arg=key) for key in context.settings.categories]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await context.bot.send_message(
        chat_of(update), asking(context, "wish.ask_category"), reply_markup=callbacks.keyboard(rows, context.plain)
    )


async def category_chosen(update: Update, context: TongxinContext) -> int:
    """Remember the category; go on to the description (or back to the summary when editing)."""
    if (press := await expect_press(update, context, Act.WISH_CATEGORY)) is None or press.arg is None:
        return CATEGORY
    query = update.callback_query
    assert query is not None
    key = press.arg
    if key not in context.settings.categories:
        await query.answer(context.plain("wish.pick_button"), show_alert=True)
        return CATEGORY
    await query.answer()
    remember(context, category=key)
    await query.edit_message_text(context.t("wish.category_chosen", category=context.t(f"category.{key}")))
    form = form_of(context)
    # A spoken need offered from outside the conversation already has its description (the voice note).
    return await next_step(update, context, AREA if form.voice and not form.editing else DESCRIPTION)


async def press_a_button(update: Update, context: TongxinContext) -> None:
    """Something typed where a button is expected: say so; nothing entered is lost."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.pick_button"))


async def ask_description(update: Update, context: TongxinContext) -> None:
    """Ask what help is needed."""
    await context.bot.send_message(
        chat_of(update),
        asking(context, "wish.ask_description", min=lifecycle.DESCRIPTION_MIN, max=lifecycle.DESCRIPTION_MAX),
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
    remember(context, description=description, voice=None, voice_seconds=None)
    return await next_step(update, context, AREA)


async def description_spoken(update: Update, context: TongxinContext) -> int:
    """A voice note as the description (up to three minutes): kept as it is, delivered as voice to the
    coordinators and the volunteer; the area is asked next."""
    message = update.effective_message
    assert message is not None
    assert message.voice is not None
    duration = message.voice.duration
    seconds = plain_words.seconds_of(duration)
    if seconds > lifecycle.VOICE_MAX_SECONDS:
        await message.reply_text(context.t("wish.voice_too_long", max=lifecycle.VOICE_MAX_SECONDS // 60))
        return DESCRIPTION
    remember(context, voice=message.voice.file_id, voice_seconds=seconds, description=None)
    await message.reply_text(context.t("wish.voice_kept", length=lifecycle.voice_length(seconds)))
    return await next_step(update, context, AREA)


async def description_not_text(update: Update, context: TongxinContext) -> None:
    """A sticker, photo or file where the description is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.description_not_text"))


async def ask_area(update: Update, context: TongxinContext) -> None:
    """The district's towns and communities as buttons, and Skip."""
    buttons = [Button(f"={area}", Act.WISH_AREA, arg=str(index)) for index, area in enumerate(context.settings.areas)]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([Button("wish.button.skip", Act.WISH_AREA, arg="skip")])
    await context.bot.send_message(
        chat_of(update), asking(context, "wish.ask_area"), reply_markup=callbacks.keyboard(rows, context.plain)
    )


async def area_chosen(update: Update, context: TongxinContext) -> int:
    """Remember the area (or none) and ask where exactly."""
    if (press := await expect_press(update, context, Act.WISH_AREA)) is None or press.arg is None:
        return AREA
    query = update.callback_query
    assert query is not None
    choice = press.arg
    areas = context.settings.areas
    if choice != "skip" and not int(choice) < len(areas):
        await query.answer(context.plain("wish.pick_button"), show_alert=True)
        return AREA
    await query.answer()
    area = None if choice == "skip" else areas[int(choice)]
    remember(context, area=area)
    await query.edit_message_text(
        context.t("wish.area_chosen", area=html.escape(area) if area else context.t("wish.area_unknown")),
        parse_mode=ParseMode.HTML,
    )
    return await next_step(update, context, PLACE)


async def ask_place(update: Update, context: TongxinContext) -> None:
    """Share a location with the button, type an address, or skip."""
    keyboard = share_or_skip(context, "wish.button.share_location", "wish.button.skip", location=True)
    await context.bot.send_message(
        chat_of(update), asking(context, "wish.ask_place", max=lifecycle.ADDRESS_MAX), reply_markup=keyboard
    )


async def location_shared(update: Update, context: TongxinContext) -> int:
    """Keep the shared location (a typed address is kept too: both help the volunteer)."""
    message = update.effective_message
    assert message is not None
    assert message.location is not None
    remember(context, location=(message.location.latitude, message.location.longitude))
    return await next_step(update, context, PHOTO)


async def address_typed(update: Update, context: TongxinContext) -> int:
    """Keep a typed address (beside any shared location); Skip clears both."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    if message.text.strip() in skip_labels(context):
        remember(context, address=None, location=None)
        return await next_step(update, context, PHOTO)
    try:
        remember(context, address=lifecycle.check_text(message.text, lifecycle.ADDRESS_MAX))
    except InvalidInput:
        await message.reply_text(context.t("wish.address_too_long", max=lifecycle.ADDRESS_MAX))
        return PLACE
    return await next_step(update, context, PHOTO)


async def place_not_understood(update: Update, context: TongxinContext) -> None:
    """Anything else where a place is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.place_not_understood"))


async def ask_photo(update: Update, context: TongxinContext) -> None:
    """A photo helps the volunteer; it is optional."""
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(context.plain("wish.button.skip"))]], resize_keyboard=True, one_time_keyboard=True
    )
    await context.bot.send_message(chat_of(update), asking(context, "wish.ask_photo"), reply_markup=keyboard)


async def photo_sent(update: Update, context: TongxinContext) -> int:
    """Keep the largest size of the photo."""
    message = update.effective_message
    assert message is not None
    assert message.photo
    remember(context, photo=message.photo[-1].file_id)
    return await next_step(update, context, CONTACT)


async def photo_skipped(update: Update, context: TongxinContext) -> int:
    """No photo (Skip pressed); anything else typed is a mistake."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    if message.text.strip() not in skip_labels(context):
        await message.reply_text(context.t("wish.photo_expected"))
        return PHOTO
    remember(context, photo=None)
    return await next_step(update, context, CONTACT)


async def photo_as_file(update: Update, context: TongxinContext) -> None:
    """A document, sticker or video instead of a photo."""
    if (message := update.effective_message) is not None:
        key = "wish.photo_as_document" if message.document is not None else "wish.photo_expected"
        await message.reply_text(context.t(key))


async def ask_contact(update: Update, context: TongxinContext) -> None:
    """Share the phone number with the button (only the claiming volunteer sees it), or skip."""
    keyboard = share_or_skip(context, "wish.button.share_phone", "wish.button.skip", contact=True)
    await context.bot.send_message(chat_of(update), asking(context, "wish.ask_contact"), reply_markup=keyboard)


async def contact_shared(update: Update, context: TongxinContext) -> int:
    """Keep the person's own phone number (someone else's contact card is refused)."""
    message = update.effective_message
    assert message is not None
    assert message.contact is not None
    if update.effective_user is None or message.contact.user_id != update.effective_user.id:
        await message.reply_text(context.t("wish.contact_not_own"))
        return CONTACT
    remember(context, phone=message.contact.phone_number[:32])
    return await next_step(update, context, SUMMARY)


async def phone_typed(update: Update, context: TongxinContext) -> int:
    """A typed phone number, or Skip."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    text = message.text.strip()
    if text in skip_labels(context):
        remember(context, phone=None)
        return await next_step(update, context, SUMMARY)
    if not PHONE_PATTERN.match(text):
        await message.reply_text(context.t("wish.phone_invalid"))
        return CONTACT
    remember(context, phone=text)
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
    if form_of(context).editing or state == SUMMARY:
        remember(context, editing=False)
        await show_summary(update, context)
        return SUMMARY
    await ASKERS[state](update, context)
    return state


def summary_text(context: TongxinContext, form: WishForm) -> str:
    """The draft as the person will check it (HTML)."""
    none = context.t("wish.summary.none")
    parts = [html.escape(form.address)] if form.address else []
    if form.location:
        parts.append(context.t("wish.summary.location_shared"))
    return context.t(
        "wish.summary",
        category=context.t(f"category.{form.category or 'other'}"),
        description=html.escape(form.description or "")
        or (context.t("wish.voice_note", length=lifecycle.voice_length(form.voice_seconds or 1)) if form.voice else ""),
        area=html.escape(form.area) if form.area else none,
        place=" + ".join(parts) or none,
        photo=context.t("wish.summary.yes") if form.photo else none,
        phone=html.escape(form.phone) if form.phone else none,
    )


SUMMARY_BUTTONS = (
    (Button("wish.button.submit", Act.WISH_SUBMIT),),
    (Button("wish.button.edit", Act.WISH_EDIT), Button("wish.button.discard", Act.WISH_DISCARD)),
)


async def show_summary(update: Update, context: TongxinContext) -> None:
    """Clear the reply keyboard, then show the draft with Submit / Edit / Cancel."""
    chat_id = chat_of(update)
    await context.bot.send_message(chat_id, context.t("wish.summary_intro"), reply_markup=ReplyKeyboardRemove())
    await context.bot.send_message(
        chat_id,
        summary_text(context, form_of(context)),
        parse_mode=ParseMode.HTML,
        reply_markup=callbacks.keyboard(SUMMARY_BUTTONS, context.plain),
    )


# Help words at a step ask its question again (handlers/leaving.py).
register_steps("wish", {**ASKERS, SUMMARY: show_summary})


async def edit_chosen(update: Update, context: TongxinContext) -> int:
    """Offer the fields that can be changed one at a time."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    buttons = [Button(f"wish.field.{name}", Act.WISH_FIELD, arg=name) for name in FIELDS]
    fields = callbacks.keyboard([buttons[i : i + 3] for i in range(0, 6, 3)], context.plain)
    if not unchanged(context, query.message, fields):  # Edit pressed twice: the fields are shown already
        await query.edit_message_reply_markup(fields)
    return SUMMARY


async def field_chosen(update: Update, context: TongxinContext) -> int:
    """Ask again for one field; the others stay as they are."""
    if (press := await expect_press(update, context, Act.WISH_FIELD)) is None:
        return SUMMARY
    if press.arg not in FIELDS:
        await stale_press(update, context)
        return SUMMARY
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    remember(context, editing=True)
    state = FIELDS[press.arg]
    await ASKERS[state](update, context)
    return state


async def submit_chosen(update: Update, context: TongxinContext) -> int:
    """Submit the wish (after offering a similar one to join, once), then tell the person its reference."""
    query = update.callback_query
    assert query is not None
    assert context.user_data is not None
    form = form_of(context)
    wish_draft = form.to_draft()
    if (offered := await followers.offer_similar(update, context, wish_draft, form.similar_offered)) is not None:
        remember(context, similar_offered=offered)
        await query.answer()
        return SUMMARY
    try:
        submitted = await wish_actions.submit(context.env, actor_of(context), wish_draft)
    except LimitReached:
        await query.answer(context.plain("wish.limit", limit=context.settings.wishes_per_day), show_alert=True)
        return SUMMARY
    except InvalidInput:
        await query.answer(context.plain("wish.pick_button"), show_alert=True)
        return SUMMARY
    await query.answer()
    await query.edit_message_reply_markup(None)
    key = "wish.submitted_review" if submitted.awaiting_review else "wish.submitted_open"
    await context.bot.send_message(chat_of(update), context.t(key, ref=wish_ref(submitted.wish.ref_no)))
    context.user_data.pop(DRAFT, None)
    return ConversationHandler.END


async def similar_joined(update: Update, context: TongxinContext) -> int:
    """Join that one: follow the similar open wish instead of submitting this draft."""
    assert context.user_data is not None
    if not await followers.join_pressed(update, context):
        return SUMMARY
    context.user_data.pop(DRAFT, None)
    return ConversationHandler.END


async def discard_chosen(update: Update, context: TongxinContext) -> int:
    """Cancel from the summary: nothing is submitted."""
    query = update.callback_query
    assert query is not None
    assert context.user_data is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    context.user_data.pop(DRAFT, None)
    await context.bot.send_message(chat_of(update), context.t("cancel.done"))
    return ConversationHandler.END


async def summary_waits(update: Update, context: TongxinContext) -> None:
    """Typed text at the summary: point at the buttons."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.use_summary_buttons"))


async def cancel(update: Update, context: TongxinContext) -> int:
    """/cancel: drop the draft and the keyboard."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
        context.user_data.pop(NOT_YET, None)
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("cancel.done"), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


NOT_COMMAND = ~filters.COMMAND


# The buttons of the /wish steps: one pressed at a step it does not belong to was for a step already passed.
WISH_STEP_ACTS = (
    Act.WISH_CATEGORY,
    Act.WISH_AREA,
    Act.WISH_SUBMIT,
    Act.WISH_EDIT,
    Act.WISH_FIELD,
    Act.WISH_DISCARD,
    Act.WISH_JOIN,
)


def wish_conversation() -> ConversationHandler[TongxinContext]:
    """/wish: category → description → area → place → photo → phone → summary (docs/wish.mmd)."""
    other = filters.ALL & NOT_COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("wish", start_wish),
            CallbackQueryHandler(start_wish, pattern=callbacks.pattern(Act.WISH_NEW)),
            CallbackQueryHandler(start_wish_from_text, pattern=callbacks.pattern(Act.WISH_FROM_TEXT)),
        ],
        states={
            CATEGORY: [
                CallbackQueryHandler(category_chosen, pattern=callbacks.pattern(Act.WISH_CATEGORY)),
                MessageHandler(other, press_a_button),
            ],
            DESCRIPTION: [
                MessageHandler(filters.TEXT & NOT_COMMAND, description_typed),
                MessageHandler(filters.VOICE, description_spoken),
                MessageHandler(other, description_not_text),
            ],
            AREA: [
                CallbackQueryHandler(area_chosen, pattern=callbacks.pattern(Act.WISH_AREA)),
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
                CallbackQueryHandler(submit_chosen, pattern=callbacks.pattern(Act.WISH_SUBMIT)),
                CallbackQueryHandler(similar_joined, pattern=callbacks.pattern(Act.WISH_JOIN)),
                CallbackQueryHandler(edit_chosen, pattern=callbacks.pattern(Act.WISH_EDIT)),
                CallbackQueryHandler(field_chosen, pattern=callbacks.pattern(Act.WISH_FIELD)),
                CallbackQueryHandler(discard_chosen, pattern=callbacks.pattern(Act.WISH_DISCARD)),
                MessageHandler(other, summary_waits),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(step_passed, pattern=callbacks.pattern(*WISH_STEP_ACTS)),
        ],
        allow_reentry=True,
        persistent=True,
        name="wish",
    )


# --- /mywishes and the resident's buttons ----------------------------------------------------------------

NOT_YET = "wish_notyet"


def resident_buttons(context: TongxinContext, wish: store.Wish) -> InlineKeyboardMarkup | None:
    """The actions this wish's status allows its resident."""
    rows: list[list[Button]] = []
    actions = lifecycle.resident_actions(wish)
    if lifecycle.WishAction.CONFIRM in actions:
        rows.append(
            [
                Button("wish.button.confirm", Act.WISH_CONFIRM, wish.id),
                Button("wish.button.not_yet", Act.WISH_NOT_YET, wish.id),
            ]
        )
    if lifecycle.WishAction.CANCEL in actions:
        rows.append([Button("wish.button.cancel_wish", Act.WISH_CANCEL, wish.id)])
    if lifecycle.can_rate(wish) and wish.rating is None:
        rows.append(rating_buttons(wish.id))
    return callbacks.keyboard(rows, context.plain) if rows else None


def rating_buttons(wish_id: int) -> list[Button]:
    """1–5 stars."""
    return [
        Button(f"={n}⭐", Act.WISH_RATE, wish_id, str(n)) for n in range(lifecycle.RATING_MIN, lifecycle.RATING_MAX + 1)
    ]


def my_wishes_view(context: TongxinContext, mine: wish_actions.Mine) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the resident's wishes: a line each, a button each for its card and buttons."""
    size = wish_actions.MINE_SHOWN
    lines = [
        context.t(
            "wish.mine.line",
            n=n,
            ref=wish_ref(wish.ref_no),
            category=context.plain(f"category.{wish.category}"),
            status=wish_cards.status_words(context.plain, wish.status, mine.referrals.get(wish.ref_no)),
        )
        for n, wish in enumerate(mine.wishes, start=mine.page * size + 1)
    ]
    lines.append("\n" + context.t("wish.mine.tap"))
    views = [
        callbacks.button(context.plain("list.button.show", ref=wish_ref(w.ref_no)), Act.WISH_SHOW, w.id)
        for w in mine.wishes
    ]
    pages = max(1, -(-mine.total // size))
    title = context.t("wish.mine.list_title", count=mine.total)
    return lists.paged(
        context, title=title, lines=lines, views=views, page=mine.page, pages=pages, page_act=Act.WISH_MINE_PAGE
    )


async def list_my_wishes(update: Update, context: TongxinContext) -> None:
    """/mywishes: the resident's wishes as one message with pages (a tap shows one with its buttons), then
    the wishes joined."""
    message = update.effective_message
    if message is None or context.person is None:
        return
    mine = await wish_actions.mine(context.env, actor_of(context))
    joined = followers.joined_section(context, mine.joined)
    if not mine.wishes and joined is None:
        await message.reply_text(context.t("wish.mine.none"))
        return
    if mine.wishes:
        text, markup = my_wishes_view(context, mine)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    if joined is not None:
        await message.reply_text(joined, parse_mode=ParseMode.HTML)


async def my_wishes_page_pressed(update: Update, context: TongxinContext) -> None:
    """◀ / ▶ on /mywishes: redraw the list in place."""
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    if query is None or press is None or context.person is None:
        return
    await query.answer()
    mine = await wish_actions.mine(context.env, actor_of(context), press.id)
    if not mine.wishes:
        await query.edit_message_text(context.t("wish.mine.none"))
        return
    text, markup = my_wishes_view(context, mine)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def show_wish_pressed(update: Update, context: TongxinContext) -> None:
    """A wish on /mywishes tapped: its card with the buttons its status allows (only the resident's own)."""
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    if query is None or press is None or context.person is None:
        return
    wish = await wish_actions.own_wish(context.env, actor_of(context), press.id)
    if wish is None:
        await query.answer(context.plain("error.not_allowed"), show_alert=True)
        return
    await query.answer()
    if (chat := update.effective_chat) is not None:
        await context.bot.send_message(
            chat.id,
            wish_cards.resident_card(context.t, wish, await wish_actions.referral(context.env, wish)),
            parse_mode=ParseMode.HTML,
            reply_markup=resident_buttons(context, wish),
        )


async def show_updated(update: Update, context: TongxinContext, wish: store.Wish, extra_key: str | None = None) -> None:
    """Replace the pressed card with the wish as it is now."""
    query = update.callback_query
    assert query is not None
    text = wish_cards.resident_card(context.t, wish)
    if extra_key:
        text += "\n\n" + context.t(extra_key)
    if unchanged(context, query.message, text, resident_buttons(context, wish)):
        return  # the same button pressed twice: the card shows this already
    if query.message is not None and isinstance(query.message, Message) and query.message.photo:
        await query.edit_message_caption(
            render.whole_lines(text.split("\n"), render.CAPTION_MAX),
            parse_mode=ParseMode.HTML,
            reply_markup=resident_buttons(context, wish),
        )
    else:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=resident_buttons(context, wish))


async def cancel_pressed(update: Update, context: TongxinContext) -> None:
    """The resident withdraws a wish (the action tells a volunteer who had claimed it, and the followers)."""
    if (press := await expect_press(update, context, Act.WISH_CANCEL)) is None:
        return
    try:
        changed = await wish_actions.cancel(context.env, actor_of(context), press.id)
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    assert update.callback_query is not None
    await update.callback_query.answer(context.plain("wish.cancelled"))
    await show_updated(update, context, changed.wish)


async def confirm_pressed(update: Update, context: TongxinContext) -> None:
    """ "It's done — thank you": the hours count; ask for a rating (the action thanks the volunteer)."""
    if (press := await expect_press(update, context, Act.WISH_CONFIRM)) is None:
        return
    try:
        confirmed = await wish_actions.confirm(context.env, actor_of(context), press.id)
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await show_updated(update, context, confirmed.wish, "wish.confirmed_rate")


async def rate_pressed(update: Update, context: TongxinContext) -> None:
    """A 1–5 rating of a confirmed wish (the action tells the volunteer)."""
    if (press := await expect_press(update, context, Act.WISH_RATE)) is None or press.arg is None:
        return
    try:
        changed = await wish_actions.rate(context.env, actor_of(context), press.id, int(press.arg))
    except InvalidInput:
        await stale_press(update, context)
        return
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    assert update.callback_query is not None
    await update.callback_query.answer(context.plain("wish.rated"))
    await show_updated(update, context, changed.wish, "wish.rated")


async def not_yet_pressed(update: Update, context: TongxinContext) -> int:
    """ "Not done yet": check it still can be said, then ask what is missing."""
    assert context.user_data is not None
    if (press := await expect_press(update, context, Act.WISH_NOT_YET)) is None:
        return ConversationHandler.END
    try:
        wish = await wish_actions.check_not_yet(context.env, actor_of(context), press.id)
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return ConversationHandler.END
    assert update.callback_query is not None
    await update.callback_query.answer()
    context.user_data[NOT_YET] = wish.id
    await context.bot.send_message(
        chat_of(update), asking(context, "wish.ask_not_yet_note", ref=wish_ref(wish.ref_no), max=lifecycle.NOTE_MAX)
    )
    return ANSWER


async def not_yet_note_typed(update: Update, context: TongxinContext) -> int:
    """Send the wish back to its volunteer with the resident's note (the action tells the volunteer)."""
    message = update.effective_message
    assert message is not None
    assert message.text is not None
    assert context.user_data is not None
    wish_id = int(context.user_data.get(NOT_YET, 0))
    try:
        changed = await wish_actions.not_yet(context.env, actor_of(context), wish_id, message.text)
    except InvalidInput:
        await message.reply_text(context.t("wish.note_too_long", max=lifecycle.NOTE_MAX))
        return ANSWER
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        context.user_data.pop(NOT_YET, None)
        return ConversationHandler.END
    context.user_data.pop(NOT_YET, None)
    await message.reply_text(context.t("wish.not_yet_sent", ref=wish_ref(changed.wish.ref_no)))
    return ConversationHandler.END


async def note_not_text(update: Update, context: TongxinContext) -> None:
    """Something other than text where the note is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("wish.note_expected"))


def not_yet_conversation() -> ConversationHandler[TongxinContext]:
    """ "Not done yet" → the resident's note → back to the volunteer."""
    return typed_answer(
        name="wish_not_yet",
        pattern=callbacks.pattern(Act.WISH_NOT_YET),
        asked=not_yet_pressed,
        answered=not_yet_note_typed,
        not_text=note_not_text,
        cancelled=cancel,
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/wish and "not done yet"."""
    return [wish_conversation(), not_yet_conversation()]  # type: ignore[list-item]


# Every button of a resident's wish; a press of one that reaches the last handler below is stale or forged.
RESIDENT_ACTS = (
    Act.WISH_NEW,
    Act.WISH_CATEGORY,
    Act.WISH_AREA,
    Act.WISH_SUBMIT,
    Act.WISH_EDIT,
    Act.WISH_FIELD,
    Act.WISH_DISCARD,
    Act.WISH_JOIN,
    Act.WISH_CONFIRM,
    Act.WISH_NOT_YET,
    Act.WISH_CANCEL,
    Act.WISH_RATE,
    Act.WISH_MINE_PAGE,
    Act.WISH_SHOW,
)


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/mywishes and the resident's buttons on their wishes; then an answer for stale or forged presses."""
    return [
        CommandHandler("mywishes", list_my_wishes),
        CallbackQueryHandler(my_wishes_page_pressed, pattern=callbacks.pattern(Act.WISH_MINE_PAGE)),
        CallbackQueryHandler(show_wish_pressed, pattern=callbacks.pattern(Act.WISH_SHOW)),
        CallbackQueryHandler(cancel_pressed, pattern=callbacks.pattern(Act.WISH_CANCEL)),
        CallbackQueryHandler(confirm_pressed, pattern=callbacks.pattern(Act.WISH_CONFIRM)),
        CallbackQueryHandler(rate_pressed, pattern=callbacks.pattern(Act.WISH_RATE)),
        CallbackQueryHandler(stale_press, pattern=callbacks.prefix_pattern(*RESIDENT_ACTS)),
    ]
