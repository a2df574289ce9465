"""The durable inbox: every update is written as the processor receives it, before it is handled, and deleted in
the transaction that writes the conversation state after it was handled (`DatabasePersistence.write_through`).
Telegram's getUpdates offset acknowledges an update as soon as PTB fetched it, so without this a kill between the
reply and the state write lost the step; now start-up handles what is left in the inbox again before polling
resumes (`PerChatUpdateProcessor.resume`). Never lost; and not answered twice: the requests made while it was
handled the first time are recorded with their answers and not made again (channels/telegram/send_journal.py).

Bounds: rows older than `MAX_AGE` are dropped at start-up (Telegram keeps an update no longer either), and an update
tried `MAX_ATTEMPTS` times (one that kills the bot each time) is given up, both said in one log line without the
message. The rows hold people's messages: deleted once handled, erased by /deleteme, never logged.

Handled ids are kept 25 hours (`storage.inbox.KEEP_HANDLED`): an update Telegram delivers again (a webhook retry after
a lost answer, updates a previous leader fetched but did not confirm) is found in the inbox or among them, and `keep`
says not to handle it again.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from telegram import Bot, Update

from storage import inbox
from storage.db import Batched, Database, GroupCommit

log = logging.getLogger(__name__)

MAX_AGE = dt.timedelta(hours=24)
MAX_ATTEMPTS = 3


class UpdateInbox:
    """Writes arriving updates and reads back those a crash left unhandled."""

    def __init__(
        self,
        db: Database,
        now: Callable[[], dt.datetime],
        group: GroupCommit,
        received: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        self._db = db
        self._now = now
        # Updates as getUpdates delivered them (`channels.telegram.request.UpdatesRequest.received`), taken by `keep`.
        self._received = received if received is not None else {}
        # Shared with the persistence's write-through (`DatabasePersistence.group`): rows of updates arriving
        # together (one statement), and the state writes of updates just handled, go in one commit.
        self._known: set[int] = set()  # ids of the updates `keep` found known already
        self._rows = Batched(group, functools.partial(inbox.keep, known=self._known))

    async def keep(self, update: Update, chat_key: int) -> bool:
        """Write the update before it is handled (raises if the database cannot be reached); False if it was known
        already (handled, or in the inbox): not to be handled again."""
        await self._rows.add(self._row(update, chat_key, self._received.pop(update.update_id, None)))
        if update.update_id in self._known:
            self._known.discard(update.update_id)
            return False
        return True

    async def receive(self, update: Update, chat_key: int, data: dict[str, Any]) -> bool:
        """Webhook mode: write an update as Telegram posted it (`data`), in a transaction of its own that any
        instance may commit, leading or not (not fenced by the lease: every instance receives,
        channels/telegram/webhook.py); False if it was known already."""
        known: set[int] = set()
        async with self._db.write(fenced=False) as conn:
            await inbox.keep(conn, [self._row(update, chat_key, data)], known)
        return update.update_id not in known

    def _row(self, update: Update, chat_key: int, data: dict[str, Any] | None) -> dict[str, Any]:
        """The update's inbox row; `data` as Telegram sent it, or (a test's update, a replay) rebuilt from PTB's."""
        user = update.effective_user
        payload = data if data is not None else update.to_dict()
        return inbox.row(
            update_id=update.update_id,
            chat_key=chat_key,
            user_id=user.id if user is not None else None,
            payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            now=self._now(),
        )

    async def left_over(self, bot: Bot) -> list[Update]:
        """The updates to handle again at start-up, oldest first (too old and too often tried ones are dropped)."""
        found = await inbox.left_over(self._db, received_after=self._now() - MAX_AGE, attempts=MAX_ATTEMPTS)
        if found.too_old or found.given_up:
            log.warning(
                "update inbox: dropped %d updates older than %s and %d tried %d times already",
                found.too_old,
                MAX_AGE,
                found.given_up,
                MAX_ATTEMPTS,
            )
        updates = []
        for update_id, payload in found.updates:
            update = Update.de_json(json.loads(payload), bot)
            if update is None:  # pragma: no cover - a row always holds an update
                log.warning("update inbox: update %d could not be read back", update_id)
                continue
            updates.append(update)
        if updates:
            log.info("update inbox: handling %d updates a stop left unhandled", len(updates))
        return updates
