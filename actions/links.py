"""One person, two channels: a one-time code joins a second channel's account (a WeChat openid, a WeCom userid) to a
person, once that person says yes.

issue (a person, on Telegram: /link): a 6-digit code valid for `CODE_MINUTES`; their earlier codes stop working.
redeem (the account on the other channel sends the code):
  - an account that sent `LOCK_AFTER` wrong codes within `LOCKED_FOR` is refused until the first of them is that
    old (`locked`), whatever it sends;
  - a wrong code counts against the account and against every live code: a code is void after 5 wrong guesses by
    anyone, so a million codes cannot be tried against one (`invalid`);
  - a right code is spent and asks the code's person, on the account being joined, "a WeChat account wants to join
    you: yes / no" (a notice with two buttons; `requested`). Nothing is joined yet.
decide (the code's person presses yes or no): yes joins the account to them (`identities`; roles and history are
  shared from then on), no leaves it as it was; either way once. Audit `identity.link` / `identity.link_declined`.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass
from typing import Literal

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Notice
from rules.wishes import Actor
from storage import audit, people
from storage import links as store
from storage.errors import Conflict, NotAllowed, NotFound

CODE_MINUTES = 10
LOCK_AFTER = 5
LOCKED_FOR = dt.timedelta(hours=1)

Redemption = Literal["requested", "invalid", "locked", "already"]


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What sending a code did; `minutes` a locked-out account must still wait."""

    outcome: Redemption
    minutes: int = 0


async def issue(env: Env, actor: Actor) -> str:
    """A fresh one-time code for the acting person (their earlier ones stop working)."""
    if actor.user_id is None:
        raise NotAllowed("only a person links accounts")
    now = env.now()
    async with env.db.write() as conn:
        while True:
            code = f"{secrets.randbelow(10**6):06d}"
            expires_at = now + dt.timedelta(minutes=CODE_MINUTES)
            if await store.add_code(conn, code, actor.user_id, now=now, expires_at=expires_at):
                return code


async def redeem(env: Env, code: str, *, channel: str, external_id: str) -> Redeemed:
    """Send a code from an account: ask the code's person, or refuse (see the module's text)."""
    now = env.now()
    async with env.db.write() as conn:
        failures, first = await store.recent_failures(conn, channel, external_id, since=now - LOCKED_FOR)
        if failures >= LOCK_AFTER and first is not None:
            return Redeemed("locked", _minutes_until(first + LOCKED_FOR, now))
        person_id = await store.spend_code(conn, code.strip(), now=now)
        if person_id is None:
            await store.count_wrong_guess(conn, channel, external_id, now=now)
            if failures + 1 >= LOCK_AFTER:
                return Redeemed("locked", _minutes_until(now + LOCKED_FOR, now))
            return Redeemed("invalid")
        current = await people.find_person(conn, channel, external_id)
        if current is not None and current.id == person_id:
            return Redeemed("already")
        request_id = await store.add_request(conn, person_id, channel, external_id, now=now)
        notice = Notice(
            "link.request",
            {"channel": channel, "account_key": f"link.account.{channel}"},
            ((Button("link.button.yes", Act.LINK_YES, request_id), Button("link.button.no", Act.LINK_NO, request_id)),),
        )
        await notices.queue(conn, person_id, notice, now=now, lane="urgent", dedupe_key=f"link-request:{request_id}")
    env.wake()
    return Redeemed("requested")


async def decide(env: Env, actor: Actor, request_id: int, *, join: bool) -> Literal["joined", "declined"]:
    """The code's person says whether the account is theirs; `Conflict` if it was decided before."""
    now = env.now()
    async with env.db.write() as conn:
        request = await store.get_request(conn, request_id)
        if request is None:
            raise NotFound(f"link request {request_id}")
        if request.person_id != actor.user_id:
            raise NotAllowed("not the person asked")
        status: Literal["joined", "declined"] = "joined" if join else "declined"
        if not await store.decide_request(conn, request_id, status, now=now):
            raise Conflict("decided", current=request.status)
        if join and not await people.move_identity(conn, request.channel, request.external_id, request.person_id):
            await people.add_identity(conn, request.person_id, request.channel, request.external_id, now=now)
        action = "identity.link" if join else "identity.link_declined"
        await audit.record(conn, actor_id=request.person_id, action=action, subject=request.channel, now=now)
    return status


def _minutes_until(when: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((when - now).total_seconds() / 60))
