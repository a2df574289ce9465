"""Set-up shared by the WeCom stories: coordinators who work in WeCom, and a wish waiting for review."""

from __future__ import annotations

from actions import wishes as wish_actions
from actions.env import Env
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from simulator.people import Person
from simulator.wecom import WeComMember, WeComSimulator
from storage import people, users
from storage.wishes import Wish
from tests.conftest import START_TIME

DESCRIPTION = "楼道的灯坏了，晚上看不见台阶"


async def wecom_coordinator(env: Env, wc: WeComSimulator, name: str, userid: str) -> WeComMember:
    """A member granted the coordinator role (as `/grant coordinator` would), known to the bot by their userid."""
    async with env.db.write() as conn:
        person = await people.person_for_identity(
            conn, "wecom", userid, first_name=name, language="zh-CN", now=START_TIME
        )
        await users.grant_role(conn, person.id, Role.COORDINATOR, granted_by=None, now=START_TIME)
    return wc.member(name, userid)


async def resident_wish(env: Env, wang: Person) -> Wish:
    """Her wish (a resident on Telegram), submitted and waiting for review (its notices queued for coordinators)."""
    async with env.db.write() as conn:
        resident = await people.person_for_identity(
            conn, people.TELEGRAM, wang.user_id, first_name=wang.first_name, language="zh-CN", now=START_TIME
        )
    submitted = await wish_actions.submit(
        env, Actor(resident.id), WishDraft("elderly_disabled", DESCRIPTION, area="东城社区", address="幸福路12号")
    )
    return submitted.wish
