"""Staff administration: granting and revoking staff roles, blocking and unblocking people.

Effects, per action (each in one transaction; a refusal changes nothing):
  grant_role (admins): the role is held (granted by the actor); audit `role.grant`; a notice to the person
    "you were granted <role>", true while they still hold it. Already held: nothing written.
  revoke_role (admins): the role is taken away; audit `role.revoke`; a notice to the person "you no longer
    hold <role>", true while they still lack it. Not held: nothing written.
  block (staff): the person is blocked (every later update of theirs is refused); audit `user.block`. Staff may
    block residents, volunteers and reporters; only admins block staff; nobody blocks an admin or themselves.
    Nobody is told (the blocked person learns it on their next message).
  unblock (staff): the person is unblocked; audit `user.unblock`. Nobody is told.

Refusals: `NotAllowed` (the actor's roles do not allow the action), `NotFound` (the bot never met the person),
`rules.staff.RoleChangeError` (a block the rules forbid; its `reason` is a message key).
"""

from __future__ import annotations

from dataclasses import dataclass

from actions import notices
from actions.env import Env
from actions.messages import Notice
from rules.roles import Role
from rules.staff import check_block, may
from rules.wishes import Actor
from storage import people, staff, users
from storage.errors import NotAllowed


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """A grant or revoke: the person as they are now, the role, and whether anything changed."""

    person: users.User
    role: Role
    changed: bool


@dataclass(frozen=True, slots=True)
class BlockChanged:
    """A block or unblock: the person as they are now, and whether anything changed."""

    person: users.User
    changed: bool


def _allow(actor: Actor, action: str) -> int:
    """The acting person's id, or `NotAllowed` when their roles do not allow the staff action."""
    if actor.user_id is None or not may(actor.roles, action):
        raise NotAllowed(f"{action} needs a staff role")
    return actor.user_id


async def grant_role(env: Env, actor: Actor, person_id: int, role: Role) -> RoleChanged:
    """Give `role` to a person the bot knows; tell them."""
    actor_id = _allow(actor, "grant")
    now = env.now()
    async with env.db.write() as conn:
        changed = await staff.grant(conn, actor_id=actor_id, user_id=person_id, role=role.value, now=now)
        if changed:
            await notices.queue(
                conn,
                person_id,
                Notice("staff.you_were_granted", {"role_key": f"staff.role.{role.value}"}),
                now=now,
                condition=[notices.holds_role(role.value)],
            )
        person = await users.get_user(conn, person_id)
    env.wake()
    return RoleChanged(person, role, changed)


async def revoke_role(env: Env, actor: Actor, person_id: int, role: Role) -> RoleChanged:
    """Take `role` away from a person; tell them."""
    actor_id = _allow(actor, "revoke")
    now = env.now()
    async with env.db.write() as conn:
        changed = await staff.revoke(conn, actor_id=actor_id, user_id=person_id, role=role.value, now=now)
        if changed:
            await notices.queue(
                conn,
                person_id,
                Notice("staff.you_were_revoked", {"role_key": f"staff.role.{role.value}"}),
                now=now,
                condition=[notices.lacks_role(role.value)],
            )
        person = await users.get_user(conn, person_id)
    env.wake()
    return RoleChanged(person, role, changed)


async def block(env: Env, actor: Actor, person_id: int) -> BlockChanged:
    """Block a person from using the bot (the rules of `rules.staff.check_block` apply)."""
    actor_id = _allow(actor, "block")
    async with env.db.write() as conn:
        target = await users.get_user(conn, person_id)
        admins = await people.admin_person_ids(conn, env.settings.admin_ids)
        check_block(actor_id, actor.roles, person_id, target.roles, admins)
        changed = await staff.set_blocked(conn, actor_id=actor_id, user_id=person_id, blocked=True, now=env.now())
        person = await users.get_user(conn, person_id)
    return BlockChanged(person, changed)


async def unblock(env: Env, actor: Actor, person_id: int) -> BlockChanged:
    """Let a blocked person use the bot again."""
    actor_id = _allow(actor, "unblock")
    async with env.db.write() as conn:
        changed = await staff.set_blocked(conn, actor_id=actor_id, user_id=person_id, blocked=False, now=env.now())
        person = await users.get_user(conn, person_id)
    return BlockChanged(person, changed)
