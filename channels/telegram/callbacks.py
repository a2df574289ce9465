"""The one place Telegram `callback_data` is built and parsed.

A press travels as `<action>[:<subject>][:<argument>]` (for example `task:claim:42:today`), where the
action is an `actions.buttons.Act` and its `Spec` says whether a subject id and an argument follow.
Nothing else in the code builds or parses callback data: handlers register with `pattern(...)` and
read a press with `decode(...)`, which refuses anything malformed, forged or out of range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from actions.buttons import Act, Button, Press, parse_press, press_data

MAX_BYTES = 64  # Telegram's limit for callback_data


def encode(act: Act, subject: int | None = None, arg: str | None = None) -> str:
    """The callback data of a press; ValueError if the press is malformed or too long."""
    data = press_data(act, subject, arg)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Press | None:
    """The press behind callback data, or None when it is not one this bot could have sent."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    return parse_press(data)


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
