"""The outbox sender's Telegram side: each person's turn within Telegram's flood limits, the notice
rendered and sent (a message, a photo, an edit of an earlier message, a map pin), and Telegram's errors
told as the channel-neutral failures of `channels.delivery`.

Turns come from the budget and the chat pacer the bot's own rate limiter shares (`limits`), so direct
replies and the outbox draw on one allowance; the sender's requests are marked `Prepaid`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from telegram import InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from actions.messages import Lane, Notice
from channels.delivery import DeliveryError, Refused, Sent, SlowDown, Unavailable, Unreachable
from channels.telegram.limits import LANE_PRIORITY, Prepaid, SharedRateLimiter, Start, take_turn, wait_out_pauses
from channels.telegram.media import stored_photo_bytes
from channels.telegram.render import render_notice
from core.i18n import Catalogues
from storage import media
from storage.db import Database
from storage.people import TELEGRAM

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024


class TelegramTransport:
    """Sends outbox notices through the bot, on the budget its rate limiter shares with replies.

    An address is the person's Telegram user id (their identity on `telegram`), which is also their private
    chat: the pacer counts the outbox and direct replies to that chat together.
    """

    channel = TELEGRAM
    name = "Telegram"

    def __init__(
        self, bot: ExtBot[Any], catalogues: Catalogues, *, db: Database | None = None, media_dir: Path | None = None
    ) -> None:
        limiter = bot.rate_limiter
        if not isinstance(limiter, SharedRateLimiter):
            raise RuntimeError("the outbox sender needs the bot built with SharedRateLimiter")
        self._limiter = limiter
        self._bot = bot
        self._catalogues = catalogues
        # Gate passes taken by `take_turn`, by chat (the sender delivers one row per person at a time).
        self._passes: dict[int, Start | None] = {}
        # Where a notice's photo that Telegram has no reference to yet is read from (one taken on WeChat).
        self._db = db
        self._media_dir = media_dir

    async def _upload_of(self, notice: Notice) -> InputFile | None:
        """A notice's stored photo that Telegram has no reference to (e.g. the proof photo a volunteer took on
        WeChat), as its saved bytes to upload; None when the notice has none or it was erased."""
        if notice.media is None or self._db is None or self._media_dir is None:
            return None
        data = await stored_photo_bytes(self._bot, self._db, self._media_dir, notice.media)
        return None if data is None else InputFile(data, filename="photo.jpg")

    async def _keep_reference(self, notice: Notice, sent: Message) -> None:
        """Keep the file_id Telegram gave the uploaded photo, so it goes by reference next time."""
        if notice.media is None or self._db is None or not sent.photo:
            return
        async with self._db.write() as conn:
            if await media.file_ref(conn, notice.media, TELEGRAM) is None:
                await media.add_ref(conn, notice.media, TELEGRAM, sent.photo[-1].file_id)

    async def take_turn(self, address: str, lane: Lane, *, adds_message: bool = True) -> None:
        """Wait for the chat's pace, then for a token of the shared budget at the lane's priority, and pass its
        flood gate: before the sender records the row as on the wire, so a crash never strands a row that waited
        at the gate (the request that follows carries its gate pass, `Prepaid.start`). An edit only waits while a
        429's pause lasts (the bot's or the chat's)."""
        budget = self._limiter.budget
        if not adds_message:
            await wait_out_pauses(self._limiter.pacer, budget, int(address))
            return
        # The chat is counted when a message really goes out (the limiter), not for a superseded row or an edit.
        await take_turn(self._limiter.pacer, budget, int(address), LANE_PRIORITY[lane], record=False)
        self._passes[int(address)] = await budget.gate(LANE_PRIORITY[lane])

    async def send(self, address: str, language: str, notice: Notice, lane: Lane) -> Sent:
        """Render and send the notice to the chat (the ids of the messages showing it); a `channels.delivery`
        error when Telegram did not take it."""
        try:
            return await self._send(int(address), language, notice, lane)
        except RetryAfter as exc:
            # The limiter already paused the chat or the whole bot; the row simply waits for its next turn.
            raise SlowDown(f"429: {exc.message}", exc.message) from exc
        except Forbidden as exc:
            raise Unreachable(f"403: {exc.message}", exc.message) from exc
        except BadRequest as exc:
            raise Refused(f"400: {exc.message}", exc.message) from exc
        except NetworkError as exc:  # 5xx and timeouts
            raise Unavailable(f"{type(exc).__name__}: {exc.message}", exc.message) from exc
        except TelegramError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc.message}", exc.message) from exc

    async def withdraw(self, address: str, sent: Sent) -> bool:
        """Delete the messages (a bot may delete its own messages in a private chat for 48 hours)."""
        withdrawn = True
        for message_id in sent:
            try:
                await self._bot.delete_message(int(address), message_id)
            except TelegramError as exc:
                log.warning("message %s in chat %s could not be withdrawn: %s", message_id, address, exc.message)
                withdrawn = False
        return withdrawn

    async def _send(self, chat_id: int, language: str, notice: Notice, lane: Lane) -> Sent:
        if notice.delete and notice.replaces is not None:
            try:
                await self._bot.delete_message(chat_id, notice.replaces)
            except BadRequest as exc:
                # Already gone (a resend after a crash, or the person deleted it): nothing left to take back.
                log.info("message %s in chat %s could not be deleted: %s", notice.replaces, chat_id, exc.message)
            return ()
        text, markup = render_notice(self._catalogues, language, notice)
        prepaid = Prepaid(lane, self._passes.pop(chat_id, None))
        kwargs: dict[str, Any] = {"reply_markup": markup, "parse_mode": ParseMode.HTML, "rate_limit_args": prepaid}
        if notice.replaces is not None:
            try:
                await self._bot.edit_message_text(text, chat_id=chat_id, message_id=notice.replaces, **kwargs)
            except BadRequest as exc:
                # Already showing this text (a resend after a crash) or the message is gone: nothing to redo.
                if "not modified" not in exc.message.lower():
                    raise
            return (notice.replaces,)
        photo: str | InputFile | None = notice.photo or await self._upload_of(notice)
        if photo:
            sent = await self._bot.send_photo(chat_id, photo, caption=text[:CAPTION_LIMIT], **kwargs)
            if isinstance(photo, InputFile):
                await self._keep_reference(notice, sent)
        else:
            sent = await self._bot.send_message(chat_id, text, **kwargs)
        if not notice.location:
            return (sent.message_id,)
        try:
            await self.take_turn(str(chat_id), lane)
            pin_pass = Prepaid(lane, self._passes.pop(chat_id, None))
            pin = await self._bot.send_location(
                chat_id, notice.location[0], notice.location[1], rate_limit_args=pin_pass
            )
        except TelegramError:
            # The notice itself arrived; a lost map pin is not worth sending the text twice.
            log.warning("map pin of a notice to %s was not delivered", chat_id, exc_info=True)
            return (sent.message_id,)
        return (sent.message_id, pin.message_id)
