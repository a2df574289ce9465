"""/healthz and /metrics for the operator (issue 30, item 4, polling mode): the running bot answers both on
HEALTH_PORT; a health check against a database that does not answer says 503."""

from __future__ import annotations

import datetime as dt
import socket

import aiohttp
import pytest

from actions.messages import notice_to_payload
from benchmarks.delivery import DIGEST
from bot.app import TongxinApp
from channels.health import Health
from core.clock import LoopTimer
from simulator import BotApiSimulator
from storage import outbox
from storage.db import Database
from tests.conftest import START_TIME
from tests.stories.wishflow import given_person


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PORT = _free_port()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"health_port": PORT}


async def test_the_running_bot_answers_healthz_and_metrics(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/start")
    await wang.next_message()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{PORT}/healthz") as response:
            assert response.status == 200
            health = await response.json()
        async with session.get(f"http://127.0.0.1:{PORT}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            metrics = await response.text()
    # The one instance on a fresh database took the lease: epoch 1 (channels/lease.py).
    assert health == {"role": "leader", "epoch": 1, "database": True, "backlog": {"urgent": 0, "normal": 0, "bulk": 0}}
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line and not line.startswith("#")
    }
    assert values["tongxin_updates_total"] >= 1
    assert values['tongxin_bot_api_requests_total{method="sendMessage",status="200"}'] >= 1
    assert values["tongxin_leader"] == 1
    assert values["tongxin_lease_epoch"] == 1
    assert values['tongxin_outbox_backlog{lane="urgent"}'] == 0
    assert "bot" + bot.bot.token not in metrics  # the method label is the method, never the URL with the token


async def test_metrics_count_the_notices_a_stop_left_on_the_wire(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    # A digest the previous leader had marked as on the wire when it died: the next start settles it as unknown and
    # does not send it again (storage.outbox.recover_interrupted); the operator sees how many there are.
    wang = sim.person("王阿姨")
    async with story_db.write() as conn:
        person = await given_person(conn, wang)
        await outbox.enqueue(
            conn,
            recipient_id=person,
            payload=notice_to_payload(DIGEST),
            lane="bulk",
            dedupe_key="digest:health",
            now=START_TIME,
            not_before=START_TIME + dt.timedelta(days=1),
        )
        [row] = await outbox.messages_for(conn, person)
        assert await outbox.mark_sending(conn, row["id"])
        assert await outbox.recover_interrupted(conn) == 1
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{PORT}/metrics") as response:
        metrics = await response.text()
    assert "tongxin_outbox_unknown 1.0" in metrics.splitlines()
    assert wang.messages == []


async def test_healthz_says_503_when_the_database_does_not_answer() -> None:
    unreachable = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{_free_port()}/test")
    health = Health(unreachable, LoopTimer())
    await health.start("127.0.0.1", 0)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{health.port}/healthz") as response,
        ):
            assert response.status == 503
            body = await response.json()
        assert body["database"] is False
        assert body["role"] == "standby"  # nothing told it that it leads
    finally:
        await health.stop()
        await unreachable.dispose()
