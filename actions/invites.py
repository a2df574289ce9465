"""Team invite links: staff mint them; a person following one joins a team at once, or applies for review.

Effects, per action:
  mint_invite (coordinators for volunteer links, editors for reporter links): a new invite, "approve at once"
    or "needs review" as the minter chose (valid for `INVITE_VALIDITY`, `INVITE_USES` uses); audit
    `invite.create`. No notices. Admins mint staff invites (coordinator, editor, monitor): single use, valid for
    `STAFF_INVITE_VALIDITY`, the role given at once to whoever opens it (`join_staff`) — the easy way to make
    someone staff without knowing any id.
  join_staff (whoever opens a staff invite): the role, granted in the minting admin's name; audit `invite.use`
    and `role.grant`; the person and the admin are told.
  live_invites (the same staff, read only): a page of the invites they may mint that can still be used, for
    /invites (`SHOWN` a page, every one reachable).
  revoke_invite (the same staff): the invite can no longer be used; audit `invite.revoke`. No notices.
  check_invite (anyone, read only): the invite behind a link, if it can still be used. Using it happens in the
    registration it approves (`actions.applications.register_volunteer`; reporters: `actions.tips`), which
    records audit `invite.use` for every use.

Refusals: `NotAllowed` (the actor may not mint this kind), `NotFound` (unknown link), `LimitReached` (revoked,
expired or used up), `ValueError` (no invites for that role).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from actions import notices
from actions.env import Env
from actions.messages import Notice
from rules.roles import Role
from rules.wishes import Actor
from storage import audit, invites, staff, users
from storage.errors import LimitReached, NotAllowed, NotFound
from storage.users import User

# Who may mint which invite.
MINTERS: dict[str, frozenset[Role]] = {
    "volunteer": frozenset({Role.COORDINATOR, Role.ADMIN}),
    "reporter": frozenset({Role.EDITOR, Role.ADMIN}),
    "coordinator": frozenset({Role.ADMIN}),
    "editor": frozenset({Role.ADMIN}),
    "monitor": frozenset({Role.ADMIN}),
}
INVITE_VALIDITY = dt.timedelta(days=7)
INVITE_USES = 20
# Staff roles by invite: one person, one day, no review (the admin chose whom to send it to).
STAFF_INVITES = frozenset({"coordinator", "editor", "monitor"})
STAFF_INVITE_VALIDITY = dt.timedelta(days=1)
# How a link admits people: at once, or as an application staff still decide.
MODES = ("open", "review")
# Invites on one page of /invites (each line carries its link).
SHOWN = 5


@dataclass(frozen=True, slots=True)
class Live:
    """One page of live invites: those shown, how many there are, the page actually shown (clamped)."""

    invites: list[invites.Invite]
    total: int
    page: int


def may_mint(roles: frozenset[Role], role: str) -> bool:
    """Whether someone holding `roles` may mint an invite for `role`."""
    return any(held in MINTERS.get(role, frozenset()) for held in roles)


async def mint_invite(env: Env, actor: Actor, role: str, *, needs_review: bool = False) -> invites.Invite:
    """A new invite link's record for `role`."""
    if role not in MINTERS:
        raise ValueError(f"no invites for role {role!r}")
    if actor.user_id is None or not may_mint(actor.roles, role):
        raise NotAllowed(f"minting {role} invites")
    now = env.now()
    for_staff = role in STAFF_INVITES
    async with env.db.write() as conn:
        invite = await invites.create_invite(
            conn,
            role=role,
            created_by=actor.user_id,
            now=now,
            valid_for=STAFF_INVITE_VALIDITY if for_staff else INVITE_VALIDITY,
            max_uses=1 if for_staff else INVITE_USES,
            needs_review=needs_review and not for_staff,
        )
        mode = "review" if needs_review else "open"
        await audit.record(
            conn, actor_id=actor.user_id, action="invite.create", subject=f"{role}:{invite.code}:{mode}", now=now
        )
    return invite


async def live_invites(env: Env, actor: Actor, page: int = 0) -> Live:
    """A page of the usable invites of every role the actor may mint (`NotAllowed` when none); a page past the
    end shows the last one."""
    roles = [role for role in MINTERS if may_mint(actor.roles, role)]
    if actor.user_id is None or not roles:
        raise NotAllowed("listing invites")
    page = max(0, page)
    async with env.db.read() as conn:
        shown, total = await invites.live_invites(conn, roles, env.now(), offset=page * SHOWN, limit=SHOWN)
        if not shown and total and page:
            page = (total - 1) // SHOWN
            shown, total = await invites.live_invites(conn, roles, env.now(), offset=page * SHOWN, limit=SHOWN)
    return Live(shown, total, page)


async def revoke_invite(env: Env, actor: Actor, code: str) -> invites.Invite:
    """Stop an invite from admitting anyone; `NotFound`, `NotAllowed`, or `LimitReached` when already revoked."""
    now = env.now()
    async with env.db.write() as conn:
        invite = await invites.check_invite_any(conn, code)
        if actor.user_id is None or not may_mint(actor.roles, invite.role):
            raise NotAllowed(f"revoking {invite.role} invites")
        if not await invites.revoke_invite(conn, code, now):
            raise LimitReached(f"invite {code} already revoked")
        await audit.record(
            conn, actor_id=actor.user_id, action="invite.revoke", subject=f"{invite.role}:{code}", now=now
        )
    return invite


async def join_staff(env: Env, actor: Actor, code: str) -> tuple[User, Role, bool]:
    """Open a staff invite: the person as now stored, the role, and whether it was new to them. `NotFound` /
    `LimitReached` for an unknown, used, expired or revoked link (or one that is not a staff invite)."""
    if actor.user_id is None:
        raise NotAllowed("nobody")
    now = env.now()
    async with env.db.write() as conn:
        found = await invites.check_invite_any(conn, code)
        if found.role not in STAFF_INVITES:
            raise NotFound(f"staff invite {code}")
        invite = await invites.use_invite(conn, code, found.role, now)
        await audit.record(conn, actor_id=actor.user_id, action="invite.use", subject=f"{invite.role}:{code}", now=now)
        role = Role(invite.role)
        changed = await staff.grant(conn, actor_id=invite.created_by, user_id=actor.user_id, role=role.value, now=now)
        person = await users.get_user(conn, actor.user_id)
        if changed:
            await notices.queue(
                conn,
                invite.created_by,
                Notice("staff.invite_used", {"name": person.display_name, "role_key": f"staff.role.{role.value}"}),
                now=now,
                about=[actor.user_id],
            )
    env.wake()
    return person, role, changed


async def check_invite(env: Env, code: str, role: str) -> invites.Invite:
    """The invite behind a link if it can still be used; `NotFound` / `LimitReached` otherwise."""
    async with env.db.read() as conn:
        return await invites.check_invite(conn, code, role, env.now())
