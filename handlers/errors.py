"""The one error handler: log what went wrong with enough context to fix it, and tell the person what is true.

An update whose handling failed because the database could not be reached is kept and handled again when it
is back (`channels.telegram.processor`); the person is told exactly that, not that their input is kept somewhere it is
not.

The record names the update (id, type, chat id), the handler and the exception, never what the person wrote,
their name, phone, address or place; the whole update is logged at DEBUG only, with those fields blanked
(`core.logs`). The token is redacted from every record by `core.logs.install`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationHandlerStop

from channels.telegram.context import TongxinContext
from channels.telegram.processor import PerChatUpdateProcessor
from core.logs import redacted_update
from storage.db import is_unavailable

log = logging.getLogger(__name__)
_HANDLERS_DIR = Path(__file__).resolve().parent


def describe_update(update: Update) -> str:
    """Which update it was, without what it says: `update 17 (callback_query) in chat 1000001`."""
    kind = next((name for name in Update.ALL_TYPES if getattr(update, name, None) is not None), "unknown")
    chat = update.effective_chat.id if update.effective_chat is not None else "-"
    return f"update {update.update_id} ({kind}) in chat {chat}"


def handler_of(error: BaseException | None) -> str:
    """The innermost handler function the error went through (`handlers.tasks.claim_pressed`), or "-"."""
    found = "-"
    tb = error.__traceback__ if error is not None else None
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename).resolve()
        if path.parent == _HANDLERS_DIR and path.stem not in ("errors", "common"):
            found = f"handlers.{path.stem}.{tb.tb_frame.f_code.co_name}"
        tb = tb.tb_next
    return found


async def on_error(update: object, context: TongxinContext) -> None:
    """Log the exception with where it happened; tell the person something went wrong (their input is kept)."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("a person blocked the bot: %s", error)
        return
    if isinstance(error, BadRequest) and "not modified" in str(error).lower():
        # A button whose result is already on screen (pressed twice): nothing to change, nothing to say.
        log.debug("message already shows the result of the press")
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
    if not isinstance(update, Update):
        log.error("error outside an update (%s)", type(update).__name__, exc_info=error)
        return
    log.error("error while handling %s in %s", describe_update(update), handler_of(error), exc_info=error)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("the update was %r", redacted_update(update.to_dict()))
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("error.generic"), show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, context.t("error.generic"))
    except Exception as exc:  # the error report itself must never raise
        log.warning("could not tell the person about the error: %s", type(exc).__name__)


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
