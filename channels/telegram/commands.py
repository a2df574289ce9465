"""The command menu: which commands exist, who sees them, in which order.

`/help` and the `setMyCommands` menus are both built from this one list. A command's description
is the message `command.<name>`. Add a line here when a feature adds a command.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rules.roles import STAFF_ROLES, Role
from rules.staff import STAFF_ACTIONS

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
    # The practice-centre loop (issue 3).
    Command("wish"),
    Command("mywishes"),
    Command("volunteer"),
    Command("tasks", frozenset({Role.VOLUNTEER})),
    Command("mytasks", frozenset({Role.VOLUNTEER})),
    Command("hours", frozenset({Role.VOLUNTEER})),
    Command("top"),
    Command("pending", frozenset({Role.COORDINATOR})),
    # The newsroom loop (issue 4).
    Command("tip"),
    Command("mytips"),
    Command("reporter"),
    Command("review", frozenset({Role.EDITOR})),
    # Privacy and staff tools (issue 6); the roles come from rules/staff.py, the one permission table.
    Command("privacy"),
    Command("mydata"),
    Command("deleteme"),
    Command("hot", STAFF_ACTIONS["hot"]),
    Command("stats", STAFF_ACTIONS["stats"]),
    Command("export", STAFF_ACTIONS["export"]),
    Command("whistle", STAFF_ACTIONS["whistle"]),
    Command("broadcast", STAFF_ACTIONS["broadcast"]),
    Command("staff", STAFF_ACTIONS["staff"]),
    Command("block", STAFF_ACTIONS["block"]),
    Command("unblock", STAFF_ACTIONS["unblock"]),
    Command("grant", STAFF_ACTIONS["grant"]),
    Command("revoke", STAFF_ACTIONS["revoke"]),
    Command("audit", STAFF_ACTIONS["audit"]),
    Command("invite", frozenset({Role.COORDINATOR, Role.EDITOR})),
    Command("invites", frozenset({Role.COORDINATOR, Role.EDITOR})),
    Command("digest", frozenset({Role.VOLUNTEER, Role.COORDINATOR, Role.EDITOR})),
    # Projects, teams and activities (issue 14).
    Command("activities"),
    Command("checkin", frozenset({Role.VOLUNTEER, Role.COORDINATOR})),
    Command("certificate", frozenset({Role.VOLUNTEER})),
    Command("verify"),
    Command("projects"),
    Command("teams"),
    Command("newactivity", frozenset({Role.COORDINATOR})),
    Command("cancelactivity", frozenset({Role.COORDINATOR})),
    Command("editactivity", frozenset({Role.COORDINATOR})),
    Command("newproject", frozenset({Role.COORDINATOR})),
    Command("newteam", frozenset({Role.COORDINATOR})),
    Command("wishproject", frozenset({Role.COORDINATOR})),
    # Departments and cases (issue 15).
    Command("departments", frozenset({Role.COORDINATOR, Role.DEPARTMENT})),
    Command("newdept", frozenset({Role.COORDINATOR})),
    Command("case", frozenset({Role.COORDINATOR})),
    Command("cases", frozenset({Role.DEPARTMENT})),
    Command("rates", STAFF_ACTIONS["stats"]),
    # The monthly report (issue 29): for those who export the centre's data.
    Command("report", STAFF_ACTIONS["export"]),
    # Public-opinion events (issue 29): monitors and coordinators raise and close, editors record a published post.
    Command("event", frozenset({Role.MONITOR, Role.COORDINATOR, Role.EDITOR})),
    Command("events", STAFF_ACTIONS["hot"]),
    # One person, two channels (issue 16): staff and volunteers link their WeChat account.
    Command("link", STAFF_ROLES | {Role.VOLUNTEER}),
)


# Team leadership is data (`teams.leader_id`), not a role: a team leader organizes their team's activities too.
LEADER_COMMANDS = frozenset({"newactivity", "checkin", "cancelactivity", "editactivity"})


def commands_for(roles: Iterable[Role], *, leads_team: bool = False) -> list[Command]:
    """The commands a person with these roles (and, with `leads_team`, a team's leader) may use, in menu order."""
    held = frozenset(roles)
    return [
        command
        for command in COMMANDS
        if not command.roles or command.roles & held or (leads_team and command.name in LEADER_COMMANDS)
    ]
