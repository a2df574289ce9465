"""The send journal (channels/telegram/send_journal.py) through the real transport: requests made while an update is
handled are recorded with Telegram's answer; handled again, the update gets those answers back and Telegram is not asked
twice; the records go with the update's inbox row."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from sqlalchemy import select
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from channels.telegram.request import AiohttpRequest
from channels.telegram.send_journal import SendJournal
from storage import inbox
from storage.db import Database, GroupCommit
from storage.schema import update_sends

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


class Telegram:
    """Answers every method with the next message id, and counts what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def answer(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.asked.append((request.match_info["method"], str(form.get("text", ""))))
        return web.json_response({"ok": True, "result": {"message_id": len(self.asked)}})


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[Telegram, str]]:
    fake = Telegram()
    app = web.Application()
    app.router.add_post("/bot/{method}", fake.answer)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


@pytest.fixture
async def transport(db: Database) -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest()
    request.journal = SendJournal(db, GroupCommit(db), lambda: NOW)
    await request.initialize()
    yield request
    await request.shutdown()


async def say(transport: AiohttpRequest, url: str, text: str) -> int:
    """sendMessage to chat 1; the message id Telegram (or the journal) answered."""
    data = RequestData([RequestParameter("chat_id", 1, []), RequestParameter("text", text, [])])
    _status, body = await transport.do_request(f"{url}/sendMessage", "POST", data)
    return int(json.loads(body)["result"]["message_id"])


async def recorded(db: Database) -> int:
    async with db.read() as conn:
        return len((await conn.execute(select(update_sends.c.update_id))).all())


async def test_an_update_handled_again_is_not_answered_twice(
    db: Database, transport: AiohttpRequest, telegram: tuple[Telegram, str]
) -> None:
    fake, url = telegram
    with SendJournal.handling(7, 1000001, again=False):
        first = [
            await say(transport, url, "您好"),
            await say(transport, url, "您好"),
            await say(transport, url, "再见"),
        ]
    assert first == [1, 2, 3]
    assert await recorded(db) == 3

    # Killed before its state was written: handled again, the same requests get the same answers, nothing is sent.
    with SendJournal.handling(7, 1000001, again=True):
        again = [
            await say(transport, url, "您好"),
            await say(transport, url, "您好"),
            await say(transport, url, "再见"),
        ]
        # A request the first handling did not make (the database changed meanwhile) goes out.
        assert await say(transport, url, "新的") == 4
    assert again == first
    assert [text for _, text in fake.asked] == ["您好", "您好", "再见", "新的"]

    # Requests outside an update's handling (the outbox sender's) are not recorded.
    await say(transport, url, "通知")
    assert await recorded(db) == 4
    # Handled at last: the records go with the update's inbox row.
    async with db.write() as conn:
        await inbox.forget(conn, [7], NOW)
    assert await recorded(db) == 0
