"""The one way the bot messages someone who is not the person it is answering right now.

A `Notice` is data, not rendered text: a message key, its values and buttons whose labels are keys
too. It is rendered in the recipient's language at the moment it is delivered, so the same notice
can be queued (the scheduler's outbox) and still reads right if the person changes language.
Values whose name ends in `_key` are message keys themselves and are translated before filling in:
`{"category_key": "category.free_clinic"}` fills `{category}`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ExtBot

from bot.clock import Clock
from bot.i18n import Catalogues
from storage import outbox, users
from storage.db import Database
from storage.errors import NotFound

Lane = Literal["urgent", "normal", "bulk"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """A message to someone, kept as keys and values until it is rendered for them."""

    key: str
    values: dict[str, str | int | float] = field(default_factory=dict)
    # Rows of (label key, callback data); a label key starting with "=" is shown as is.
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    photo: str | None = None  # a Telegram file_id
    location: tuple[float, float] | None = None


def notice_to_payload(notice: Notice) -> dict[str, Any]:
    """The notice as JSON-serialisable data (what the outbox stores)."""
    return {
        "key": notice.key,
        "values": dict(notice.values),
        "buttons": [[list(button) for button in row] for row in notice.buttons],
        "photo": notice.photo,
        "location": list(notice.location) if notice.location else None,
    }


def notice_from_payload(payload: dict[str, Any]) -> Notice:
    """The notice back from what `notice_to_payload` stored."""
    location = payload.get("location")
    return Notice(
        key=str(payload["key"]),
        values=dict(payload.get("values") or {}),
        buttons=tuple(tuple((str(label), str(data)) for label, data in row) for row in payload.get("buttons") or ()),
        photo=payload.get("photo"),
        location=(float(location[0]), float(location[1])) if location else None,
    )


def render(catalogues: Catalogues, language: str, notice: Notice) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and keyboard of a notice in one language."""
    values: dict[str, object] = {}
    for name, value in notice.values.items():
        if name.endswith("_key") and isinstance(value, str):
            values[name.removesuffix("_key")] = catalogues.text(language, value)
        else:
            values[name] = value
    text = catalogues.text(language, notice.key, **values)
    markup = None
    if notice.buttons:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        label[1:] if label.startswith("=") else catalogues.text(language, label),
                        callback_data=data,
                    )
                    for label, data in row
                ]
                for row in notice.buttons
            ]
        )
    return text, markup


class Notifier(Protocol):
    """Delivers notices; the scheduler's outbox implements the same protocol."""

    async def notify(
        self, user_id: int, notice: Notice, *, lane: Lane = "normal", dedupe_key: str | None = None
    ) -> None: ...


class DirectNotifier:
    """Sends at once through the bot. A person who blocked the bot is marked unreachable."""

    def __init__(self, bot: ExtBot[None], db: Database, catalogues: Catalogues, default_language: str) -> None:
        self._bot = bot
        self._db = db
        self._catalogues = catalogues
        self._default_language = default_language

    async def notify(
        self, user_id: int, notice: Notice, *, lane: Lane = "normal", dedupe_key: str | None = None
    ) -> None:
        async with self._db.read() as conn:
            try:
                user = await users.get_user(conn, user_id)
                language = user.language
            except NotFound:
                language = self._default_language
        text, markup = render(self._catalogues, language, notice)
        try:
            if notice.photo:
                await self._bot.send_photo(
                    user_id, notice.photo, caption=text[:1024], reply_markup=markup, parse_mode=ParseMode.HTML
                )
            else:
                await self._bot.send_message(user_id, text, reply_markup=markup, parse_mode=ParseMode.HTML)
            if notice.location:
                await self._bot.send_location(user_id, notice.location[0], notice.location[1])
        except Forbidden:
            async with self._db.write() as conn:
                await users.mark_unreachable(conn, user_id)
            log.info("user %s blocked the bot; marked unreachable", user_id)
        except BadRequest:
            log.exception("notice %s to %s was refused", notice.key, user_id)


class OutboxNotifier:
    """Queues notices in the outbox; the scheduler's sender delivers them within Telegram's limits.

    Without a dedupe key each call is a new message; with one, a repeated call changes nothing, so a
    handler retried after an error cannot notify twice.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        # Set on every new row, so the sender wakes at once instead of at its next poll.
        self.queued = asyncio.Event()

    async def notify(
        self, user_id: int, notice: Notice, *, lane: Lane = "normal", dedupe_key: str | None = None
    ) -> None:
        now = self._clock.now()
        key = dedupe_key or f"notice:{user_id}:{notice.key}:{uuid.uuid4().hex}"
        async with self._db.write() as conn:
            queued = await outbox.enqueue(
                conn,
                recipient_id=user_id,
                payload=notice_to_payload(notice),
                lane=lane,
                dedupe_key=key,
                now=now,
            )
        if queued:
            self.queued.set()
