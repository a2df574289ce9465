"""Who may run which staff command, and what a role change or a block may touch.

The table below is the one answer to "may this person do this": handlers ask it for every command and
every button, and the role-matrix test reads it to check the bot behaves exactly so. Plain data, no
Telegram.

Whom a command names: a bare number is a Telegram user id (what people can see of each other, and what the usage
texts' examples show); an internal person is written `P-12`, as cards, /staff and notices show them. The two never
mix: "50002" is never read as person 50002.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.settings import WECOM_USERID
from rules.roles import GRANTABLE_BY_ADMIN, STAFF_ROLES, Role, allowed

WECOM_PREFIX = "wecom:"

ADMINS = frozenset({Role.ADMIN})
COORDINATORS = frozenset({Role.COORDINATOR, Role.ADMIN})
STAFF = STAFF_ROLES
HOT_WATCHERS = frozenset({Role.MONITOR, Role.COORDINATOR, Role.EDITOR, Role.ADMIN})

# Staff actions (commands and the buttons that belong to them) and the roles allowed each.
STAFF_ACTIONS: dict[str, frozenset[Role]] = {
    "grant": ADMINS,
    "revoke": ADMINS,
    "audit": ADMINS,
    "staff": STAFF,
    "block": STAFF,
    "unblock": STAFF,
    "stats": STAFF,
    "hot": HOT_WATCHERS,
    "export": COORDINATORS,
    "whistle": COORDINATORS,
    "broadcast": COORDINATORS,
    "hot_to_wish": COORDINATORS,
    "hot_to_lead": frozenset({Role.EDITOR, Role.ADMIN}),
}

AUDIT_DEFAULT_ENTRIES = 20
AUDIT_MAX_ENTRIES = 200


def may(roles: Iterable[Role], action: str) -> bool:
    """Whether someone holding `roles` may perform the staff `action`."""
    return allowed(roles, STAFF_ACTIONS[action])


class RoleChangeError(ValueError):
    """A /grant, /revoke, /block or /unblock that cannot be done; `reason` is a message key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


PERSON_REF = re.compile(r"P-?(\d{1,15})", re.IGNORECASE)


def person_ref(person_id: int) -> str:
    """How an internal person is written wherever staff see one: `P-12`."""
    return f"P-{person_id}"


@dataclass(frozen=True, slots=True)
class Target:
    """Whom a staff command names: an internal person (`P-12`), a Telegram user (a bare number) or a WeCom member
    (`wecom:USERID`)."""

    person_id: int | None = None
    telegram_id: int | None = None
    wecom_userid: str | None = None

    def __str__(self) -> str:
        if self.person_id is not None:
            return person_ref(self.person_id)
        return f"{WECOM_PREFIX}{self.wecom_userid}" if self.wecom_userid is not None else str(self.telegram_id)


@dataclass(frozen=True, slots=True)
class RoleChange:
    """A parsed /grant or /revoke: which role, and the person (None: taken from the replied-to message)."""

    role: Role
    target: Target | None


# Typed role words, Chinese first as the roles' names read; the English names keep working.
ROLE_WORDS = {"协调员": "coordinator", "编辑": "editor", "舆情监测员": "monitor", "监测员": "monitor"}
# /invite also takes the roles people join by link.
INVITE_WORDS = {**ROLE_WORDS, "志愿者": "volunteer", "记者": "reporter", "流动记者": "reporter"}


def invite_role(word: str) -> str:
    """The role an /invite word names (`志愿者` or `volunteer` → "volunteer"); unknown words come back lower-cased."""
    return INVITE_WORDS.get(word.strip(), word.strip().lower())


def parse_role_change(args: Iterable[str]) -> RoleChange:
    """`/grant 编辑 12345` (or `editor`), or `/grant 编辑` replying to a forwarded message → a `RoleChange`."""
    words = list(args)
    if not words:
        raise RoleChangeError("staff.usage_grant")
    role_word = ROLE_WORDS.get(words[0].strip(), words[0].lower())
    if role_word not in {role.value for role in GRANTABLE_BY_ADMIN}:
        raise RoleChangeError("staff.bad_role")
    target = parse_target(words[1]) if len(words) > 1 else None
    return RoleChange(Role(role_word), target)


def parse_target(word: str) -> Target:
    """`P-12` (an internal person), `123456789` (a Telegram user id; positive, at most 15 digits) or `wecom:USERID`
    (a WeCom member by their userid, `WECOM_USERID`)."""
    word = word.strip()
    if word.lower().startswith(WECOM_PREFIX):
        userid = word[len(WECOM_PREFIX) :]
        if not WECOM_USERID.fullmatch(userid):
            raise RoleChangeError("staff.bad_user_id")
        return Target(wecom_userid=userid)
    if (ref := PERSON_REF.fullmatch(word)) is not None and int(ref.group(1)) > 0:
        return Target(person_id=int(ref.group(1)))
    if not word.isdecimal() or len(word) > 15 or int(word) <= 0:
        raise RoleChangeError("staff.bad_user_id")
    return Target(telegram_id=int(word))


def check_block(
    actor_id: int,
    actor_roles: Iterable[Role],
    target_id: int,
    target_roles: Iterable[str],
    admin_ids: Iterable[int],
) -> None:
    """Staff may block residents, volunteers and reporters; only admins may block other staff; no one an admin.

    Nobody blocks themselves (a slip of the finger would lock them out). Every id here is a PERSON id:
    `admin_ids` are the admins' person ids (`storage.people.admin_person_ids(conn, settings.admin_ids)`), not the
    Telegram ids of the settings.
    """
    if actor_id == target_id:
        raise RoleChangeError("staff.cannot_block_self")
    if target_id in set(admin_ids):
        raise RoleChangeError("staff.cannot_block_staff")
    staff_values = {role.value for role in STAFF_ROLES}
    if any(role in staff_values for role in target_roles) and Role.ADMIN not in set(actor_roles):
        raise RoleChangeError("staff.cannot_block_staff")


def clamp_audit_count(word: str | None) -> int:
    """How many audit entries /audit [N] shows: the default, or N bounded to 1..AUDIT_MAX_ENTRIES."""
    if word is None or not word.strip().isdecimal():
        return AUDIT_DEFAULT_ENTRIES
    return max(1, min(int(word), AUDIT_MAX_ENTRIES))
