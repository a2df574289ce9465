"""The command menu: which commands exist, who sees them, in which order.

`/help` and the `setMyCommands` menus are both built from this one list. A command's description
is the message `command.<name>`. Add a line here when a feature adds a command.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rules.roles import Role

EVERYONE: frozenset[Role] = frozenset()


@dataclass(frozen=True, slots=True)
class Command:
    """One command and the roles that may use it (empty: everyone)."""

    name: str
    roles: frozenset[Role] = EVERYONE


COMMANDS: tuple[Command, ...] = (
    Command("start"),
    Command("help"),
    Command("language"),
    Command("cancel"),
    Command("invite", frozenset({Role.COORDINATOR, Role.EDITOR})),
)


def commands_for(roles: Iterable[Role]) -> list[Command]:
    """The commands a person with these roles may use, in menu order."""
    held = frozenset(roles)
    return [command for command in COMMANDS if not command.roles or command.roles & held]
