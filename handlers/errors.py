"""The one error handler: log what went wrong with enough context to fix it, and tell the person what is true.

An update whose handling failed because the database could not be reached is kept and handled again when it
is back (`bot.processor`); the person is told exactly that, not that their input is kept somewhere it is not.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationHandlerStop

from bot.context import TongxinContext
from bot.processor import PerChatUpdateProcessor
from storage.db import is_unavailable

log = logging.getLogger(__name__)


async def on_error(update: object, context: TongxinContext) -> None:
    """Log the exception with the update; tell the person something went wrong (their input is kept)."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("a person blocked the bot: %s", error)
        return
    if isinstance(error, NetworkError | RetryAfter) and not isinstance(update, Update):
        log.warning("network trouble while polling: %s", error)
        return
    if isinstance(error, NetworkError | RetryAfter) and not isinstance(error, BadRequest):
        # The rate limiter retried this reply for two minutes (channels/telegram/limits.py); telling the
        # person would fail the same way. Logged once, with the chat it was for.
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        log.warning("a reply to chat %s was not delivered: Telegram kept failing (%s)", chat, error)
        return
    if isinstance(update, Update) and error is not None and is_unavailable(error):
        await _keep_for_later(update, context)
        raise ApplicationHandlerStop  # the update's later handlers would fail the same way
    log.error("error while handling %r", update.to_dict() if isinstance(update, Update) else update, exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("error.generic"), show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, context.t("error.generic"))
    except Exception:  # the error report itself must never raise
        log.exception("could not tell the person about the error")


async def _keep_for_later(update: Update, context: TongxinContext) -> None:
    processor = context.application.update_processor
    kept = processor.hold(update) if isinstance(processor, PerChatUpdateProcessor) else "full"
    chat = update.effective_chat.id if update.effective_chat else None
    log.warning("database unreachable while handling an update of chat %s: %s", chat, kept)
    if kept == "again":
        return
    key = "outage.kept" if kept == "held" else "outage.full"
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(context.plain(key), show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, context.t(key))
    except Exception:  # the report itself must never raise
        log.warning("could not tell chat %s about the database outage", chat, exc_info=True)
