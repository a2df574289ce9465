"""Leaving and help words inside a conversation, on every step of every conversation.

- Leaving: 取消, 退出, 不要了, 算了… (`rules.text.is_leave`) end the conversation as its /cancel does, before any
  other reading of the text (a description, an address, a reason).
- Help: 帮助, 怎么填, help, ？… (`rules.text.is_help`) say which conversation this is, how to leave it, that what
  was entered is kept, and point at the question above; the person stays at the same step.

The conversations written once (`conversations/`, `WRITTEN_ONCE`) answer both themselves, asking the step again
(`conversations.base.run`); this is for the Telegram conversations not on that layer yet.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from channels.telegram.context import TongxinContext
from rules.text import is_help, is_leave

# Conversations written once (`conversations/`, run by handlers/conversing.py): the layer answers their leave and
# help words itself.
WRITTEN_ONCE: set[str] = set()


class _LeaveWords(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return message.text is not None and not message.text.startswith("/") and is_leave(message.text)


class _HelpWords(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return message.text is not None and not message.text.startswith("/") and is_help(message.text)


LEAVE_WORDS = _LeaveWords(name="leave words")
HELP_WORDS = _HelpWords(name="help words")


def _help_for(name: str) -> Callable[[Update, TongxinContext], Coroutine[Any, Any, None]]:
    async def answer(update: Update, context: TongxinContext) -> None:
        if (message := update.effective_message) is None:
            return
        catalogues = context.bot_data.catalogues
        label = f"conversation.name.{name}" if catalogues.has(context.lang, f"conversation.name.{name}") else None
        what = context.t(label) if label else context.t("conversation.name.other")
        await message.reply_text(context.t("conversation.help", what=what))
        await message.reply_text(context.t("conversation.help_answer_above"))

    return answer


def accept_leave_words(conversation: ConversationHandler) -> ConversationHandler:  # type: ignore[type-arg]
    """Give every state of `conversation` the leave words first, answered by its own /cancel fallback (the same
    clean-up, the same reply), then the help words. A conversation without /cancel is left as it is."""
    cancel = next(
        (h for h in conversation.fallbacks if isinstance(h, CommandHandler) and "cancel" in h.commands),
        None,
    )
    if cancel is None or conversation.name in WRITTEN_ONCE:
        return conversation
    leave = MessageHandler(LEAVE_WORDS, cancel.callback)
    for handlers in conversation.states.values():
        handlers.insert(0, leave)
        handlers.insert(1, MessageHandler(HELP_WORDS, _help_for(conversation.name or "")))
    return conversation


def asking(context: TongxinContext, key: str, /, **values: object) -> str:
    """A step's question with how to leave under it ("（发送“取消”可以退出）")."""
    return f"{context.t(key, **values)}\n{context.t('conversation.leave_hint')}"
