"""Small checks on what people type, shared by wishes, tips and plain words."""

from __future__ import annotations

import re

# A word character of any script: an ideograph, a letter or a digit (emoji, symbols and punctuation are not).
_WORDY = re.compile(r"[^\W_]", re.UNICODE)
# A description or tip needs at least this many letters or ideographs: emoji and punctuation alone say nothing.
MIN_WORDS = 2


def word_count(text: str) -> int:
    """How many letters, digits or ideographs a text has."""
    return len(_WORDY.findall(text))


# Saying "I want out" in the middle of a conversation, on any channel: the message is made only of these phrases
# (and the fillers around them), so "我不要了，退出" leaves while "旧家具不要了，想请人搬走" is a description.
LEAVE_PHRASES = (
    "不想要了",
    "不需要了",
    "不要了",
    "不用了",
    "不弄了",
    "退出",
    "取消",
    "算了",
    "cancel",
    "quit",
    "exit",
    "stop",
)
_LEAVE_FILLERS = re.compile(r"[\W_]|我|先|吧|了|啊|呀|哦|吗|please", re.UNICODE)


def only_phrases(text: str, phrases: tuple[str, ...], fillers: re.Pattern[str], longest: int) -> bool:
    """Whether `text` (lower-cased) is made of `phrases` and `fillers` only, and at most `longest` characters: a
    message that *is* a leave or help word, not an answer that mentions one."""
    if len(text) > longest:
        return False
    rest, found = text, False
    for phrase in phrases:
        if phrase in rest:
            rest, found = rest.replace(phrase, ""), True
    return found and not fillers.sub("", rest)


def is_leave(text: str | None) -> bool:
    """Whether a message asks to leave the conversation it is typed into (/cancel, 取消, 退出, 不要了, 算了…)."""
    if not text:
        return False
    lowered = text.strip().lower()
    if lowered.split("@", 1)[0] == "/cancel":
        return True
    return only_phrases(lowered, LEAVE_PHRASES, _LEAVE_FILLERS, 20)


# Asking for help in the middle of a conversation: the message is only one of these (with fillers), so
# "帮助" or "怎么填？" asks, while "请帮助我家老人买菜" is an answer.
HELP_PHRASES = (
    "帮助",
    "帮帮我",
    "怎么填",
    "怎么弄",
    "怎么办",
    "怎么用",
    "看不懂",
    "不会填",
    "不会弄",
    "说明",
    "help",
    "？",
    "?",
)
_HELP_FILLERS = re.compile(r"[\W_]|我|请|呀|啊|吗|呢|了|一下|please", re.UNICODE)


def is_help(text: str | None) -> bool:
    """Whether a message asks how to go on with the conversation it is typed into (帮助, 怎么填, help, ？…)."""
    return bool(text) and only_phrases(str(text).strip().lower(), HELP_PHRASES, _HELP_FILLERS, 12)
