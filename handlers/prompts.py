"""Asking people things: the one-typed-answer conversation behind buttons such as Reject (reason), Release
(reason), "Not done yet" (note) and the editors' Decline / Ask for more / Published (reason, question, link),
and the reply keyboard that offers to share a location or phone number, or to skip.

For `typed_answer`, the button's callback asks the question and returns `ANSWER`; the next text is the
answer; anything else that is not a command gets the "please type it" reply and the question stays open;
/cancel leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from channels.telegram.context import TongxinContext

ANSWER = 0

Callback = Callable[[Update, TongxinContext], Coroutine[Any, Any, Any]]


def typed_answer(
    *,
    name: str,
    pattern: str | Callable[[object], bool],
    asked: Callback,
    answered: Callback,
    not_text: Callback,
    cancelled: Callback,
) -> ConversationHandler[TongxinContext]:
    """The conversation of a button (matching `pattern`) that waits for one typed answer."""
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(asked, pattern=pattern)],
        states={
            ANSWER: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, answered),
                MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, not_text),
            ]
        },
        fallbacks=[CommandHandler("cancel", cancelled)],
        allow_reentry=True,
        persistent=True,
        name=name,
    )


def share_or_skip(
    context: TongxinContext, share_key: str, skip_key: str, *, location: bool = False, contact: bool = False
) -> ReplyKeyboardMarkup:
    """A reply keyboard with a button that shares the person's location or phone number, and a Skip button."""
    share = KeyboardButton(context.t(share_key), request_location=location, request_contact=contact)
    return ReplyKeyboardMarkup(
        [[share], [KeyboardButton(context.t(skip_key))]], resize_keyboard=True, one_time_keyboard=True
    )
