"""Webhook mode as an operator runs it (`python -m bot run --webhook`): a SIGKILL between receiving an update and
answering Telegram loses nothing, and handles nothing twice. Killed before the update is written, Telegram has no
answer and delivers it again to the restarted bot; killed after, the update is in the inbox: the restarted bot handles
it, and Telegram's retry of it is recognised."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest

from channels.telegram.webhook import FAULT_KILL
from simulator import BotApiSimulator
from tests.stories.test_process import _env, _stop

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]

PUBLIC = "https://bot.example.org:8443/telegram"
SECRET = "process-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _start(tmp_path: Path, sim: BotApiSimulator, port: int, **extra: str) -> asyncio.subprocess.Process:
    env = _env(
        tmp_path, sim, WEBHOOK_URL=PUBLIC, WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port), WEBHOOK_LISTEN="127.0.0.1"
    )
    env.update(extra)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--webhook", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )


@pytest.mark.parametrize("point", ["received", "written"])
async def test_a_sigkill_between_receiving_and_answering_loses_no_update(
    tmp_path: Path, sim: BotApiSimulator, point: str
) -> None:
    port = _free_port()
    sim.webhook_delivery.route(PUBLIC, f"http://127.0.0.1:{port}/telegram")
    first = await _start(tmp_path, sim, port, **{FAULT_KILL: point})
    try:
        await sim.wait_until(lambda: sim.webhook.get("url") == PUBLIC or first.returncode is not None, timeout=30)
        assert sim.webhook.get("secret_token") == SECRET
        alice = sim.person("王阿姨")
        await alice.send_command("/start")
        code = await asyncio.wait_for(first.wait(), 30)
        assert code == -9, "the fault did not kill the bot"
    except BaseException as exc:
        exc.add_note(f"bot stderr:\n{await _stop(first)}")
        raise
    await first.communicate()
    assert alice.messages == []
    failed = [d for d in sim.webhook_delivery.deliveries if not d.ok]
    assert failed, "Telegram's delivery was answered although the bot died before answering"

    second = await _start(tmp_path, sim, port)
    try:
        reply = await alice.next_message(timeout=40)
        assert "同心" in reply.text
        await sim.wait_until(lambda: not sim.pending_updates, timeout=40, what="Telegram's retry answered")
        await sim.settle(quiet=1.0, timeout=30)
        assert [m.text for m in alice.messages].count(reply.text) == 1
        assert sim.invalid_requests == []
    except BaseException as exc:
        exc.add_note(f"bot stderr:\n{await _stop(second)}")
        raise
    err = await _stop(second)
    assert second.returncode == 0, err
