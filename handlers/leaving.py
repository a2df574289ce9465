"""Leaving a conversation in words: 取消, 退出, 不要了, 算了… (`rules.text.is_leave`) work at every step of every
conversation as its /cancel does, before any other reading of the text (a description, an address, a reason)."""

from __future__ import annotations

from telegram import Message
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from rules.text import is_leave


class _LeaveWords(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return message.text is not None and not message.text.startswith("/") and is_leave(message.text)


LEAVE_WORDS = _LeaveWords(name="leave words")


def accept_leave_words(conversation: ConversationHandler) -> ConversationHandler:  # type: ignore[type-arg]
    """Give every state of `conversation` the leave words first, answered by its own /cancel fallback (the same
    clean-up, the same reply). A conversation without /cancel is left as it is."""
    cancel = next(
        (h for h in conversation.fallbacks if isinstance(h, CommandHandler) and "cancel" in h.commands),
        None,
    )
    if cancel is None:
        return conversation
    leave = MessageHandler(LEAVE_WORDS, cancel.callback)
    for handlers in conversation.states.values():
        handlers.insert(0, leave)
    return conversation
