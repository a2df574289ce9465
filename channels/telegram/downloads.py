"""Saving people's photos and videos to the media folder, within the Bot API's 20 MB download limit.

Media are always kept by Telegram `file_id` (enough to show them again); the local copy is for the
newsroom's archive. A file Telegram will not hand out (too big, expired) is logged and skipped: the
tip itself is never lost because a download failed.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram.error import TelegramError
from telegram.ext import ExtBot

from rules.tips import MAX_DOWNLOAD_BYTES

log = logging.getLogger(__name__)

# Extensions by media kind; Telegram's file_path usually carries the real one.
DEFAULT_SUFFIX = {"photo": ".jpg", "video": ".mp4", "document": ".bin", "voice": ".ogg"}


async def download_media(
    bot: ExtBot[None], *, file_id: str, file_size: int | None, kind: str, folder: Path, name: str
) -> Path | None:
    """Download one file to `folder/name.<ext>`; None when it is over the limit or Telegram refuses it."""
    if file_size is not None and file_size > MAX_DOWNLOAD_BYTES:
        return None
    try:
        telegram_file = await bot.get_file(file_id)
        if telegram_file.file_size is not None and telegram_file.file_size > MAX_DOWNLOAD_BYTES:
            return None
        suffix = Path(telegram_file.file_path or "").suffix or DEFAULT_SUFFIX.get(kind, ".bin")
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        target = folder / f"{name}{suffix}"
        await telegram_file.download_to_drive(target)
    except (TelegramError, OSError):
        log.warning("could not download a %s to %s", kind, folder, exc_info=True)
        return None
    return target
