"""Roles granted from the WeCom application (issue 28 item 2): an admin (WECOM_ADMIN_USERIDS) picks 授权, chooses
among the members the application can see (its visible range: `agent/get` and `user/simplelist`), names a role and
confirms; the grant is Telegram's /grant (`actions.staff`: the audit entry, the member told) and the member then gets
the role's work — a coordinator the review card of the next wish. A member outside the visible range, a role an
admin does not grant, a non-admin's 授权 and an unconfirmed choice change nothing."""

from __future__ import annotations

import re

import pytest

from bot.app import TongxinApp
from channels.wecom.api import WeComApi, WeComError
from simulator import BotApiSimulator
from simulator.wecom import WeComMember, WeComSimulator
from storage import people, staff, users
from tests.wecom.helpers import resident_wish, wecom_coordinator

LIST = "本应用可见范围内的成员"


def number_of(listing: str, userid: str) -> int:
    """The number 授权's list gives the member."""
    found = re.search(rf"^(\d+)\. .*（{re.escape(userid)}）$", listing, re.MULTILINE)
    assert found is not None, listing
    return int(found[1])


async def roles_of(wecom_bot: TongxinApp, userid: str) -> frozenset[str] | None:
    async with wecom_bot.bot_data.env.db.read() as conn:
        person = await people.find_person(conn, "wecom", userid)
    return None if person is None else person.roles


async def the_list(member: WeComMember) -> str:
    """Tap 授权 and read the list it answers."""
    seen = len(member.inbox)
    await member.click("GRANT")
    listing = await member.wait_for(lambda r: r in member.inbox[seen:] and r.kind == "text")
    return listing.text


@pytest.mark.both_databases
async def test_an_admin_grants_a_visible_member_the_coordinator_role_and_they_get_the_review_card(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    chen = wc.member("陈主任", "chenzr")  # an admin by WECOM_ADMIN_USERIDS
    xiaowu = wc.member("小吴", "xiaowu", department=2)  # never wrote to the bot
    wc.outsider("外单位", "waidanwei", department=9)

    listing = await the_list(chen)
    assert LIST in listing
    assert "小吴（xiaowu）" in listing
    assert "陈主任（chenzr）" in listing
    assert "waidanwei" not in listing
    assert "可以授予的角色：协调员、编辑、舆情监测员" in listing

    await chen.send_text(f"授权 {number_of(listing, 'xiaowu')} 协调员")
    await chen.wait_for_text("将授予 小吴（xiaowu）「协调员」角色")
    assert await roles_of(wecom_bot, "xiaowu") is None  # nothing yet: it waits for 确认
    await chen.send_text("确认")
    done = await chen.wait_for_text("已授予 小吴（xiaowu")
    assert "「协调员」" in done.text
    assert await roles_of(wecom_bot, "xiaowu") == frozenset({"coordinator"})
    told = await xiaowu.wait_for_text("管理员授予了您「协调员」角色")
    assert "Telegram" not in told.text
    assert "/help" not in told.text
    async with env.db.read() as conn:
        chen_person = await people.find_person(conn, "wecom", "chenzr")
        xiaowu_person = await people.find_person(conn, "wecom", "xiaowu")
        audit = await staff.recent_audit(conn, 10)
    assert chen_person is not None
    assert xiaowu_person is not None
    grants = [e for e in audit if e.action == "role.grant"]
    assert len(grants) == 1
    assert (grants[0].actor_id, grants[0].subject, grants[0].detail) == (
        chen_person.id,
        f"user:{xiaowu_person.id}",
        "coordinator",
    )

    # The new coordinator's work reaches them: the next wish's review card.
    await resident_wish(env, sim.person("王阿姨"))
    await xiaowu.wait_for_card("W-0001")

    # A member outside the visible range is refused, by userid or beyond the list's numbers; nobody is created.
    await chen.send_text("授权 waidanwei 编辑")
    await chen.wait_for_text("“waidanwei”不在本应用的可见范围内")
    await chen.send_text("授权 99 编辑")
    await chen.wait_for_text("“99”不在本应用的可见范围内")
    assert await roles_of(wecom_bot, "waidanwei") is None

    # Taking it back: 撤销 with the list's number, confirmed.
    await chen.send_text(f"撤销 {number_of(listing, 'xiaowu')} 协调员")
    await chen.wait_for_text("将收回 小吴（xiaowu）的「协调员」角色")
    await chen.send_text("确认")
    await chen.wait_for_text("已收回 小吴（xiaowu")
    assert await roles_of(wecom_bot, "xiaowu") == frozenset()
    await xiaowu.wait_for_text("您的「协调员」角色已被收回")


async def test_a_non_admins_grant_is_refused_and_an_unconfirmed_or_bad_choice_changes_nothing(
    wecom_bot: TongxinApp, wc: WeComSimulator
) -> None:
    env = wecom_bot.bot_data.env
    xiaowu = wc.member("小吴", "xiaowu")
    chen = wc.member("陈主任", "chenzr")
    li = await wecom_coordinator(env, wc, "李协调", "lixt")  # staff, but not an admin

    for member in (xiaowu, li):
        await member.send_text("授权 1 协调员")
        await member.wait_for_text("这一项需要“管理员”的角色")
        assert all(LIST not in r.text and "将授予" not in r.text for r in member.inbox)
    assert await roles_of(wecom_bot, "xiaowu") in (None, frozenset())

    listing = await the_list(chen)
    n = number_of(listing, "xiaowu")
    await chen.send_text(f"授权 {n} 管理员")  # admins come from the settings, not from a grant
    await chen.wait_for_text("“管理员”不是可以授予的角色")
    await chen.send_text(f"授权 {n}")
    await chen.wait_for_text("请写成“授权 序号 角色”")
    await chen.send_text(f"授权 {n} 编辑")
    await chen.wait_for_text("将授予 小吴（xiaowu）「编辑」角色")
    await chen.send_text("取消")
    await chen.wait_for_text("好的，没有改动")
    await chen.send_text(f"授权 {n} 编辑")
    await chen.wait_for(lambda _r: sum("将授予" in r.text for r in chen.inbox) == 2)
    await chen.send_text("好的")  # not 确认: dropped
    await chen.wait_for_text("没有确认，角色未作改动")
    await chen.send_text("确认")  # too late: no change waits
    await chen.wait_for_text("同心工作台")
    assert await roles_of(wecom_bot, "xiaowu") in (None, frozenset())
    async with env.db.read() as conn:
        assert [e for e in await staff.recent_audit(conn, 10) if e.action == "role.grant"] == []

    # An admin reading English gets the list and the roles in English, and names the role in English.
    async with env.db.write() as conn:
        chen_person = await people.find_person(conn, "wecom", "chenzr")
        assert chen_person is not None
        await users.set_language(conn, chen_person.id, "en")
    english = await the_list(chen)
    assert "Members the application can see" in english
    assert "Roles you can grant: coordinator, editor, monitor" in english
    await chen.send_text(f"授权 {n} editor")
    await chen.wait_for_text("This grants 小吴 (xiaowu) the")


async def test_the_simulator_lists_only_the_visible_range(wc: WeComSimulator, api: WeComApi) -> None:
    """path/90227 and path/90200: the visible departments' members; a department outside the range 60011, an
    unknown one 60003."""
    wc.member("小吴", "xiaowu", department=2)
    wc.outsider("外单位", "waidanwei", department=9)
    wc.visible_userids.add("zhuanyuan")  # named one by one in the visible range
    assert await api.visible_members(50) == [("xiaowu", "小吴"), ("zhuanyuan", "zhuanyuan")]
    assert await api.visible_members(1) == [("xiaowu", "小吴")]
    for department, errcode in (("9", 60011), ("77", 60003), ("x", 40058)):
        with pytest.raises(WeComError) as refused:
            await api._get("/cgi-bin/user/simplelist", {"department_id": department})
        assert refused.value.errcode == errcode
    assert [r.errcode for r in wc.refusals] == [60011, 60003, 40058]
