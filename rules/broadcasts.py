"""What a broadcast may carry: its text's bounds (a photo's caption is shorter). Plain data, no channel."""

from __future__ import annotations

from rules.wishes import InvalidInput

TEXT_MAX = 3500
CAPTION_MAX = 1000  # Telegram's captions hold 1024 characters; the "📢 " before it and some room stay free


def limit(*, photo: bool) -> int:
    """The longest text a broadcast may carry: a photo's caption is shorter."""
    return CAPTION_MAX if photo else TEXT_MAX


def check_message(text: str, *, photo: bool) -> str:
    """The message's text as it will go out; InvalidInput("too_short") when there is neither text nor a photo,
    InvalidInput("too_long") past `limit`."""
    if not text.strip() and not photo:
        raise InvalidInput("too_short")
    if len(text) > limit(photo=photo):
        raise InvalidInput("too_long")
    return text
