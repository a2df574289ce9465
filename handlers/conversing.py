"""Telegram's adapter for the conversations written once (`conversations/`): an update becomes an `Input`, an
`Outcome` becomes Telegram messages — choices as inline keyboards, a location or phone step as a reply keyboard
with the share button and Skip, `edit` and `in_place` as edits of the pressed message, a tap's answer as its toast
or alert.

A conversation runs in a persistent `ConversationHandler` whose state is the step's index (`KeptByStep.steps`) and whose
draft is kept as JSON in `user_data` (both written before the chat moves on: channels/telegram/processor.py), so a
restart continues where the person was. Leave and help words are the layer's (`conversations.base.run`): the handler is
registered in `handlers.leaving.WRITTEN_ONCE` so they are not answered twice.

A conversation started by pressing a card keeps that message's id (`<key>_from` in `user_data`); an outcome that
names what it `changed` has that card refreshed by the `refresh` given with the conversation.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from telegram import InlineKeyboardMarkup, KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from actions.buttons import Button
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from conversations.base import (
    Attachment,
    Contact,
    Conversation,
    Expect,
    Input,
    Outcome,
    Param,
    Say,
    State,
    Subject,
    Voice,
    run,
)
from handlers.common import actor_of, refresh_menu_of, unchanged
from handlers.leaving import WRITTEN_ONCE
from handlers.plain_words import seconds_of
from handlers.prompts import share_or_skip
from storage import users

SHARE_KEYS = {Expect.LOCATION: "wish.button.share_location", Expect.CONTACT: "wish.button.share_phone"}
SKIP_KEY = "wish.button.skip"


class KeptByStep(Conversation, Protocol):
    """A conversation Telegram keeps by step index, with its draft as JSON."""

    steps: tuple[str, ...]

    def resume(self, step: str, draft: object) -> State: ...


Starter = Callable[[Update, TongxinContext], Coroutine[Any, Any, Outcome | None]]
# Refreshes the card a conversation was started from: (context, chat id, the card's message id, what changed).
Refresher = Callable[[TongxinContext, int, int, Subject], Coroutine[Any, Any, None]]


def words(context: TongxinContext, say: Say, *, plain: bool = False) -> str:
    """A `Say` as Telegram HTML (raw values escaped, nested texts translated), or as plain text for alerts."""
    values = {name: value_of(context, value, plain=plain) for name, value in say.params.items()}
    if plain:
        return context.plain(say.key, **values)
    text = context.t(say.key, **values)
    return f"{text}\n{context.t('conversation.leave_hint')}" if say.hint else text


def value_of(context: TongxinContext, value: Param, *, plain: bool) -> object:
    """One value of a `Say`: a nested text translated, a list joined, a raw string escaped for HTML."""
    if isinstance(value, Say):
        return words(context, value, plain=plain)
    if isinstance(value, tuple):
        separator = context.plain("conversation.list_separator")
        return separator.join(str(value_of(context, part, plain=plain)) for part in value)
    if isinstance(value, str) and not plain:
        return html.escape(value, quote=False)
    return value


def keyboard(context: TongxinContext, say: Say) -> InlineKeyboardMarkup:
    """A step's choices as inline buttons, each label in the person's language (its argument shown where the label
    says `{arg}`, the step's `labels` filled in, ✅ before a chosen one)."""
    values = {name: value_of(context, value, plain=True) for name, value in say.labels.items()}

    def label(button: Button) -> str:
        shown = button.label[1:] if button.label.startswith("=") else ""
        shown = shown or context.plain(button.label, arg=button.arg or "", **values)
        return f"✅ {shown}" if button in say.chosen else shown

    return callbacks.keyboard([[replace(b, label="=" + label(b)) for b in row] for row in say.choices], context.plain)


def markup_of(
    context: TongxinContext, say: Say
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """Inline buttons for choices; a reply keyboard to share a location or phone number (and Skip), or Skip
    alone for a photo; a text step or `clear` takes a reply keyboard away."""
    if say.choices:
        return keyboard(context, say)
    if say.expect in SHARE_KEYS:
        location = say.expect == Expect.LOCATION
        share = say.share or SHARE_KEYS[say.expect]
        return share_or_skip(context, share, SKIP_KEY, location=location, contact=not location)
    if say.expect == Expect.PHOTO and say.skip:
        skip = [[KeyboardButton(context.plain(SKIP_KEY))]]
        return ReplyKeyboardMarkup(skip, resize_keyboard=True, one_time_keyboard=True)
    if say.expect == Expect.TEXT or say.clear:
        return ReplyKeyboardRemove()
    return None


def input_of(update: Update) -> Input:
    """What the person sent, as the layer reads it."""
    query = update.callback_query
    if query is not None:
        pressed = query.message.message_id if query.message is not None else None
        return Input(press=callbacks.decode(query.data), message_id=pressed)
    message = update.effective_message
    if message is None:
        return Input()
    file = attachment_of(message)
    if message.location is not None:
        relayed = message.forward_origin is not None or message.venue is not None
        return Input(
            location=(message.location.latitude, message.location.longitude), relayed=relayed, sent_at=message.date
        )
    if message.photo:
        return Input(photo=message.photo[-1].file_id, attachment=file)
    if message.contact is not None:
        user = update.effective_user
        own = user is not None and message.contact.user_id == user.id
        return Input(contact=Contact(message.contact.phone_number, own))
    if message.voice is not None:
        return Input(voice=Voice(message.voice.file_id, seconds_of(message.voice.duration)), attachment=file)
    return Input(text=message.text, document=message.document is not None, attachment=file)


def attachment_of(message: Message) -> Attachment | None:
    """The file in a message as a step that keeps files reads it (a tip's); a sticker, an animation, an audio file
    or a round video is a file of kind "other"; None when the message holds no file."""
    album, caption = message.media_group_id, message.caption
    if message.photo:
        size = message.photo[-1]
        return Attachment(
            "photo",
            size.file_id,
            size.file_unique_id,
            size=size.file_size,
            mime="image/jpeg",
            album=album,
            caption=caption,
        )
    found = message.video or message.document or message.voice
    if found is not None:
        kind = "video" if message.video else "document" if message.document else "voice"
        seconds = seconds_of(message.voice.duration) if message.voice else None
        return Attachment(
            kind,
            found.file_id,
            found.file_unique_id,
            size=found.file_size,
            mime=found.mime_type,
            seconds=seconds,
            album=album,
            caption=caption,
        )
    if message.sticker or message.animation or message.audio or message.video_note:
        return Attachment("other", album=album, caption=caption)
    return None


async def show(update: Update, context: TongxinContext, outcome: Outcome, *, retire: str | None = None) -> None:
    """Send an outcome: the tap answered, the pressed message edited, then the messages. `retire`: the
    `user_data` key of the last question with buttons, which lose them when a new question is asked or the
    conversation ends."""
    query = update.callback_query
    answer = outcome.answer
    if query is not None:
        told = words(context, answer, plain=True) if answer else None
        await query.answer(told, show_alert=bool(answer and outcome.popup))
        if outcome.edit is not None:
            await query.edit_message_text(words(context, outcome.edit), parse_mode=ParseMode.HTML)
        elif outcome.clear_buttons:
            await query.edit_message_reply_markup(None)
        if (outcome.edit or outcome.clear_buttons) and retire is not None and context.user_data is not None:
            pressed = query.message.message_id if query.message is not None else None
            if context.user_data.get(retire) == pressed:  # its buttons are gone already: not taken away twice
                context.user_data.pop(retire)
    assert update.effective_chat is not None
    chat = update.effective_chat.id
    says: Sequence[Say] = outcome.says if query is not None or answer is None else (answer, *outcome.says)
    if retire is not None and (outcome.state is None or any(say.choices for say in says)):
        await retire_question(context, chat, retire, pressed=query.message if query is not None else None)
    for say in says:
        if say.in_place and query is not None:
            markup = keyboard(context, say)
            if not unchanged(context, query.message, markup):  # pressed twice: the choices are shown already
                await query.edit_message_reply_markup(markup)
            continue
        text, shown = words(context, say), markup_of(context, say)
        if say.photo is not None:
            sent = await context.bot.send_photo(
                chat, say.photo, caption=text, parse_mode=ParseMode.HTML, reply_markup=shown
            )
        else:
            sent = await context.bot.send_message(chat, text, parse_mode=ParseMode.HTML, reply_markup=shown)
        if retire is not None and say.choices and context.user_data is not None:
            context.user_data[retire] = sent.message_id
    if outcome.roles_changed and context.person is not None:
        async with context.db.read() as conn:
            person = await users.get_user(conn, context.person.id)
        with contextlib.suppress(TelegramError):  # the menu is a convenience; the role itself is granted
            await refresh_menu_of(context, person)


async def retire_question(context: TongxinContext, chat: int, key: str, *, pressed: object) -> None:
    """The last question's buttons go (not those of the message pressed: its own edit takes care of it)."""
    asked = context.user_data.pop(key, None) if context.user_data is not None else None
    if not isinstance(asked, int) or getattr(pressed, "message_id", None) == asked:
        return
    with contextlib.suppress(TelegramError):  # already without buttons
        await context.bot.edit_message_reply_markup(chat, asked, reply_markup=None)


def _next(conversation: KeptByStep, outcome: Outcome, context: TongxinContext, key: str) -> int:
    """Keep the outcome's draft; the handler's next state (END when the conversation ended)."""
    assert context.user_data is not None
    if outcome.state is None:
        context.user_data.pop(key, None)
        return ConversationHandler.END
    context.user_data[key] = outcome.state.draft.to_json()
    return conversation.steps.index(outcome.state.step)


def written_once(
    conversation: KeptByStep,
    made: Callable[[TongxinContext], KeptByStep],
    *,
    key: str,
    entry_points: Sequence[tuple[BaseHandler[Update, TongxinContext, Any], Starter]],
    messages: Mapping[str, filters.BaseFilter] | None = None,
    refresh: Refresher | None = None,
) -> ConversationHandler[TongxinContext]:
    """The persistent `ConversationHandler` of a conversation written once: `conversation` gives its name, steps
    and buttons, `made(context)` the conversation for a person (with the deployment's settings). `entry_points`:
    each handler (its callback is replaced) with the function that starts the conversation (None: it did not).
    `messages`: the messages a step takes, where it is not every message but a command (others pass on to the
    bot's other handlers). `refresh`: how the card the conversation was started from shows what an outcome
    `changed`."""

    def step_handler(index: int) -> Callable[[Update, TongxinContext], Coroutine[Any, Any, int]]:
        async def handle(update: Update, context: TongxinContext) -> int:
            assert context.user_data is not None
            talk = made(context)
            state = talk.resume(conversation.steps[index], context.user_data.get(key))
            outcome = await run(talk, context.env, actor_of(context), state, input_of(update))
            # The draft is kept (or dropped) before the outcome is shown: should showing it fail, the action has
            # run all the same, and a press again finds no draft to act on twice (a broadcast sent twice).
            step = _next(conversation, outcome, context, key)
            await show(update, context, outcome, retire=retire)
            await refreshed(update, context, outcome)
            return step

        return handle

    def starter(start: Starter) -> Callable[[Update, TongxinContext], Coroutine[Any, Any, int | None]]:
        async def begin(update: Update, context: TongxinContext) -> int | None:
            outcome = await start(update, context)
            if outcome is None:
                return None
            if retire is not None and context.user_data is not None:
                context.user_data.pop(retire, None)  # a question of an earlier start keeps its buttons (passed)
            await show(update, context, outcome, retire=retire)
            query = update.callback_query
            if outcome.state is not None and context.user_data is not None:
                pressed = query.message.message_id if query is not None and query.message is not None else None
                context.user_data[origin] = pressed  # None: started by typing, no card to refresh
            return _next(conversation, outcome, context, key)

        return begin

    async def refreshed(update: Update, context: TongxinContext, outcome: Outcome) -> None:
        """The card the conversation was started from shows what the outcome changed (forgotten once it ends)."""
        assert context.user_data is not None
        card = context.user_data.pop(origin, None) if outcome.state is None else context.user_data.get(origin)
        if outcome.changed is not None and refresh is not None and isinstance(card, int) and update.effective_chat:
            await refresh(context, update.effective_chat.id, card, outcome.changed)

    retire = f"{key}_asked" if conversation.retire else None
    origin = f"{key}_from"
    entries: list[BaseHandler[Update, TongxinContext, Any]] = []
    for handler, start in entry_points:
        handler.callback = starter(start)
        entries.append(handler)
    presses = callbacks.pattern(*conversation.acts)
    states: dict[object, list[BaseHandler[Update, TongxinContext, Any]]] = {
        index: [
            CallbackQueryHandler(step_handler(index), pattern=presses),
            MessageHandler((messages or {}).get(step, filters.ALL & ~filters.COMMAND), step_handler(index)),
        ]
        for index, step in enumerate(conversation.steps)
    }
    WRITTEN_ONCE.add(conversation.name)
    return ConversationHandler(
        entry_points=entries,
        states=states,
        fallbacks=[CommandHandler("cancel", step_handler(0))],
        allow_reentry=True,
        persistent=True,
        name=conversation.name,
    )
