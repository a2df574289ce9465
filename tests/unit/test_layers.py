"""Layers point one way: the root (`bot`: entry point, assembly, demo, seed) → handlers → channels → conversations →
actions → rules/storage → the kernel (`core`: settings, catalogues, clock, logs); the scheduler → actions.
Nothing but the root imports the root.

Checked on the import statements of every module (also imports inside functions), so a shortcut
through the layers fails here instead of in a review.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "core" / "locale").glob("*/LC_MESSAGES/*.po"))

# package → top-level packages it must never import
PROJECT = {"actions", "bot", "channels", "conversations", "core", "handlers", "rules", "scheduler", "screen", "storage"}
FORBIDDEN = {
    # The kernel imports nothing of the project.
    "core": PROJECT - {"core"},
    "storage": {"rules", "handlers", "actions", "scheduler", "channels", "telegram", "bot", "conversations", "screen"},
    "rules": {"handlers", "actions", "scheduler", "channels", "telegram", "bot", "conversations", "screen"},
    "actions": {"handlers", "scheduler", "channels", "telegram", "bot", "conversations", "screen"},
    # The conversations written once: on actions, rules and storage, never on a channel (or the root's `bot`).
    "conversations": {"handlers", "scheduler", "channels", "telegram", "bot", "screen"},
    # Channels render conversations and run actions; the Telegram handlers and the root sit above them.
    "channels": {"bot", "handlers", "scheduler", "screen"},
    "scheduler": {"handlers", "telegram", "bot", "screen"},
    "screen": {"handlers", "scheduler", "channels", "telegram", "bot", "conversations"},
    "handlers": {"bot", "scheduler", "screen"},
}
# Imports a folder may make although its package forbids them. A migration converts the data stored on its
# day with the code of its day: 0008 turns stored Telegram callback data into typed buttons with the
# channel's callback codec. Only `channels`, and only under `storage/migrations/`.
ALLOWED = {"storage/migrations": {"channels"}}


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every module a file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def allowed_in(path: Path) -> set[str]:
    """The packages `ALLOWED` lets this file import."""
    relative = path.relative_to(ROOT).as_posix()
    return {name for folder, names in ALLOWED.items() if relative.startswith(f"{folder}/") for name in names}


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package: str) -> None:
    offences = {
        str(path.relative_to(ROOT)): sorted((imported_packages(path) & FORBIDDEN[package]) - allowed_in(path))
        for path in modules_of(package)
    }
    assert {path: bad for path, bad in offences.items() if bad} == {}


@pytest.mark.parametrize("package", ["actions", "conversations", "rules", "storage", "scheduler"])
def test_nothing_outside_the_channels_escapes_html(package: str) -> None:
    escaping = [str(p.relative_to(ROOT)) for p in modules_of(package) if "html.escape" in p.read_text(encoding="utf-8")]
    assert escaping == []


def test_catalogues_hold_no_html() -> None:
    tagged = [
        f"{path.relative_to(ROOT)}: {line.strip()[:60]}"
        for path in CATALOGUES
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("msgstr") and re.search(r"</?[a-zA-Z][^>]*>", line)
    ]
    assert CATALOGUES
    assert tagged == []


def test_callback_data_is_built_in_one_module() -> None:
    builders = [
        str(path.relative_to(ROOT))
        for package in ("handlers", "scheduler", "actions", "bot")
        for path in modules_of(package)
        if re.search(r"callback_data\s*=\s*f[\"']", path.read_text(encoding="utf-8"))
    ]
    assert builders == []
