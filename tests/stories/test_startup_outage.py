"""`python -m bot run` while Telegram cannot be reached: one clear line per try, with backoff, no traceback,
a clean stop on SIGTERM; exit 2 only when Telegram rejects the token."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import pytest

from simulator import BotApiSimulator
from tests.stories.test_process import ROOT, _env

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_without_telegram_says_so_once_per_try_and_stops_cleanly(tmp_path: Path) -> None:
    port = _closed_port()
    env = _env(tmp_path, TELEGRAM_API_URL=f"http://127.0.0.1:{port}/bot")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []

    async def two_tries() -> None:
        assert process.stderr is not None
        while sum("Telegram cannot be reached" in line for line in lines) < 2:
            line = await process.stderr.readline()
            if not line:
                return
            lines.append(line.decode())

    await asyncio.wait_for(two_tries(), 60)
    process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    lines += (out + err).decode().splitlines()
    lines = [line for line in lines if line.strip()]
    tries = [line for line in lines if "Telegram cannot be reached" in line]
    assert len(tries) >= 2, lines
    assert "trying again in 1 s" in tries[0]
    assert "trying again in 2 s" in tries[1]
    assert all(f"127.0.0.1:{port}" in line for line in tries)
    assert not any("Traceback" in line or "Unclosed" in line for line in lines), lines
    assert process.returncode == 0


async def test_run_with_a_token_telegram_rejects_exits_2(tmp_path: Path, sim: BotApiSimulator) -> None:
    env = _env(tmp_path, sim, BOT_TOKEN="654321:NOT-THE-TOKEN")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    text = (out + err).decode()
    assert process.returncode == 2
    assert "BOT_TOKEN: Telegram did not accept the token" in text
    assert "Traceback" not in text
