"""The README and docs/*.md name only what exists: every `/command` is one the bot answers, every UPPER_CASE setting
is a field of `Settings`, every `make` target is in the Makefile and every `python -m` module can be imported.

A newcomer walks the README step by step; a command renamed or a setting dropped must fail here, not on them."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from bot.app import build_application
from channels.telegram.commands import COMMANDS
from core.settings import Settings, load_settings
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# `/wish`, "/case W-0011 城管", （/cancel）: a slash that starts a word and no path or URL goes on after the name.
COMMAND = re.compile(r"(?<![\w/.:<>-])/([a-z][a-z0-9_]*)(?![\w/.?=-])")
# `BOT_TOKEN`, `DATABASE_URL=postgresql://…`: an environment name in backticks (at least one underscore).
SETTING = re.compile(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`")
MAKE = re.compile(r"\bmake ([a-z][a-z-]*)")
MODULE = re.compile(r"\bpython -m ([A-Za-z_][\w.]*)")
TARGET = re.compile(r"^([a-z][a-z-]*):", re.MULTILINE)

# Slash words in the docs that are paths, not commands, and where each is real.
PATHS = {
    "wechat": ("channels/wechat/server.py", '"/wechat"'),
    "wecom": ("channels/wecom/server.py", '"/wecom"'),
    "proc": ("benchmarks/scale.py", "/proc/"),
    "healthz": ("channels/health.py", '"/healthz"'),
    "metrics": ("channels/health.py", '"/metrics"'),
    "telegram": ("tests/simulator/test_webhook.py", '"/telegram"'),  # the webhook path of the docs' examples
}
# UPPER_CASE names in the docs that are not settings of the bot, and the file each lives in.
OTHER_NAMES = {
    "TEST_POSTGRES_URL": "tests/conftest.py",
    "TONGXIN_FAULT_KILL_AFTER_HANDLERS": "channels/telegram/persistence.py",
    "SAFE_WINDOW": "channels/telegram/limits.py",
}


def docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOCS)


def commands_of(handlers: Iterable[BaseHandler[Any, Any, Any]]) -> Iterator[str]:
    """The commands of these handlers, those inside conversations too."""
    for handler in handlers:
        if isinstance(handler, CommandHandler):
            yield from handler.commands
        elif isinstance(handler, ConversationHandler):
            yield from commands_of(handler.entry_points)
            for state in handler.states.values():
                yield from commands_of(state)
            yield from commands_of(handler.fallbacks)


@pytest.fixture(scope="module")
def registered() -> set[str]:
    """Every command the assembled bot answers (`bot/app.py` registers them; the menu is
    `channels/telegram/commands.py`)."""
    settings = load_settings(bot_token="123456:DOCS-CHECK", _env_file=None)
    application = build_application(settings, Database("sqlite+aiosqlite:///:memory:"))
    found = {name for group in application.handlers.values() for name in commands_of(group)}
    assert {command.name for command in COMMANDS} <= found, "a command of the menu has no handler"
    return found


def test_the_docs_exist_and_the_readme_is_short() -> None:
    assert {path.name for path in DOCS} >= {"README.md", "operations.md", "wechat.md", "benchmarks.md", "internals.md"}
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


def test_every_command_named_in_the_docs_exists(registered: set[str]) -> None:
    named = set(COMMAND.findall(docs_text()))
    assert {"wish", "tip", "case", "pending", "review"} <= named, "the pattern misses commands"
    unknown = sorted(named - registered - PATHS.keys())
    assert unknown == [], f"the docs name commands the bot does not have: {unknown}"
    for file, needle in PATHS.values():
        assert needle in (ROOT / file).read_text(encoding="utf-8"), f"{needle} is no longer in {file}"


def test_every_setting_named_in_the_docs_exists() -> None:
    named = set(SETTING.findall(docs_text()))
    settings = {name.upper() for name in Settings.model_fields}
    assert {"BOT_TOKEN", "DATABASE_URL"} <= named, "the pattern misses settings"
    unknown = sorted(named - settings - OTHER_NAMES.keys())
    assert unknown == [], f"the docs name settings that do not exist: {unknown}"
    for name, file in OTHER_NAMES.items():
        assert name in (ROOT / file).read_text(encoding="utf-8"), f"{name} is no longer in {file}"


def test_every_make_target_named_in_the_docs_exists() -> None:
    named = set(MAKE.findall(docs_text()))
    targets = set(TARGET.findall((ROOT / "Makefile").read_text(encoding="utf-8")))
    assert {"demo", "test"} <= named
    assert sorted(named - targets) == []


def test_every_python_module_named_in_the_docs_exists() -> None:
    named = set(MODULE.findall(docs_text()))
    assert "bot" in named
    missing = sorted(name for name in named if importlib.util.find_spec(name) is None)
    assert missing == []


def test_the_configuration_in_the_docs_lists_every_setting() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    table = operations.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in table]
    assert missing == []
