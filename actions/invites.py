"""Team invite links: staff mint them; a person following one joins a team without waiting for review.

Effects, per action:
  mint_invite (coordinators for volunteer links, editors for reporter links): a new invite (valid for
    `INVITE_VALIDITY`, `INVITE_USES` uses); audit `invite.create`. No notices.
  check_invite (anyone, read only): the invite behind a link, if it can still be used. Using it happens in the
    registration it approves (`actions.applications.register_volunteer`; reporters: `actions.tips`).

Refusals: `NotAllowed` (the actor may not mint this kind), `NotFound` (unknown link), `LimitReached` (expired
or used up), `ValueError` (no invites for that role).
"""

from __future__ import annotations

import datetime as dt

from actions.env import Env
from rules.roles import Role
from rules.wishes import Actor
from storage import audit, invites
from storage.errors import NotAllowed

# Who may mint which invite.
MINTERS: dict[str, frozenset[Role]] = {
    "volunteer": frozenset({Role.COORDINATOR, Role.ADMIN}),
    "reporter": frozenset({Role.EDITOR, Role.ADMIN}),
}
INVITE_VALIDITY = dt.timedelta(days=7)
INVITE_USES = 50


def may_mint(roles: frozenset[Role], role: str) -> bool:
    """Whether someone holding `roles` may mint an invite for `role`."""
    return any(held in MINTERS.get(role, frozenset()) for held in roles)


async def mint_invite(env: Env, actor: Actor, role: str) -> invites.Invite:
    """A new invite link's record for `role`."""
    if role not in MINTERS:
        raise ValueError(f"no invites for role {role!r}")
    if actor.user_id is None or not may_mint(actor.roles, role):
        raise NotAllowed(f"minting {role} invites")
    now = env.now()
    async with env.db.write() as conn:
        invite = await invites.create_invite(
            conn, role=role, created_by=actor.user_id, now=now, valid_for=INVITE_VALIDITY, max_uses=INVITE_USES
        )
        await audit.record(conn, actor_id=actor.user_id, action="invite.create", subject=role, now=now)
    return invite


async def check_invite(env: Env, code: str, role: str) -> invites.Invite:
    """The invite behind a link if it can still be used; `NotFound` / `LimitReached` otherwise."""
    async with env.db.read() as conn:
        return await invites.check_invite(conn, code, role, env.now())
