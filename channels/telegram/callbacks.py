"""The one place Telegram `callback_data` is built and parsed.

A press travels as `<action>[:<subject>][:<argument>]` (for example `task:claim:42:today`), where the
action is an `actions.buttons.Act` and its `Spec` says whether a subject id and an argument follow.
Nothing else in the code builds or parses callback data: handlers register with `pattern(...)` and
read a press with `decode(...)`, which refuses anything malformed, forged or out of range.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from actions.buttons import SPECS, Act, Button, Press

MAX_BYTES = 64  # Telegram's limit for callback_data

# Longest action names first, so `privacy:erase:yes` is not read as a shorter action plus an argument.
_BY_LENGTH = sorted(Act, key=lambda act: len(act.value), reverse=True)


def encode(act: Act, subject: int | None = None, arg: str | None = None) -> str:
    """The callback data of a press; ValueError if the press is malformed or too long."""
    if not SPECS[act].accepts(subject, arg):
        raise ValueError(f"malformed press {act.value} {subject!r} {arg!r}")
    parts = [act.value]
    if subject is not None:
        parts.append(str(subject))
    if arg is not None:
        parts.append(arg)
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Press | None:
    """The press behind callback data, or None when it is not one this bot could have sent."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    for act in _BY_LENGTH:
        if data == act.value:
            rest: list[str] = []
        elif data.startswith(act.value + ":"):
            rest = data[len(act.value) + 1 :].split(":")
        else:
            continue
        spec = SPECS[act]
        subject: int | None = None
        if spec.subject:
            if not rest or not re.fullmatch(r"\d{1,10}", rest[0]):
                return None
            subject = int(rest.pop(0))
        arg = rest.pop(0) if spec.arg is not None and rest else None
        if rest or not spec.accepts(subject, arg):
            return None
        return Press(act, subject, arg)
    return None


def pattern(*acts: Act) -> Callable[[object], bool]:
    """A `CallbackQueryHandler` pattern matching well-formed presses of these actions only."""
    wanted = frozenset(acts)

    def matches(data: object) -> bool:
        press = decode(data) if isinstance(data, str) else None
        return press is not None and press.act in wanted

    return matches


def prefix_pattern(*acts: Act) -> Callable[[object], bool]:
    """Matches any callback data that starts like these actions, well formed or not (to answer stale or
    forged presses with an explanation instead of silence)."""
    prefixes = tuple(act.value for act in acts)

    def matches(data: object) -> bool:
        return isinstance(data, str) and any(data == p or data.startswith(p + ":") for p in prefixes)

    return matches


def button(text: str, act: Act, subject: int | None = None, arg: str | None = None) -> InlineKeyboardButton:
    """An inline button with an already translated label."""
    return InlineKeyboardButton(text, callback_data=encode(act, subject, arg))


def keyboard(rows: Iterable[Sequence[Button]], label: Callable[[str], str]) -> InlineKeyboardMarkup:
    """An inline keyboard from neutral buttons; `label` translates a label key (labels starting with "=" are
    shown as they are)."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b.label[1:] if b.label.startswith("=") else label(b.label),
                    callback_data=encode(b.act, b.subject, b.arg),
                )
                for b in row
            ]
            for row in rows
        ]
    )
