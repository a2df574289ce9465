"""Webhook mode (channels/telegram/webhook.py, issue 30): Telegram's POSTs are answered only after the update is in the
inbox, a POST without the secret is refused and changes nothing, and an update delivered twice is handled once. The
journey stories run through webhook delivery too (`both_transports` in tests/stories/test_wishes.py)."""

from __future__ import annotations

import json

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import TongxinApp
from channels.telegram.webhook import SECRET_HEADER
from simulator import BotApiSimulator
from simulator.people import Person
from storage import inbox as storage_inbox
from storage.db import Database
from storage.schema import handled_updates, identities, update_inbox
from tests.conftest import START_TIME, WEBHOOK_SECRET
from tests.stories.test_update_inbox import inbox_emptied

# On PostgreSQL too: there the leader also follows the inbox for what other instances received.
pytestmark = [pytest.mark.parametrize("transport", ["webhook"], indirect=True), pytest.mark.both_databases]


def _receiver_url(bot: TongxinApp) -> str:
    receiver = bot.bot_data.webhook
    assert receiver is not None
    return f"http://127.0.0.1:{receiver.port}{receiver.path}"


def _start_update(person: Person, update_id: int) -> dict[str, object]:
    """A /start from `person` as Telegram posts it."""
    chat = {"id": person.chat_id, "type": "private", "first_name": person.first_name}
    message = {
        "message_id": 1,
        "from": dict(person.user),
        "chat": chat,
        "date": int(START_TIME.timestamp()),
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": update_id, "message": message}


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.read() as conn:
        return (
            (await conn.execute(select(func.count()).select_from(identities))).scalar_one(),
            (await conn.execute(select(func.count()).select_from(update_inbox))).scalar_one(),
            (await conn.execute(select(func.count()).select_from(handled_updates))).scalar_one(),
        )


async def test_a_post_without_the_right_secret_is_refused_and_changes_nothing(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    url, update = _receiver_url(bot), _start_update(alice, 5_000)
    before = await _counts(story_db)
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {SECRET_HEADER: ""}, {SECRET_HEADER: "x" * len(WEBHOOK_SECRET)}, {"X-Other": "1"}):
            async with session.post(url, json=update, headers=headers) as response:
                assert response.status == 403
        async with session.post(url, data=b"{not json", headers={SECRET_HEADER: WEBHOOK_SECRET}) as response:
            assert response.status == 400
        await sim.settle()
        assert (await _counts(story_db), alice.messages) == (before, [])
        # The same update with the secret is taken, and answered.
        async with session.post(url, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}) as response:
            assert response.status == 200
    assert "同心" in (await alice.next_message()).text


async def test_an_update_delivered_twice_is_handled_once(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    await alice.send_command("/start")
    assert "同心" in (await alice.next_message()).text
    await sim.settle()
    delivered = sim.webhook_delivery.deliveries[-1]
    assert delivered.ok
    replies = len(alice.messages)
    # Telegram's answer was lost on the way back: it posts the same update again (and again, after a takeover).
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            headers = {SECRET_HEADER: WEBHOOK_SECRET}
            async with session.post(_receiver_url(bot), json=delivered.update, headers=headers) as response:
                assert response.status == 200
    await sim.settle()
    assert len(alice.messages) == replies
    assert await inbox_emptied(story_db)  # handled updates leave the inbox within the group commit's linger
    async with story_db.read() as conn:
        ids = (await conn.execute(select(handled_updates.c.update_id))).scalars().all()
    assert list(ids).count(delivered.update_id) == 1


async def test_health_and_metrics_answer_on_the_webhook_port(bot: TongxinApp, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    await alice.send_command("/start")
    await alice.next_message()
    receiver = bot.bot_data.webhook
    assert receiver is not None
    base = f"http://127.0.0.1:{receiver.port}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/healthz") as response:
            assert response.status == 200
            body = await response.json()
        async with session.get(f"{base}/metrics") as response:
            metrics = await response.text()
    assert (body["role"], body["database"]) == ("leader", True)
    assert "tongxin_updates_total 1.0" in metrics


async def test_the_leader_handles_what_another_instance_received_once(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    update = _start_update(alice, 6_000)
    # Another instance behind the load balancer received it and wrote it to the inbox.
    async with story_db.write() as conn:
        await storage_inbox.keep(
            conn,
            [
                storage_inbox.row(
                    update_id=6_000,
                    chat_key=alice.chat_id,
                    user_id=alice.user_id,
                    payload=json.dumps(update, ensure_ascii=False),
                    now=START_TIME,
                )
            ],
        )
    receiver = bot.bot_data.webhook
    assert receiver is not None
    assert await receiver.follower.catch_up() == 1
    assert "同心" in (await alice.next_message()).text
    assert await receiver.follower.catch_up() == 0
    # Telegram's retry of it reaches this instance too: not handled again.
    async with (
        aiohttp.ClientSession() as session,
        session.post(_receiver_url(bot), json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}) as response,
    ):
        assert response.status == 200
    await sim.settle()
    assert len(alice.messages) == 1
    assert await inbox_emptied(story_db)
    assert await _counts(story_db) == (1, 0, 1)
