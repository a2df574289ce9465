"""The bot as a separate process, the way an operator runs it: `python -m bot run|check|migrate`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from core.settings import Settings
from simulator import BotApiSimulator
from simulator.state import BotMessage
from tests.conftest import TEST_TOKEN

pytestmark = [pytest.mark.wall_clock, pytest.mark.serial]

ROOT = Path(__file__).resolve().parents[2]


# Every variable the bot reads as a setting (pydantic-settings: the field name, any case). The caller's shell may set
# some (WECHAT_*, SCREEN_PORT, ADMIN_IDS...): the bot under test must see only what the test gives it, or it starts
# a WeChat server on a port in use and exits.
SETTING_NAMES = frozenset(name.upper() for name in Settings.model_fields)


def _env(tmp_path: Path, sim: BotApiSimulator | None = None, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in SETTING_NAMES and not key.startswith(("BOT_", "DATABASE_", "TELEGRAM_"))
    }
    env.update(
        {
            "BOT_TOKEN": TEST_TOKEN,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "LOG_LEVEL": "WARNING",
        }
    )
    if sim is not None:
        env["TELEGRAM_API_URL"] = sim.api_url
        env["TELEGRAM_FILE_URL"] = sim.file_url
    env.update(extra)
    return env


async def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"BOT_TOKEN": ""}, "BOT_TOKEN"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL: cannot parse 'nonsense'"),
        ({"TIMEZONE": "Nowhere/Special"}, "TIMEZONE"),
    ],
)
async def test_a_wrong_setting_stops_with_exit_2_and_one_line(
    tmp_path: Path, extra: dict[str, str], expected: str
) -> None:
    env = _env(tmp_path, **extra)
    if not extra.get("BOT_TOKEN", "x"):
        del env["BOT_TOKEN"]
    code, out, err = await _run(["run"], env, tmp_path)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert "Traceback" not in err


async def _stop(process: asyncio.subprocess.Process) -> str:
    """SIGTERM the bot unless it already exited (asyncio then raises ProcessLookupError, which would hide why it
    exited); its stderr."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return err.decode()


async def test_bot_process_answers_start_within_a_second(tmp_path: Path, sim: BotApiSimulator) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=_env(tmp_path, sim), cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    exited = asyncio.ensure_future(process.wait())
    answered: asyncio.Future[BotMessage] | None = None
    try:
        # The bot is up once it has set its command menus (or it has exited, which fails below with its stderr).
        await sim.wait_until(lambda: bool(sim.commands(None, "en")) or exited.done(), timeout=30)
        alice = sim.person("王阿姨")
        sent_at = time.monotonic()
        await alice.send_command("/start")
        answered = asyncio.ensure_future(alice.next_message(timeout=5))
        await asyncio.wait({answered, exited}, return_when=asyncio.FIRST_COMPLETED)
        assert not exited.done(), "the bot exited while the test talked to it"
        reply = answered.result()
        elapsed = time.monotonic() - sent_at
        assert "同心" in reply.text
        assert elapsed < 1.0, f"the reply took {elapsed:.2f} s"
        assert sim.invalid_requests == []
    except BaseException as exc:
        if answered is not None:
            answered.cancel()
        exc.add_note(f"bot stderr:\n{await _stop(process)}")
        raise
    err = await _stop(process)
    assert process.returncode == 0, err


async def test_check_reports_settings_database_and_token(tmp_path: Path, sim: BotApiSimulator) -> None:
    code, out, err = await _run(["check"], _env(tmp_path, sim), tmp_path)
    assert code == 0, err
    assert "settings: ok" in out
    assert "database: ok (sqlite)" in out
    assert "telegram: ok (@tongxin_bot)" in out


async def test_check_refuses_a_token_telegram_rejects(tmp_path: Path, sim: BotApiSimulator) -> None:
    code, _out, err = await _run(["check"], _env(tmp_path, sim, BOT_TOKEN="999:WRONG"), tmp_path)
    assert code == 2
    assert "BOT_TOKEN" in err


async def test_migrate_brings_the_database_to_head(tmp_path: Path) -> None:
    code, out, err = await _run(["migrate"], _env(tmp_path), tmp_path)
    assert code == 0, err
    assert "database at revision" in out
    assert (tmp_path / "bot.db").exists()


@pytest.mark.parametrize("command", ["run", "migrate", "check", "demo"])
async def test_every_command_has_help(tmp_path: Path, command: str) -> None:
    code, out, _ = await _run([command, "--help"], _env(tmp_path), tmp_path)
    assert code == 0
    assert out.startswith(f"usage: tongxin {command}")


async def test_a_port_in_use_at_start_stops_with_one_line(tmp_path: Path, sim: BotApiSimulator) -> None:
    # The screen's port is taken: the bot has already started polling Telegram when it finds out, and must stop
    # what it started and say why in one line (not a traceback about an application still running).
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = await _run(["run"], _env(tmp_path, sim, SCREEN_PORT=str(port)), tmp_path)
    assert code == 1, err  # EXIT_UNAVAILABLE
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tongxin: cannot reach a service")
    assert "address already in use" in lines[0]
