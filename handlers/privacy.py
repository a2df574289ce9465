"""Privacy for everyone: /privacy (what is kept, who sees it, how long), /mydata (a copy of it all) and
/deleteme (erase what identifies the person, after a confirmation; counts and hours stay)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop, BaseHandler, CallbackQueryHandler, CommandHandler, TypeHandler

from actions import privacy as privacy_actions
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from core.i18n import normalize_language
from handlers.common import stale_press
from rules.limits import MessageRate, RateVerdict
from storage import people, privacy


async def explain_privacy(update: Update, context: TongxinContext) -> None:
    """/privacy: what the bot stores, who sees it and for how long."""
    if (message := update.effective_message) is None:
        return
    await message.reply_text(context.t("privacy.notice"), parse_mode=ParseMode.HTML)


async def send_my_data(update: Update, context: TongxinContext) -> None:
    """/mydata: a JSON document with every row stored about the person."""
    if (message := update.effective_message) is None or context.person is None:
        return
    async with context.db.read() as conn:
        document = await privacy.collect_personal_data(conn, context.person.id)
    payload = {"user_id": context.person.id, "exported_at": context.now().isoformat(), "data": document}
    data = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
    await message.reply_document(
        InputFile(data, filename=f"tongxin-mydata-{context.person.id}.json"),
        caption=context.t("privacy.mydata_caption"),
    )


async def ask_to_erase(update: Update, context: TongxinContext) -> None:
    """/deleteme: say what will be erased and what stays, and ask for a confirmation."""
    if (message := update.effective_message) is None:
        return
    keyboard = InlineKeyboardMarkup(
        [
            [callbacks.button(context.plain("privacy.erase_confirm_button"), Act.ERASE_YES)],
            [callbacks.button(context.plain("privacy.erase_keep_button"), Act.ERASE_NO)],
        ]
    )
    await message.reply_text(context.t("privacy.erase_ask"), reply_markup=keyboard, parse_mode=ParseMode.HTML)


async def erase_confirmed(update: Update, context: TongxinContext) -> None:
    """Confirm: erase the presser's identifying data everywhere (the id comes from the update, never the data)."""
    if (query := update.callback_query) is None or context.person is None:
        return
    await query.answer()
    await privacy_actions.erase(context.env, context.person.id)
    if context.user_data is not None:
        context.user_data.clear()
    await query.edit_message_text(context.t("privacy.erased"))


async def erase_declined(update: Update, context: TongxinContext) -> None:
    """Keep my data: nothing changes."""
    if (query := update.callback_query) is None:
        return
    await query.answer()
    await query.edit_message_text(context.t("privacy.erase_kept"))


class FloodGuard:
    """Slows down a person sending more than `limit` messages or button presses a minute (one window per app,
    shared by both).

    Each update is counted as it arrives (`admit`, called by `channels.telegram.processor` before the update waits for
    its chat's earlier ones): a chat's updates are handled in order and its replies are paced (at most 3 in 3.1 s in
    a private chat), so a person who just sent 30 messages has half a minute of replies still to come, and a
    warning handled in turn would come after all of them. An update over the limit skips that queue; its
    `handler` (group -2, before `load_person`, so a flood costs no database writes) tells the person once per
    minute that they are going too fast, and their extra messages and presses are not handled (an extra press is
    still answered, silently, so the button stops spinning).
    """

    # Verdicts of updates over the limit waiting for their handler; more than this means they never reach it.
    MAX_PENDING = 10_000

    def __init__(self, now: Callable[[], dt.datetime], limit: int | None = None) -> None:
        self._now = now
        self._rate = MessageRate() if limit is None else MessageRate(limit)
        self._seen = 0
        self._at_arrival = False
        self._pending: dict[int, tuple[RateVerdict, dt.datetime]] = {}

    def admit(self, update: object) -> bool:
        """Count a message or press as it arrives: True if it joins its chat's queue as usual, False if it is over
        the limit (it is then handled at once, by `handler`, ahead of the chat's queued updates)."""
        self._at_arrival = True
        if not isinstance(update, Update):
            return True
        counted = self._count(update)
        if counted is None or counted[0] is RateVerdict.OK:
            return True
        if len(self._pending) >= self.MAX_PENDING:
            self._pending.clear()
        self._pending[update.update_id] = counted
        return False

    def _count(self, update: Update) -> tuple[RateVerdict, dt.datetime] | None:
        user = update.effective_user
        if user is None or (update.message is None and update.callback_query is None) or user.is_bot:
            return None
        now = self._now()
        self._seen += 1
        if self._seen % 1000 == 0:
            self._rate.forget_idle(now)
        return self._rate.record(user.id, now), now

    def handler(self) -> TypeHandler[Update, TongxinContext, None]:
        """The group -2 handler: past the limit, tell the person once and stop handling the update."""
        return TypeHandler(Update, self._slow_down_floods)

    async def _slow_down_floods(self, update: Update, context: TongxinContext) -> None:
        if self._at_arrival:
            # Counted on arrival; an update handled again (after a database outage) is not counted twice.
            counted = self._pending.pop(update.update_id, None)
        else:
            counted = self._count(update)
        if counted is None:
            return
        verdict, now = counted
        user = update.effective_user
        message = update.message
        query = update.callback_query
        if verdict is RateVerdict.OK or user is None:
            return
        if verdict is RateVerdict.SLOW_DOWN:
            language: str = normalize_language(user.language_code, context.settings.default_language)
            async with context.db.read() as conn:
                person = await people.find_person(conn, people.TELEGRAM, user.id)
            if person is not None:
                language = person.language
            seconds = max(1, math.ceil((self._rate.free_at(user.id) - now).total_seconds()))
            text = context.bot_data.catalogues.text(language, "limits.slow_down", seconds=seconds)
            if query is not None:
                await query.answer(text, show_alert=True)
            elif message is not None:
                await message.reply_text(text)
        elif query is not None:
            await query.answer()
        raise ApplicationHandlerStop


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations: /deleteme confirms with one button."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Commands and buttons of privacy."""
    return [
        CommandHandler("privacy", explain_privacy),
        CommandHandler("mydata", send_my_data),
        CommandHandler("deleteme", ask_to_erase),
        CallbackQueryHandler(erase_confirmed, pattern=callbacks.pattern(Act.ERASE_YES)),
        CallbackQueryHandler(erase_declined, pattern=callbacks.pattern(Act.ERASE_NO)),
        CallbackQueryHandler(stale_press, pattern=callbacks.prefix_pattern(Act.ERASE_YES, Act.ERASE_NO)),
    ]
