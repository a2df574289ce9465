"""Images uploaded to WeChat's temporary media (素材管理 / 新增临时素材, `media/upload`): an upload lives 3 days, so
its id is kept on the media row (`UPLOADED`: "id@unix time") and reused for half a day less than that, so none is
sent at the edge of its life; a broadcast photo to a thousand followers, or a certificate sent again after WeChat
forgot its id, is uploaded once, not each time. One upload at a time per media row. Used by the outbox sender
(`channels.wechat.transport`) and the replies that carry an image (`channels.wechat.activities`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from channels.wechat.api import WeChatApi
from core.keyed_locks import KeyedLocks
from storage import media
from storage.db import Database

REUSE_UPLOAD_FOR = dt.timedelta(days=2, hours=12)
UPLOADED = "wechat_upload"
INVALID_MEDIA = 40007  # WeChat no longer knows a media id (it lives 3 days)

# A stored photo's bytes by its media row (the saved file, or Telegram's copy); None when erased or never saved.
PhotoBytes = Callable[[int], Awaitable[bytes | None]]


class Uploads:
    """WeChat's ids of the account's uploads, per media row."""

    def __init__(self, api: WeChatApi, db: Database, now: Callable[[], dt.datetime]) -> None:
        self._api = api
        self._db = db
        self._now = now
        self._turns: KeyedLocks[int] = KeyedLocks()

    async def media_id(self, media_row: int, content: bytes, *, refused: str | None = None) -> str:
        """WeChat's id of the image: the one uploaded within `REUSE_UPLOAD_FOR`, or a new upload, kept as the media
        row's reference. `refused`: an id WeChat no longer knows, uploaded anew."""
        async with self._turns.turn(media_row):
            now = self._now()
            async with self._db.read() as conn:
                kept = await media.file_ref(conn, media_row, UPLOADED)
            if kept is not None:
                wechat_id, _, at = kept.rpartition("@")
                fresh = at.isdigit() and now - dt.datetime.fromtimestamp(int(at), dt.UTC) < REUSE_UPLOAD_FOR
                if wechat_id and fresh and wechat_id != refused:
                    return wechat_id
            wechat_id = await self._api.upload_image(content)
            async with self._db.write() as conn:
                await media.set_ref(conn, media_row, UPLOADED, f"{wechat_id}@{int(now.timestamp())}")
            return wechat_id
