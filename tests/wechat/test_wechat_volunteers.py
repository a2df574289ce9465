"""Volunteers and reporters on the service account (issue 26, item 2): menus per role through user tags and
conditional menus, invites by parametric QR code, and the volunteer's tasks — open wishes nearest first with
paging, claim, the resident's contact while claimed, 我的任务, 时长 — on the same actions as Telegram."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from actions import applications as application_actions
from actions import invites as invite_actions
from actions import tasks
from actions import whistles as whistle_actions
from actions import wishes as wish_actions
from actions.env import Env
from bot.app import TongxinApp
from channels.wechat.api import WeChatError
from channels.wechat.roles import MENU_TAGS, RETRY_SETUP
from channels.wechat.server import WeChatChannel
from core.clock import ManualClock
from rules import applications as application_rules
from rules import wishes as lifecycle
from rules.roles import Role
from rules.wishes import Actor, WishDraft, WishStatus, wish_ref
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.state import BotMessage
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import applications, people, users, wechat
from storage import tips as tip_store
from storage import wishes as store
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.wishflow import approved_volunteer, wait_for_button

HOME = (39.9000, 116.4000)


def channel_of(bot: TongxinApp) -> WeChatChannel:
    channel = bot.bot_data.wechat
    assert isinstance(channel, WeChatChannel)
    return channel


async def wechat_person_id(env: Env, person: WeChatPerson) -> int:
    async with env.db.read() as conn:
        found = await people.find_person(conn, "wechat", person.openid)
    assert found is not None
    return found.id


async def make_volunteer(
    env: Env, person: WeChatPerson, location: tuple[float, float] | None = HOME, *, synced: bool = True
) -> int:
    """An approved volunteer (registered earlier, set up in the database) whose only account is WeChat."""
    # Wait for the answer to this very message (not an earlier greeting): until it came, the bot may still be
    # reading the person's roles from before the approval below.
    seen = len(person.inbox)
    await person.send_text("你好")
    await person.wait_for_text("许心愿", after=seen)
    person_id = await wechat_person_id(env, person)
    async with env.db.write() as conn:
        await approved_volunteer(conn, person_id, person.name, location=location)
    if synced:  # they write again: the menu of their role is theirs from then on
        seen = len(person.inbox)
        await person.send_text("你好")
        await person.wait_for_text("许心愿", after=seen)
    return person_id


async def volunteer_invite_qr(sim: BotApiSimulator) -> tuple[Person, BotMessage]:
    """The admin asks for a volunteer invite that approves at once; the invite's WeChat QR code arrives as a photo."""
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/invite", "volunteer")
    await wait_for_button(admin, "直接通过")
    await admin.press("直接通过")
    await admin.wait_for(lambda: any(m.kind == "photo" for m in admin.messages))
    qr = next(m for m in admin.messages if m.kind == "photo")
    assert qr.photo_bytes is not None
    return admin, qr


async def open_wishes(env: Env, resident: WeChatPerson, places: list[tuple[float, float]]) -> list[store.Wish]:
    """Open wishes of one resident, at these places, each with her phone number."""
    await resident.send_text("你好")
    await resident.wait_for_text("许心愿")
    resident_id = await wechat_person_id(env, resident)
    made = []
    async with env.db.write() as conn:
        for n, place in enumerate(places):
            made.append(
                await lifecycle.submit_wish(
                    conn,
                    WishDraft(
                        category="elderly_disabled",
                        description=f"第{n + 1}件事：请帮忙买菜送到家里",
                        location=place,
                        phone="13800001234",
                    ),
                    resident_id=resident_id,
                    now=START_TIME,
                    review=False,
                    daily_limit=20,
                )
            )
    return made


async def test_the_role_tags_and_menus_are_set_up_once(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    assert set(MENU_TAGS.values()) <= set(wx.tag_names.values())
    assert wx.menu is not None
    tag_ids = {name: tag_id for tag_id, name in wx.tag_names.items()}
    rules = sorted(m["matchrule"]["tag_id"] for m in wx.conditional_menus)
    assert rules == sorted(str(tag_ids[name]) for name in MENU_TAGS.values())
    before = [m["menuid"] for m in wx.conditional_menus]
    await channel_of(wechat_bot).role_menus.setup()  # a restart
    assert [m["menuid"] for m in wx.conditional_menus] == before
    assert len(wx.tag_names) == 1 + len(MENU_TAGS)  # 星标组 and ours, none twice
    # A conditional menu someone changed by hand in WeChat is put back as it should be.
    wx.conditional_menus[0]["button"] = [{"type": "click", "name": "旧菜单", "key": "OLD"}]
    await channel_of(wechat_bot).role_menus.setup()
    assert len(wx.conditional_menus) == len(MENU_TAGS)
    assert all(m["button"][0]["key"] != "OLD" for m in wx.conditional_menus)


async def test_role_menus_set_up_while_wechat_was_away_are_set_up_later(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock
) -> None:
    env = wechat_bot.bot_data.env
    role_menus = channel_of(wechat_bot).role_menus
    wx.redirecting.add("/cgi-bin/tags/get")  # WeChat's API unreachable (a broken proxy)
    role_menus.tag_ids.clear()
    with pytest.raises(WeChatError):
        await role_menus.setup()
    xiaozhou = wx.person("小周")
    await make_volunteer(env, xiaozhou)
    assert "TASKS" not in wx.menu_keys(xiaozhou.openid)  # tried again, but not at every message
    wx.redirecting.clear()
    clock.advance(RETRY_SETUP)
    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("你好")
    await xiaozhou.wait_for_text("许心愿", after=seen)
    assert "TASKS" in wx.menu_keys(xiaozhou.openid)


async def test_a_volunteer_gets_the_volunteers_menu_and_loses_it_with_the_role(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    xiaozhou = wx.person("小周")
    await xiaozhou.send_text("你好")
    await xiaozhou.wait_for_text("许心愿")
    assert "TASKS" not in wx.menu_keys(xiaozhou.openid)
    person_id = await make_volunteer(env, xiaozhou, synced=False)
    assert "TASKS" not in wx.menu_keys(xiaozhou.openid)  # approved, but WeChat has not heard yet
    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("你好")
    await xiaozhou.wait_for_text("许心愿", after=seen)
    assert {"TASKS", "MYTASKS", "HOURS", "WISH"} <= set(wx.menu_keys(xiaozhou.openid))
    assert wx.menu_keys(xiaozhou.openid)["TASKS"] == "任务"
    async with env.db.write() as conn:
        await users.revoke_role(conn, person_id, Role.VOLUNTEER.value)
    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("你好")
    await xiaozhou.wait_for_text("许心愿", after=seen)
    assert "TASKS" not in wx.menu_keys(xiaozhou.openid)
    assert wx.accounts[xiaozhou.openid].tags == []


async def test_an_approval_on_telegram_reaches_the_wechat_volunteer_with_the_volunteers_menu(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator
) -> None:
    env = wechat_bot.bot_data.env
    xiaozhou = wx.person("小周")
    await xiaozhou.send_text("你好")
    await xiaozhou.wait_for_text("许心愿")
    volunteer_id = await wechat_person_id(env, xiaozhou)
    async with env.db.write() as conn:
        await application_rules.register_volunteer(
            conn,
            user_id=volunteer_id,
            name="小周",
            phone=None,
            skills=("elderly_disabled",),
            area="东城社区",
            location=HOME,
            invite_code=None,
            now=START_TIME,
        )
        application = await applications.find_application(conn, volunteer_id, "volunteer")
    assert application is not None
    coordinator = await staff_actor(env, sim, Role.COORDINATOR)
    await application_actions.approve_volunteer(env, coordinator, application.id)
    told = await xiaozhou.wait_for_text("申请已通过")
    assert "/tasks" not in told.text
    assert "TASKS" in wx.menu_keys(xiaozhou.openid)  # the menu changed before the news arrived


async def test_a_volunteer_claims_the_nearest_wish_and_sees_its_contact_while_it_is_theirs(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    far, near = await open_wishes(env, wang, [(39.99, 116.49), (39.901, 116.401)])
    xiaozhou = wx.person("小周")
    volunteer_id = await make_volunteer(env, xiaozhou)
    await xiaozhou.send_text("任务")
    listed = await xiaozhou.wait_for_text("符合您技能的任务")
    assert listed.text.index(wish_ref(near.ref_no)) < listed.text.index(wish_ref(far.ref_no))
    assert "13800001234" not in listed.text  # browsing shows no phone
    await xiaozhou.tap(f"认领 {wish_ref(near.ref_no)}")
    await xiaozhou.wait_for_text("您打算什么时候去办")
    await xiaozhou.tap("今天认领")
    claimed = await xiaozhou.wait_for_text("13800001234")
    assert any(label.endswith("放弃") for _, label in claimed.items)
    async with env.db.read() as conn:
        wish = await store.get_wish(conn, near.id)
    assert wish.status == WishStatus.CLAIMED
    assert wish.claimed_by == volunteer_id
    # 我的任务 from the menu, and its details again.
    await xiaozhou.click("MYTASKS")
    await xiaozhou.wait_for_text("您认领的 1 个任务")
    seen = len(xiaozhou.inbox)
    await xiaozhou.tap(wish_ref(near.ref_no))
    await xiaozhou.wait_for_text("13800001234", after=seen)
    # Released on Telegram's side (by a coordinator): the details are no longer shown.
    async with env.db.write() as conn:
        await lifecycle.release_wish(
            conn, near.id, actor=Actor(None, frozenset({Role.COORDINATOR})), now=env.now(), reason="居民改期"
        )
    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("我的任务")
    await xiaozhou.wait_for_text("没有认领的任务", after=seen)
    assert all("13800001234" not in r.text for r in xiaozhou.inbox[seen:])


async def test_a_done_task_in_my_tasks_waits_for_the_resident_not_for_the_volunteer(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    """我的任务 showed a done task as "志愿者已完成，等您确认" to the volunteer himself (the resident's wording)."""
    env = wechat_bot.bot_data.env
    (wish,) = await open_wishes(env, wx.person("王阿姨"), [(39.9005, 116.4005)])
    xiaozhou = wx.person("小周")
    await make_volunteer(env, xiaozhou)
    await xiaozhou.send_text("任务")
    await xiaozhou.tap(f"认领 {wish_ref(wish.ref_no)}")
    await xiaozhou.tap("今天认领")
    await xiaozhou.wait_for_text("13800001234")
    async with env.db.write() as conn:
        volunteer = Actor(await wechat_person_id(env, xiaozhou), frozenset({Role.VOLUNTEER}))
        await lifecycle.finish_wish(conn, wish.id, actor=volunteer, now=env.now(), hours=2)
    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("我的任务")
    listed = await xiaozhou.wait_for_text("您认领的 1 个任务", after=seen)
    assert f"{wish_ref(wish.ref_no)} · 助老助残 · 已完成，等居民确认" in listed.text
    assert "等您确认" not in listed.text


async def test_a_volunteer_gives_a_task_up_on_wechat_with_a_reason(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    (wish,) = await open_wishes(env, wang, [(39.9005, 116.4005)])
    xiaozhou = wx.person("小周")
    await make_volunteer(env, xiaozhou)
    await xiaozhou.send_text("任务")
    await xiaozhou.tap(f"认领 {wish_ref(wish.ref_no)}")
    await xiaozhou.tap("今天认领")
    await xiaozhou.wait_for_text("13800001234")
    await xiaozhou.tap("放弃")
    await xiaozhou.wait_for_text("为什么要放弃")
    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("临时要出差，去不了了")
    await xiaozhou.wait_for_text("已放回任务列表", after=seen)
    async with env.db.read() as conn:
        released = await store.get_wish(conn, wish.id)
    assert released.status == WishStatus.OPEN
    assert released.claimed_by is None
    await wang.wait_for_text("重新开放")  # the resident is told, on WeChat


async def test_a_whistle_reaches_a_wechat_volunteer_who_claims_from_it(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator
) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    (wish,) = await open_wishes(env, wang, [(39.9005, 116.4005)])
    xiaozhou = wx.person("小周")
    volunteer_id = await make_volunteer(env, xiaozhou)  # wrote today: his 48-hour quota is open
    coordinator = await staff_actor(env, sim, Role.COORDINATOR)
    await whistle_actions.whistle(env, coordinator, wish.id)
    offer = await xiaozhou.wait_for_text("中心吹哨")
    assert offer.kind == "msgmenu"
    seen = len(xiaozhou.inbox)
    await xiaozhou.tap("今天认领")
    await xiaozhou.wait_for_text("13800001234", after=seen)
    async with env.db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).claimed_by == volunteer_id


async def test_a_wechat_volunteer_agrees_to_give_the_finished_tasks_photo_to_the_editors(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator
) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    (wish,) = await open_wishes(env, wang, [(39.9005, 116.4005)])
    xiaozhou = wx.person("小周")
    volunteer = Actor(await make_volunteer(env, xiaozhou), frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    await tasks.claim(env, volunteer, wish.id, "today")
    # The proof photo (taken on Telegram before WeChat could take it: the task-done form is the layer's).
    sim.files.add(b"\xff\xd8 the fixed handrail", kind="photo", mime_type="image/jpeg", file_id="proof-photo")
    await tasks.finish(env, volunteer, wish.id, hours=1.5, proof="proof-photo", note=None)
    resident = Actor(await wechat_person_id(env, wang), frozenset({Role.RESIDENT}))
    await wish_actions.confirm(env, resident, wish.id)
    asked = await xiaozhou.wait_for_text("融媒体中心可以把您的现场照片作为新闻线索吗")
    assert asked.kind == "msgmenu"
    seen = len(xiaozhou.inbox)
    await xiaozhou.tap("同意")
    agreed = await xiaozhou.wait_for_text("交给编辑", after=seen)
    assert "T-0001" in agreed.text
    async with env.db.read() as conn:
        tip = await tip_store.get_tip(conn, 1)
    assert tip.reporter_id == volunteer.user_id


async def test_a_typed_number_claims_from_the_list_the_volunteer_saw_and_pages_go_on(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    wishes = await open_wishes(env, wang, [(39.9 + n / 100, 116.4) for n in range(7)])
    xiaozhou = wx.person("小周")
    await make_volunteer(env, xiaozhou)
    await xiaozhou.click("TASKS")
    first = await xiaozhou.wait_for_text("第 1/2 页")
    assert [wish_ref(w.ref_no) in first.text for w in wishes] == [True] * 5 + [False] * 2
    await xiaozhou.tap("下一页")
    second = await xiaozhou.wait_for_text("第 2/2 页")
    assert wish_ref(wishes[6].ref_no) in second.text
    assert wish_ref(wishes[0].ref_no) not in second.text
    # "2" is the second item of the page she saw last: the seventh wish, not the second.
    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("2")
    asked = await xiaozhou.wait_for_text("您打算什么时候去办", after=seen)
    assert wish_ref(wishes[6].ref_no) in asked.text


async def test_my_tasks_pages_every_task_the_volunteer_holds(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    wishes = await open_wishes(env, wang, [(39.9 + n / 1000, 116.4) for n in range(9)])
    xiaozhou = wx.person("小周")
    volunteer = Actor(await make_volunteer(env, xiaozhou), frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    async with env.db.write() as conn:  # nine tasks done over the weeks, all waiting for 王阿姨 (set up, not replayed)
        for wish in wishes:
            await lifecycle.claim_wish(conn, wish.id, actor=volunteer, now=START_TIME, due_at=START_TIME)
            await lifecycle.finish_wish(conn, wish.id, actor=volunteer, now=START_TIME, hours=1, proof_file_id=None)
    await xiaozhou.click("MYTASKS")
    first = await xiaozhou.wait_for_text("您认领的 9 个任务")
    assert len(first.items) == 6  # five tasks (the page size of every list) and 下一页
    seen = len(xiaozhou.inbox)
    await xiaozhou.tap("下一页")
    second = await xiaozhou.wait_for_text("您认领的 9 个任务", after=seen)
    assert len(second.items) == 5  # the four others and 上一页
    # Each line has the number of its menu item (what typing it chooses): the ninth task is the fourth line here.
    assert f"4. {wish_ref(wishes[8].ref_no)}" in second.text
    assert second.items[3][1] == f"4. 📋 {wish_ref(wishes[8].ref_no)}"
    shown = {ref for w in wishes if (ref := wish_ref(w.ref_no)) in first.text + second.text}
    assert len(shown) == 9  # every task reachable
    assert any("上一页" in content for _, content in second.items)


async def test_hours_and_the_volunteer_buttons_answer_a_resident_plainly(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    xiaozhou = wx.person("小周")
    await make_volunteer(env, xiaozhou)
    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("时长")  # the menu's 更多 → 时长 too
    await xiaozhou.wait_for_text("您累计服务 0 小时，完成 0 个任务", after=seen)
    await xiaozhou.click("HOURS")
    wang = wx.person("王阿姨")
    await wang.send_text("任务")  # a resident: not a volunteer's word for her
    await wang.wait_for_text("许心愿")


async def test_a_coordinators_invite_reaches_wechat_as_a_qr_code_whose_scan_brings_it(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator
) -> None:
    env = wechat_bot.bot_data.env
    admin, qr = await volunteer_invite_qr(sim)
    # The caption says who is to scan it, and no internal scene ("场景 vinv_…").
    assert "请志愿者用微信扫码" in (qr.text or "")
    assert "vinv_" not in (qr.text or "")
    assert "场景" not in (qr.text or "")
    link = next(m.text for m in admin.messages if m.kind != "photo" and "vinv_" in (m.text or ""))
    newcomer = wx.stranger("小李")
    await newcomer.scan(qr.photo_bytes)  # not following yet: the scan follows the account (subscribe)
    await newcomer.wait_for_text("欢迎加入志愿者队伍")
    await newcomer.wait_for_text("请输入您希望显示的姓名")  # the registration written once begins
    code = re.split(r"[^A-Za-z0-9_-]", (link or "").split("vinv_")[1])[0]
    async with env.db.read() as conn:
        assert await wechat.invite_of(conn, newcomer.openid) == code
    # A follower scanning it again (SCAN) is answered too; the scan's quota (3 a minute) was enough.
    seen = len(newcomer.inbox)
    await newcomer.scan(qr.photo_bytes)
    await newcomer.wait_for_text("请输入您希望显示的姓名", after=seen)


async def staff_actor(env: Env, sim: BotApiSimulator, *roles: Role) -> Actor:
    """The admin, who has written to the bot on Telegram, as an actor holding `roles`."""
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.next_message()
    async with env.db.read() as conn:
        found = await people.find_person(conn, people.TELEGRAM, ADMIN_ID)
    assert found is not None
    return Actor(found.id, frozenset({*roles, Role.ADMIN}))


async def test_an_expired_or_revoked_invite_code_is_said_so(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock, sim: BotApiSimulator
) -> None:
    env = wechat_bot.bot_data.env
    channel = channel_of(wechat_bot)
    admin = await staff_actor(env, sim, Role.COORDINATOR)
    invite = await invite_actions.mint_invite(env, admin, "volunteer")
    image, scene = await channel.invite_qr(invite)
    assert scene == f"vinv_{invite.code}"
    await invite_actions.revoke_invite(env, admin, invite.code)
    xiaoli = wx.person("小李")
    await xiaoli.scan(image)
    await xiaoli.wait_for_text("无效、已撤销、已过期")
    # WeChat's code lives as long as the invite: after it, a scan reaches nobody.
    clock.advance(dt.timedelta(days=8))
    assert await xiaoli.scan(image) is None


async def test_a_reporter_invite_scanned_makes_a_reporter_with_the_reporters_menu(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator
) -> None:
    env = wechat_bot.bot_data.env
    invite = await invite_actions.mint_invite(env, await staff_actor(env, sim, Role.EDITOR), "reporter")
    image, _ = await channel_of(wechat_bot).invite_qr(invite)
    zhang = wx.person("张记者")
    await zhang.scan(image)
    await zhang.wait_for_text("欢迎加入流动记者队伍")
    assert "LEAD" in wx.menu_keys(zhang.openid)
    # 报料 opens the lead form written once (tests/wechat/test_wechat_reporter.py walks it whole).
    await zhang.click("LEAD")
    await zhang.wait_for_text("请发送现场照片")
    seen = len(zhang.inbox)
    await zhang.send_text("取消")
    await zhang.wait_for_text("已取消", after=seen)
    # Words outside any form are not a tip and not a resident's wish: said so, with how to send a lead.
    seen = len(zhang.inbox)
    await zhang.send_text("人民路口水管爆了，水漫到路面")
    told = await zhang.wait_for_text("这条消息没有转给编辑", after=seen)
    assert "回复“报料”" in told.text
    assert "志愿服务" not in told.text  # not the residents' greeting
