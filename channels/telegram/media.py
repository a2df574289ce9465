"""Photos that arrived on another channel, shown on Telegram: a stored media row without a Telegram reference
(e.g. 王阿姨's photo from WeChat, whose bytes were saved under `MEDIA_DIR`) is uploaded once, and the file_id
Telegram gives back is kept as its Telegram reference, so the next time it is sent by reference."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from telegram import InputFile, InputMediaPhoto, InputMediaVideo, Message
from telegram.error import TelegramError
from telegram.ext import ExtBot

from storage import media
from storage.db import Database

log = logging.getLogger(__name__)
FILE = "file"
# The slowest upload a district office line is assumed to manage: a file's write timeout allows for it, so a 45 MB
# export over a slow line is not cut off (and retried in vain) by the 20 s that suit a photo.
SLOW_UPLOAD_BYTES_PER_SECOND = 128 * 1024
MIN_UPLOAD_SECONDS = 20.0


def upload_write_timeout(size: int) -> float:
    """Seconds an upload of `size` bytes may take to write: 20 s, or longer for a file a slow line needs longer for
    (at 128 KB/s: a 48 MB export gets about 6 minutes)."""
    return max(MIN_UPLOAD_SECONDS, size / SLOW_UPLOAD_BYTES_PER_SECOND)


async def send_stored_photo(
    bot: ExtBot[Any], db: Database, media_dir: Path, chat_id: int, media_id: int, *, caption: str | None = None
) -> Message | None:
    """Send a stored photo to a chat by its Telegram reference, or upload its saved bytes: the message sent, or
    None when there is neither (erased, or never saved)."""
    async with db.read() as conn:
        ref = await media.file_ref(conn, media_id, media.TELEGRAM)
        saved = await media.file_ref(conn, media_id, FILE) if ref is None else None
    if ref is not None:
        return await bot.send_photo(chat_id, ref, caption=caption)
    if saved is None:
        return None
    path = await asyncio.to_thread(_saved_path, media_dir, saved)
    if path is None:
        return None
    try:
        with path.open("rb") as file:  # streamed from disk (channels/telegram/request.py), not read into memory
            photo = InputFile(file, filename="photo.jpg", read_file_handle=False)
            sent: Message = await bot.send_photo(chat_id, photo, caption=caption)
    except OSError:
        return None  # erased meanwhile
    except TelegramError:
        log.warning("a stored photo could not be uploaded to Telegram", exc_info=True)
        return None
    if sent.photo:
        async with db.write() as conn:
            if await media.file_ref(conn, media_id, media.TELEGRAM) is None:
                await media.add_ref(conn, media_id, media.TELEGRAM, sent.photo[-1].file_id)
    return sent


async def send_photo_of(
    bot: ExtBot[Any],
    db: Database,
    media_dir: Path,
    chat_id: int,
    *,
    file_id: str | None,
    media_id: int | None,
    caption: str | None = None,
) -> Message | None:
    """Send a wish's (or tip's) photo: by its Telegram file_id, else the stored photo from another channel; None
    when it has none (or it was erased)."""
    if file_id:
        return await bot.send_photo(chat_id, file_id, caption=caption)
    if media_id is not None:
        return await send_stored_photo(bot, db, media_dir, chat_id, media_id, caption=caption)
    return None


class Visual(Protocol):
    """A photo or video to show: its Telegram reference, or ("") the stored media whose saved bytes are uploaded."""

    @property
    def kind(self) -> str: ...

    @property
    def file_id(self) -> str: ...

    @property
    def media_id(self) -> int: ...


ALBUM_MAX = 10  # items in one Telegram album
PHOTO_NAME = "photo.jpg"


async def send_visuals(
    bot: ExtBot[Any], db: Database, media_dir: Path, chat_id: int | str, items: Sequence[Visual], *, caption: str | None
) -> list[Message]:
    """Photos and videos as albums of up to ten (one alone as itself), `caption` on the first; a photo that came in
    on another channel (a WeChat reporter's) is uploaded from its saved bytes and the file_id Telegram gives back is
    kept, so it is sent by reference next time; one erased meanwhile is left out. The messages sent."""
    shown: list[tuple[Visual, str | bytes]] = []
    for item in items:
        source = item.file_id or await _upload_of(db, media_dir, item)
        if source is not None:
            shown.append((item, source))
    sent: list[Message] = []
    for start in range(0, len(shown), ALBUM_MAX):
        chunk = shown[start : start + ALBUM_MAX]
        first = caption if start == 0 else None
        if len(chunk) == 1:
            item, source = chunk[0]
            if item.kind == "photo":
                photo = source if isinstance(source, str) else InputFile(source, filename=PHOTO_NAME)
                sent.append(await bot.send_photo(chat_id, photo, caption=first))
            else:
                sent.append(await bot.send_video(chat_id, source, caption=first))
            continue
        album = [
            InputMediaPhoto(source, caption=first if i == 0 else None, filename=PHOTO_NAME)
            if item.kind == "photo"
            else InputMediaVideo(source, caption=first if i == 0 else None)
            for i, (item, source) in enumerate(chunk)
        ]
        sent.extend(await bot.send_media_group(chat_id, album))
    uploaded = [(item, message) for (item, source), message in zip(shown, sent, strict=False) if item.file_id == ""]
    if uploaded:
        async with db.write() as conn:
            for item, message in uploaded:
                if message.photo and await media.file_ref(conn, item.media_id, media.TELEGRAM) is None:
                    await media.add_ref(conn, item.media_id, media.TELEGRAM, message.photo[-1].file_id)
    return sent


async def _upload_of(db: Database, media_dir: Path, item: Visual) -> bytes | None:
    """A stored photo's saved bytes to upload (None: not a photo, erased, or never saved)."""
    if item.kind != "photo":
        return None
    async with db.read() as conn:
        ref = await media.file_ref(conn, item.media_id, media.TELEGRAM)
        saved = await media.file_ref(conn, item.media_id, FILE) if ref is None else None
    if ref is not None:
        return None  # sent by reference by a caller that read it before it was kept
    if saved is None:
        return None
    return await asyncio.to_thread(_read, media_dir, saved)


MAX_PHOTO_BYTES = 10 * 1024 * 1024  # WeChat takes images up to 10 MB


async def stored_photo_bytes(bot: ExtBot[Any], db: Database, media_dir: Path, media_id: int) -> bytes | None:
    """A stored photo's bytes for another channel (WeChat): the saved file, or Telegram's copy (e.g. a volunteer's
    proof photo); None when there is neither (erased) or it is too large to pass on."""
    async with db.read() as conn:
        saved = await media.file_ref(conn, media_id, FILE)
        ref = await media.file_ref(conn, media_id, media.TELEGRAM) if saved is None else None
    if saved is not None:
        return await asyncio.to_thread(_read, media_dir, saved)
    if ref is None:
        return None
    try:
        found = await bot.get_file(ref)
        if found.file_size is not None and found.file_size > MAX_PHOTO_BYTES:
            return None
        content = bytes(await found.download_as_bytearray())
    except TelegramError:
        log.warning("a stored photo could not be fetched from Telegram", exc_info=True)
        return None
    return content if len(content) <= MAX_PHOTO_BYTES else None


def _saved_path(media_dir: Path, saved: str) -> Path | None:
    """The saved file, if it is inside the media folder and still there."""
    path = (media_dir / saved).resolve()
    if not path.is_relative_to(media_dir.resolve()) or not path.is_file():
        return None
    return path


def _read(media_dir: Path, saved: str) -> bytes | None:
    """The saved file's bytes, if it is inside the media folder and still there."""
    path = _saved_path(media_dir, saved)
    return None if path is None else path.read_bytes()
