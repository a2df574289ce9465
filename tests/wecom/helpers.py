"""Set-up shared by the WeCom stories: coordinators who work in WeCom, a wish waiting for review, and the department
城管 with members on WeCom and a wish it could take."""

from __future__ import annotations

from actions import wishes as wish_actions
from actions.env import Env
from bot.app import TongxinApp
from rules.roles import Role
from rules.wishes import Actor, WishDraft
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.wecom import WeComMember, WeComSimulator
from storage import departments, people, users
from storage.wishes import Wish
from tests.conftest import START_TIME
from tests.stories.wishflow import open_wish

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


async def department_member(wecom_bot: TongxinApp, wc: WeComSimulator, name: str, userid: str) -> WeComMember:
    """A WeCom member in 城管 (as a coordinator's approval of their request would make them)."""
    env = wecom_bot.bot_data.env
    async with env.db.write() as conn:
        department = await departments.find_department(conn, "城管")
        person = await people.person_for_identity(
            conn, "wecom", userid, first_name=name, language="zh-CN", now=START_TIME
        )
        await departments.add_member(conn, department.id, person.id, START_TIME)
        await users.grant_role(conn, person.id, Role.DEPARTMENT, granted_by=None, now=START_TIME)
    return wc.member(name, userid)


async def chengguan_with_members(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, *members: tuple[str, str]
) -> list[WeComMember]:
    """王阿姨's open environment wish (W-0001, on Telegram), the department 城管 that takes such wishes in 东城社区, and
    these (name, userid) WeCom members in it."""
    env = wecom_bot.bot_data.env
    await open_wish(env.db, sim.person("王阿姨"), category="environment")
    async with env.db.write() as conn:
        await departments.create_department(
            conn, name="城管", categories=["environment"], areas=["东城社区"], created_by=None, now=START_TIME
        )
    return [await department_member(wecom_bot, wc, name, userid) for name, userid in members]
