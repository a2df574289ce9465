"""Every button press answered in time, whatever its chat is waiting for.

Telegram accepts `answerCallbackQuery` only for a short while after the press (about ten seconds; later it answers
"query is too old"), and the person's button spins until then. A chat's updates are handled one at a time
(`channels.telegram.processor`), and a reply of several messages is paced at one a second, so a press can wait behind
its chat's earlier replies for longer than that; its handler's `query.answer()` would then fail, and the failure would
stop the handler before it did what the press asked.

So: a press that arrives while its chat is busy (or held for the database) and has had no answer `ANSWER_AFTER`
seconds later is answered then, without text (`answer_early`: the spinner stops; a press handled within those
seconds keeps its handler's own answer, a toast such as "this step is done already" included). The first answer
of a press is the one sent to Telegram; a later one (the handler's, after an early answer) is not sent again, and
an answer Telegram refuses as too old does not fail the handler. Where such an answer carried an alert
(`show_alert`: "someone else claimed it first"), its text is sent to the chat as a message instead (`tell`), so
nothing the person had to read is lost; a toast's text is dropped, as the redrawn message shows the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Update
from telegram.error import BadRequest, TelegramError

from core.clock import LoopTimer, Timer

log = logging.getLogger(__name__)

# Presses remembered (their chat, and whether an answer went out): far more than can be waiting at once.
REMEMBERED = 10_000
# A press waiting behind its chat's earlier updates is answered without text after this many seconds, well within
# the ten or so Telegram allows.
ANSWER_AFTER = 4.0


def is_expired(error: BadRequest) -> bool:
    """Whether Telegram refused an answer because the press is too old (or was answered already)."""
    message = error.message.lower()
    return "query is too old" in message or "query id is invalid" in message


class Taps:
    """The presses seen lately: the chat each came from and whether it has had its answer."""

    def __init__(
        self, remembered: int = REMEMBERED, answer_after: float = ANSWER_AFTER, *, timer: Timer | None = None
    ) -> None:
        self.answer_after = answer_after
        self.timer = timer or LoopTimer()
        self._chats: OrderedDict[str, int] = OrderedDict()
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered
        self._tasks: set[asyncio.Task[None]] = set()
        # Sends a text to a chat as a message (bot.app: the bot's send_message).
        self.tell: Callable[[int, str], Awaitable[Any]] | None = None

    def seen(self, update: object) -> str | None:
        """Note a press's chat as it arrives; its query id (None for other updates)."""
        if not isinstance(update, Update) or update.callback_query is None:
            return None
        query = update.callback_query
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        self._chats[query.id] = chat
        self._chats.move_to_end(query.id)
        while len(self._chats) > self._remembered:
            self._chats.popitem(last=False)
        return query.id

    def first_answer(self, query_id: str) -> bool:
        """True for the first answer of a press (it goes to Telegram); False for any later one."""
        if query_id in self._answered:
            return False
        self._answered[query_id] = None
        while len(self._answered) > self._remembered:
            self._answered.popitem(last=False)
        return True

    def unsent(self, data: dict[str, Any]) -> None:
        """An answer that did not reach the person (answered already, or too old): an alert's text goes to the
        chat as a message."""
        text = str(data.get("text") or "")
        chat = self._chats.get(str(data.get("callback_query_id")))
        if not text or not data.get("show_alert") or chat is None or self.tell is None:
            if text:  # the text itself is not logged: answers may name people or their wishes
                log.info("a press's answer (%d characters) was not shown: answered already, or too old", len(text))
            return
        task = asyncio.create_task(self._tell(chat, text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell(self, chat: int, text: str) -> None:
        assert self.tell is not None
        try:
            await self.tell(chat, text)
        except TelegramError as exc:
            log.warning("the alert of a late press could not be sent to chat %s: %s", chat, exc)

    def answered(self, query_id: str) -> bool:
        """Whether the press has had its answer."""
        return query_id in self._answered

    def answer_early(self, bot: Bot, update: Update) -> None:
        """Answer a press without text in `answer_after` seconds unless its handler answered it by then (it waits
        behind its chat's earlier updates)."""
        query = update.callback_query
        assert query is not None
        task = asyncio.create_task(self._answer_early(bot, query.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_early(self, bot: Bot, query_id: str) -> None:
        await self.timer.sleep(self.answer_after)
        if self.answered(query_id):
            return
        try:
            await bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("a press could not be answered early: %s", exc)
