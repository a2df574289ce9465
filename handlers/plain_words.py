"""Plain words and unknown commands outside any conversation: every private message gets an answer.

Registered after every feature (bot/app.py), so it only sees what no conversation or command took. What the
words mean is read by the classifier of `rules.intent` (trained on first use), and the person's roles decide:
- a need ("家里水管坏了，没人会修") → "submit it as a micro-wish?" [提交为微心愿] [不是]; the wish conversation then
  starts with the text as the description and the category guessed (`residents.start_wish_from_text`);
- a reporter's news or accident → "send it as a tip?" (`reporters.start_tip_from_text`);
- an accident or hazard from anyone else → both offers, and the emergency numbers;
- "我想当志愿者" (or asking for tasks) from a non-volunteer → [报名当志愿者] (`volunteers.start_from_words`);
- a volunteer asking for tasks → their /tasks;
- a greeting, thanks, a question or anything else → a short answer and big buttons for what this person can do;
- words longer than a wish or a tip may be → refused with their length and the limit (nothing is cut);
- an unknown command → "没有这个命令" and the same buttons;
- help words alone (帮助, help, 怎么用…) → what /help says; leave words alone (取消, 退出…) → what /cancel says
  outside a conversation (nothing to cancel).
Groups stay quiet: there people talk to each other, and a command may be meant for another bot.

The text waiting for an answer lives in `user_data["plain_words"]` with a running number; the offer's buttons
carry that number, so a button of an older offer is answered "expired" instead of using newer words.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from actions.buttons import Act, Button, Press
from channels.telegram import callbacks
from channels.telegram.commands import commands_for
from channels.telegram.context import TongxinContext
from core.i18n import Catalogues
from core.settings import LANGUAGES
from handlers.common import expect_press
from rules import intent as intents
from rules.intent import Answer, Intent, Keywords, Model
from rules.roles import Role
from rules.text import is_help, is_leave
from rules.tips import MAX_DESCRIPTION as TIP_MAX
from rules.wishes import DESCRIPTION_MAX as WISH_MAX

PENDING = "plain_words"
TEXT_MAX = min(WISH_MAX, TIP_MAX)  # longer words are refused with their length: a wish or a tip keeps them whole
# The offers under plain words, by answer: (button text, what it starts); [不是] follows each.
OFFERS: dict[Answer, tuple[tuple[str, Act], ...]] = {
    Answer.WISH: (("plain.button.submit_wish", Act.WISH_FROM_TEXT),),
    Answer.TIP: (("plain.button.send_tip", Act.TIP_FROM_TEXT),),
    Answer.WISH_OR_TIP: (
        ("plain.button.submit_wish", Act.WISH_FROM_TEXT),
        ("plain.button.send_tip", Act.TIP_FROM_TEXT),
    ),
    Answer.VOLUNTEER: (("plain.button.volunteer", Act.VOLUNTEER_NEW),),
}
# The list commands a menu button may open (each checks the person's role itself, too).
MENU_COMMANDS = ("mywishes", "tasks", "mytasks", "pending", "review", "mytips", "help")


@cache
def keywords_of(catalogues: Catalogues) -> Keywords:
    """The keyword lists of every language, merged (people type in either language whatever their setting)."""

    def merged(key: str) -> frozenset[str]:
        return frozenset().union(*(intents.parse_list(catalogues.template(lang, key)) for lang in LANGUAGES))

    return Keywords(
        intents={intent: merged(f"plain.words.{intent.value}") for intent in Intent},
        categories={key: merged(f"plain.words.category.{key}") for key in CATEGORY_KEYS},
    )


@cache
def model_of(catalogues: Catalogues) -> Model:
    """The intent classifier, trained on first use on every labelled example (rules/intent_examples.tsv)."""
    return intents.train(intents.read_examples(), keywords_of(catalogues))


# The default categories have keyword lists; a deployment's own categories fall back to "other".
CATEGORY_KEYS = (
    "policy_talk",
    "free_clinic",
    "hardship_help",
    "elderly_disabled",
    "environment",
    "farm_help",
    "traffic_guidance",
)


def menu_buttons(context: TongxinContext) -> InlineKeyboardMarkup:
    """Big buttons (one a row) for what this person can do, by role."""
    allowed = {command.name for command in commands_for(context.roles)}
    rows: list[list[Button]] = [[Button("plain.button.wish", Act.WISH_NEW)], [Button("plain.button.tip", Act.TIP_NEW)]]
    for name in MENU_COMMANDS:
        if name in allowed:
            rows.append([Button(f"plain.button.{name}", Act.MENU, arg=name)])
    return callbacks.keyboard(rows, context.plain)


def press_of(update: Update) -> Press | None:
    """The press behind an offer's button (None: malformed)."""
    query = update.callback_query
    return callbacks.decode(query.data) if query is not None else None


def category_of(context: TongxinContext, text: str) -> str:
    """The wish category the words most likely belong to (among the deployment's categories)."""
    categories = context.settings.categories
    default = "other" if "other" in categories else categories[0]
    return intents.guess_category(text, keywords_of(context.bot_data.catalogues), categories, default)


def remember(context: TongxinContext, text: str, kind: Answer) -> int:
    """Keep the words (whole: longer ones were refused) for the offer's buttons; the offer's number."""
    assert context.user_data is not None
    number = int((context.user_data.get(PENDING) or {}).get("n", 0)) + 1
    context.user_data[PENDING] = {"n": number % 2**31, "text": text, "kind": kind.value}
    return number % 2**31


def pending_text(context: TongxinContext, number: int) -> str | None:
    """The words an offer with this number was about, if it is the latest offer (None: expired)."""
    pending: dict[str, Any] = (context.user_data or {}).get(PENDING) or {}
    if pending.get("n") != number or not isinstance(pending.get("text"), str):
        return None
    return str(pending["text"])


def forget(context: TongxinContext) -> None:
    """The offer was taken or declined."""
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)


async def words_typed(update: Update, context: TongxinContext) -> None:
    """Plain text in a private chat that no conversation took: answer by what it most likely means. Words
    longer than a wish or a tip may be are refused with their length and the limit: nothing is cut."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = message.text.strip()
    if len(text) > TEXT_MAX:
        await message.reply_text(
            context.t("plain.too_long", length=len(text), max=TEXT_MAX), reply_markup=menu_buttons(context)
        )
        return
    # 帮助 alone gets what /help gives; 取消 alone what /cancel gives: no conversation is open, nothing to cancel
    # ("请帮助我家老人买菜" is more than help words, so it is still read as a need below).
    if is_help(text) and await open_command(update, context, "help"):
        return
    if is_leave(text) and await open_command(update, context, "cancel"):
        return
    answer = intents.answer_for(
        model_of(context.bot_data.catalogues).predict(text),
        volunteer=context.has_role(Role.VOLUNTEER),
        reporter=context.has_role(Role.REPORTER),
    )
    if answer is Answer.TASKS:
        await open_command(update, context, "tasks")
        return
    if (offer := OFFERS.get(answer)) is None:
        await message.reply_text(context.t(f"plain.answer.{answer.value}"), reply_markup=menu_buttons(context))
        return
    number = remember(context, text, answer)
    rows = [[Button(key, act, None if act is Act.VOLUNTEER_NEW else number)] for key, act in offer]
    rows.append([Button("plain.button.not_that", Act.PLAIN_NO, number)])
    values = {"category": context.t(f"category.{category_of(context, text)}")} if answer is Answer.WISH else {}
    await message.reply_text(
        context.t(f"plain.offer.{answer.value}", **values), reply_markup=callbacks.keyboard(rows, context.plain)
    )


async def words_not_text(update: Update, context: TongxinContext) -> None:
    """A voice note outside any conversation is offered as a spoken wish; a sticker, photo or file gets what
    can be done with it."""
    if (message := update.effective_message) is None:
        return
    if message.voice is not None and context.user_data is not None:
        number = remember(context, "", Answer.WISH)
        context.user_data[PENDING]["voice"] = message.voice.file_id
        context.user_data[PENDING]["voice_seconds"] = seconds_of(message.voice.duration)
        rows = [
            [Button("plain.button.submit_wish", Act.WISH_FROM_TEXT, number)],
            [Button("plain.button.not_that", Act.PLAIN_NO, number)],
        ]
        await message.reply_text(context.t("plain.voice_offer"), reply_markup=callbacks.keyboard(rows, context.plain))
        return
    await message.reply_text(context.t("plain.answer.media"), reply_markup=menu_buttons(context))


def seconds_of(duration: int | dt.timedelta) -> int:
    """A voice note's length in whole seconds (PTB gives an int, or a timedelta when told to), at least 1."""
    return max(int(duration.total_seconds() if isinstance(duration, dt.timedelta) else duration), 1)


def pending_voice(context: TongxinContext, number: int) -> tuple[str, int] | None:
    """The voice note an offer with this number was about (file reference, seconds), if any."""
    pending: dict[str, Any] = (context.user_data or {}).get(PENDING) or {}
    voice, seconds = pending.get("voice"), pending.get("voice_seconds")
    if pending.get("n") != number or not isinstance(voice, str) or not isinstance(seconds, int):
        return None
    return voice, seconds


async def unknown_command(update: Update, context: TongxinContext) -> None:
    """A command no handler knows: say so, and offer the buttons."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    command = message.text.split()[0].split("@")[0][:33]
    await message.reply_text(context.t("plain.unknown_command", command=command), reply_markup=menu_buttons(context))


async def open_command(update: Update, context: TongxinContext, name: str) -> bool:
    """Run the list command `name` for this update as if it had been typed (the command's own handler, found
    among the registered ones, so this module does not depend on how each feature names its functions)."""
    if name not in {command.name for command in commands_for(context.roles)}:
        return False
    for handler in context.application.handlers.get(0, []):
        if isinstance(handler, CommandHandler) and name in handler.commands:
            await handler.callback(update, context)
            return True
    return False


async def menu_pressed(update: Update, context: TongxinContext) -> None:
    """A big button: open that list."""
    if (press := await expect_press(update, context, Act.MENU)) is None or press.arg not in MENU_COMMANDS:
        if press is not None and update.callback_query is not None:
            await update.callback_query.answer(context.plain("error.stale_button"), show_alert=True)
        return
    query = update.callback_query
    assert query is not None
    assert press.arg is not None
    if press.arg not in {command.name for command in commands_for(context.roles)}:
        await query.answer(context.plain("error.not_allowed"), show_alert=True)
        return
    await query.answer()
    await open_command(update, context, press.arg)


async def declined(update: Update, context: TongxinContext) -> None:
    """[不是]: fine; the offer's buttons go, the menu comes."""
    if (press := await expect_press(update, context, Act.PLAIN_NO)) is None:
        return
    query = update.callback_query
    assert query is not None
    if pending_text(context, press.id) is None:
        await query.answer(context.plain("plain.expired"), show_alert=True)
        return
    forget(context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    if update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id, context.t("plain.declined"), reply_markup=menu_buttons(context)
        )


async def offer_expired(update: Update, context: TongxinContext) -> None:
    """An offer's button that no conversation took (an older offer, or a forged one)."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain("plain.expired"), show_alert=True)


async def any_other_press(update: Update, context: TongxinContext) -> None:
    """The last resort: a press no handler took (a button of a kind this bot no longer sends, or forged data)
    still gets an answer, so the person's spinner stops and they know the button is out of date."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain("error.stale_button"), show_alert=True)


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Registered last of all (after the basics)."""
    private = filters.ChatType.PRIVATE
    return [
        CallbackQueryHandler(menu_pressed, pattern=callbacks.prefix_pattern(Act.MENU)),
        CallbackQueryHandler(declined, pattern=callbacks.pattern(Act.PLAIN_NO)),
        CallbackQueryHandler(
            offer_expired, pattern=callbacks.prefix_pattern(Act.WISH_FROM_TEXT, Act.TIP_FROM_TEXT, Act.PLAIN_NO)
        ),
        MessageHandler(private & filters.COMMAND, unknown_command),
        MessageHandler(private & filters.TEXT, words_typed),
        MessageHandler(private & ~filters.StatusUpdate.ALL, words_not_text),
        CallbackQueryHandler(any_other_press),
    ]
