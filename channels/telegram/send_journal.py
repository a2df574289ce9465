"""Exactly one reply per update across a kill, a freeze or a cut (issue 30): every Bot API request made while an
update is handled is recorded (`update_sends`) the moment Telegram answered it, and an update handled again — left in
the inbox by a process that died before writing its conversation state and deleting its row — gets the recorded
answers back instead of asking Telegram a second time. Its handlers run again from the state the database holds, make
the same requests, and only those not recorded go out.

Why not send replies through the outbox after the state is written: a handler reads what Telegram answered (the id of
the message it edits next, whether a press was answered), so its sends cannot wait for the end of the handler.

A request is named by its method and parameters (`digest`) and its occurrence among the update's requests with the
same digest, so the order of concurrent requests does not matter; a request handled again that differs (the database
changed meanwhile, a time in its text) is sent. Reads (`get…`) and chat actions are not recorded.

On PostgreSQL each recorded request first waits for the database to answer a ping: a leader cut off from it (the
network, not the process, failed) would otherwise answer updates it can no longer record, and the next leader would
answer them again; now they wait until this one steps down (its lease lapses within seconds and its requests are then
refused, channels/lease.py). A ping refused at once (the database is down, not unreachable) lets the request go, so the
bot can still say that the database is away.

What is left ambiguous: a request on the wire, or answered but not yet recorded (one small commit, a few
milliseconds; up to a quarter of a second for a request made inside a write transaction), when the process dies or
freezes — that one is sent again when the update is handled again. Cost: one
small write per request while handling an update (a transaction of its own: behind the group commit's, the wait
under load widened the window; 8 repeats in three faults against 1 in six), on PostgreSQL a ping
before it, and one read per update handled again.

Fault injection for the crash test: with TONGXIN_FAULT_KILL_AFTER_SEND=METHOD (e.g. answerCallbackQuery) the process
SIGKILLs itself right after the first request of that method made while handling an update was recorded, before the
handler goes on, its conversation state is written and the update leaves the inbox.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from storage import inbox
from storage.db import Database, GroupCommit

log = logging.getLogger(__name__)

FAULT_KILL_AFTER_SEND = "TONGXIN_FAULT_KILL_AFTER_SEND"
# Requests that change nothing a person sees: not recorded (`getMe`, `getFile`, … and the typing indicator).
_NOT_RECORDED = frozenset({"sendChatAction", "getUpdates"})


@dataclass
class Handling:
    """One update being handled: its id, its person, and what its requests so far were."""

    update_id: int
    user_id: int | None
    again: bool  # it may have been handled before (from the inbox): look for recorded answers
    made: dict[tuple[str, int], str] | None = None  # the answers recorded before, loaded at the first request
    counted: Counter[str] = field(default_factory=Counter)


_HANDLING: ContextVar[Handling | None] = ContextVar("update_handling", default=None)


def recorded(method: str) -> bool:
    """Whether requests of this method are recorded while an update is handled."""
    return not method.startswith("get") and method not in _NOT_RECORDED


def digest(method: str, parameters: Mapping[str, Any]) -> str:
    """The request's name in the journal: its method and parameters."""
    text = json.dumps([method, parameters], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class SendJournal:
    """Records the requests of the update being handled and answers those already made (`channels.telegram.request`)."""

    def __init__(self, db: Database, group: GroupCommit, now: Callable[[], dt.datetime]) -> None:
        self._db = db
        self._group = group  # what a record made inside a write transaction rides (`record`)
        self.now = now
        self._kill_after = os.environ.get(FAULT_KILL_AFTER_SEND) or None
        # Asked before each recorded request (bot.app: a ping, on PostgreSQL): it does not answer while the database
        # is cut off, so nothing goes out that could not be recorded; None: not asked (SQLite, one instance).
        self.reachable: Callable[[], Awaitable[None]] | None = None

    @staticmethod
    @contextlib.contextmanager
    def handling(update_id: int, user_id: int | None, *, again: bool) -> Iterator[Handling]:
        """While the update's handlers run (and the tasks they start): its requests are recorded."""
        current = Handling(update_id, user_id, again)
        token = _HANDLING.set(current)
        try:
            yield current
        finally:
            _HANDLING.reset(token)

    async def answered_before(self, method: str, parameters: Mapping[str, Any]) -> tuple[str, int, bytes | None] | None:
        """For a request made while an update is handled: (digest, occurrence, the answer recorded when this request
        was made before, or None). None when nothing is recorded for this request (no update being handled, a read)."""
        current = _HANDLING.get()
        if current is None or not recorded(method):
            return None
        if self.reachable is not None:
            # A leader cut off from the database sends nothing it could not record: the next leader answers instead.
            try:
                await self.reachable()
            except Exception as exc:  # refused at once (an outage, not a cut): sent, as before the journal
                log.debug("update %d: the database did not answer before a request (%s)", current.update_id, exc)
        name = digest(method, parameters)
        occurrence = current.counted[name]
        current.counted[name] += 1
        if current.again and current.made is None:
            try:
                async with self._db.read() as conn:
                    current.made = await inbox.sends_made(conn, current.update_id)
            except Exception as exc:  # the database is away: the request goes out, as before the journal
                log.warning("update %d: its earlier requests could not be read (%s)", current.update_id, exc)
                current.made = {}
        answer = (current.made or {}).get((name, occurrence))
        return name, occurrence, None if answer is None else answer.encode()

    def failed(self, name: str) -> None:
        """The request got no answer worth recording: its occurrence is free for the retry."""
        current = _HANDLING.get()
        if current is not None and current.counted[name] > 0:
            current.counted[name] -= 1

    async def record(self, method: str, name: str, occurrence: int, answer: bytes) -> None:
        """Telegram answered the request: record it now, before the handler goes on. A failed write is logged (the
        request may be sent again if the update is handled again, as before the journal)."""
        current = _HANDLING.get()
        if current is None:
            return
        text = answer.decode(errors="replace")

        async def write(conn: Any) -> None:
            await inbox.record_send(
                conn,
                update_id=current.update_id,
                user_id=current.user_id,
                digest=name,
                occurrence=occurrence,
                answer=text,
                now=self.now(),
            )

        if self._db.writing():
            # Sent from inside a write transaction: on SQLite waiting for another would wait for itself. The record
            # goes with the next commit after it (nobody waits for it).
            self._group.ride(write)
            return
        try:
            # A transaction of its own, not the group commit's next one: the record is what closes the window in
            # which a kill makes the reply go out twice, so it waits for no other write (one commit at a time).
            async with self._db.write() as conn:
                await write(conn)
        except Exception as exc:
            log.warning("update %d: a request's answer could not be recorded (%s)", current.update_id, exc)
            return
        if method == self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
