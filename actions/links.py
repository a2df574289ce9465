"""One person, two channels: a one-time code joins a second channel's account (a WeChat openid) to a person.

issue (a person, on Telegram: /link): a 6-digit code valid for `CODE_MINUTES`, stored for them.
redeem (the account on the other channel sends the code): the code is spent and the account becomes the
  code's person's (`identities`), so roles and history are shared from then on; None when the code is
  unknown, used or expired. An audit entry records the link.
"""

from __future__ import annotations

import datetime as dt
import secrets

from actions.env import Env
from rules.wishes import Actor
from storage import audit, people, wechat
from storage.errors import NotAllowed

CODE_MINUTES = 10


async def issue(env: Env, actor: Actor) -> str:
    """A fresh one-time code for the acting person."""
    if actor.user_id is None:
        raise NotAllowed("only a person links accounts")
    now = env.now()
    async with env.db.write() as conn:
        while True:
            code = f"{secrets.randbelow(10**6):06d}"
            if await wechat.add_link_code(
                conn, code, actor.user_id, now=now, expires_at=now + dt.timedelta(minutes=CODE_MINUTES)
            ):
                return code


async def redeem(env: Env, code: str, *, channel: str, external_id: str) -> int | None:
    """Spend the code for this account; the person it now belongs to, or None for a bad code."""
    now = env.now()
    async with env.db.write() as conn:
        person_id = await wechat.use_link_code(conn, code.strip(), now=now)
        if person_id is None:
            return None
        if not await people.move_identity(conn, channel, external_id, person_id):
            await people.add_identity(conn, person_id, channel, external_id, now=now)
        await audit.record(conn, actor_id=person_id, action="identity.link", subject=channel, now=now)
    return person_id
