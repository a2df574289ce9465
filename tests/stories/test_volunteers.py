"""Stories of volunteers: registering and being approved in /pending, finding tasks, releasing one,
being told "not done yet", and the coordinator's review of wishes."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from rules import wishes as lifecycle
from rules.wishes import SYSTEM
from simulator import BotApiSimulator
from storage import applications, users
from storage import volunteers as profiles
from storage import wishes as store
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.wishflow import (
    approved_volunteers,
    claim_from_tasks,
    given_person,
    open_from_list,
    open_wish,
    person_id,
    wait_for_button,
    write_wish,
)


async def test_a_volunteer_registers_and_a_coordinator_approves(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.wait_for_text("您好")
    xiaoli = sim.person("小李")
    await xiaoli.send_command("/volunteer")
    await xiaoli.wait_for_text("姓名")
    await xiaoli.send_sticker()
    await xiaoli.wait_for_text("请输入文字姓名")
    await xiaoli.send_text("李小龙")
    await xiaoli.wait_for_text("留个电话")
    await xiaoli.press_reply_button("📞 分享我的手机号")
    await xiaoli.wait_for_text("您能提供哪些服务")
    await xiaoli.press("选好了")
    await xiaoli.wait_for(lambda: any("至少选择一项" in a for a in xiaoli.callback_answers))
    await xiaoli.press("义诊服务")
    await wait_for_button(xiaoli, "✅ 义诊服务")
    await xiaoli.press("环境整治")
    await wait_for_button(xiaoli, "✅ 环境整治")
    await xiaoli.press("选好了")
    await xiaoli.wait_for_text("哪个镇")
    await xiaoli.press("西城社区")
    await xiaoli.wait_for_text("分享一下您的位置")
    await xiaoli.press_reply_button("跳过")
    await xiaoli.wait_for_text("报名已提交")

    await admin.wait_for_text("申请成为志愿者")
    await admin.send_command("/pending")
    await open_from_list(admin, "🙋")
    card = await admin.wait_for_text("姓名：李小龙")
    assert "李小龙" in card.text
    assert "义诊服务" in card.text
    assert xiaoli.phone in card.text
    await admin.press("✅ 通过")
    await xiaoli.wait_for_text("申请已通过")
    async with bot.bot_data.db.read() as conn:
        person = await users.get_user(conn, await person_id(conn, xiaoli))
        profile = await profiles.get_volunteer(conn, await person_id(conn, xiaoli))
    assert "volunteer" in person.roles
    assert profile.skills == frozenset({"free_clinic", "environment"})
    assert profile.area == "西城社区"
    # The menu is set after the approval notice (paced like every request to that chat).
    await xiaoli.wait_for(
        lambda: "tasks" in [c["command"] for c in sim.commands({"type": "chat", "chat_id": xiaoli.user_id})],
        what="the volunteer's command menu",
    )
    menu = [c["command"] for c in sim.commands({"type": "chat", "chat_id": xiaoli.user_id})]
    assert "tasks" in menu
    assert "mytasks" in menu

    await xiaoli.send_command("/tasks")
    await xiaoli.wait_for_text("没有符合您技能的任务")


async def test_a_rejected_application_hears_the_reason(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    xiaoli = sim.person("小李")
    await xiaoli.send_command("/start", "vinv_nosuchcode")
    await xiaoli.wait_for_text("邀请链接无效")
    await wait_for_button(xiaoli, "使用“小李”")
    await xiaoli.press("使用“小李”")
    await xiaoli.wait_for_text("留个电话")
    await xiaoli.send_text("13800001111")
    await xiaoli.wait_for_text("您能提供哪些服务")
    await xiaoli.press("其他")
    await wait_for_button(xiaoli, "✅ 其他")
    await xiaoli.press("选好了")
    await xiaoli.wait_for_text("哪个镇")
    await xiaoli.press("桃园村")
    await xiaoli.wait_for_text("分享一下您的位置")
    await xiaoli.press_reply_button("跳过")
    await xiaoli.wait_for_text("报名已提交")

    await admin.send_command("/pending")
    await open_from_list(admin, "🙋")
    await wait_for_button(admin, "✖️ 不通过")
    await admin.press("✖️ 不通过")
    await admin.wait_for_text("原因")
    await admin.send_sticker()  # not the reason: asked again, nothing decided
    await admin.wait_for_text("请用文字回复")
    await admin.send_text("培" * 501)  # past the limit: asked again with it
    await admin.wait_for_text("请控制在 500 字以内")
    await admin.send_text("请先参加一次志愿者培训")
    await admin.wait_for_text("原因已发送")
    notice = await xiaoli.wait_for_text("申请未通过")
    assert "请先参加一次志愿者培训" in notice.text
    async with bot.bot_data.db.read() as conn:
        application = await applications.find_application(conn, await person_id(conn, xiaoli), "volunteer")
    assert application is not None
    assert application.status == "rejected"


async def test_tasks_match_skills_nearest_first_in_pages(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await approved_volunteers(db, [xiaoli], skills=("elderly_disabled",), location=(31.0, 121.0))
    far = await open_wish(db, alice, description="远处的老人需要陪同就医", location=(31.5, 121.0))
    near = await open_wish(db, alice, description="近处的老人需要买菜", location=(31.01, 121.0))
    for n in range(5):
        await open_wish(db, alice, description=f"没有位置的心愿第{n}个")
    await open_wish(db, alice, description="义诊需要帮忙排队", category="free_clinic")

    await xiaoli.send_command("/tasks")
    first = await xiaoli.wait_for_text("第 1/2 页")
    assert first.text.index(near.description) < first.text.index(far.description)
    assert "距您约" in first.text
    assert "义诊需要帮忙排队" not in first.text
    assert "幸福路" not in first.text
    await xiaoli.press("下一页 ▶")
    second = await xiaoli.wait_for_text("第 2/2 页")
    assert "没有位置的心愿第3个" in second.text
    await xiaoli.press("◀ 上一页")
    await xiaoli.wait_for_text("第 1/2 页")
    await xiaoli.press("显示全部")
    await xiaoli.wait_for_text("全部可认领的任务（第 1/2 页）")
    await xiaoli.press("下一页 ▶")
    everything = await xiaoli.wait_for_text("第 2/2 页")
    assert "义诊需要帮忙排队" in everything.text


async def test_release_with_a_reason_and_not_done_yet(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await approved_volunteers(db, [xiaoli])
    wish = await open_wish(db, alice, location=(31.2304, 121.4737))

    await claim_from_tasks(xiaoli, when="明天认领")
    await xiaoli.wait_for_text("您认领了")
    await xiaoli.wait_for(lambda: any(m.location for m in xiaoli.messages), what="the map pin of her home")
    await xiaoli.send_command("/mytasks")
    await wait_for_button(xiaoli, "📋 W-0001")
    await xiaoli.press("📋 W-0001")
    await wait_for_button(xiaoli, "↩️ 放弃")
    await xiaoli.press("↩️ 放弃")
    await xiaoli.wait_for_text("为什么要放弃")
    await xiaoli.send_text("临时出差")
    await xiaoli.wait_for_text("已放回任务列表")
    # Both cards that showed the address (after the claim, and from /mytasks) no longer show it, nor their buttons.
    await xiaoli.wait_for(
        lambda: not any("幸福路12号" in (m.text or "") or "完成了" in str(m.inline_buttons) for m in xiaoli.messages),
        what="the contact cards withdrawn",
    )
    # The map pins (after the claim, and from /mytasks) are deleted: the place itself is a contact detail.
    await xiaoli.wait_for(lambda: not any(m.location for m in xiaoli.messages), what="the map pins deleted")
    await alice.wait_for_text("心愿已重新开放")
    async with db.read() as conn:
        stored = await store.get_wish(conn, wish.id)
        events = await store.events_of(conn, wish.id)
    assert (stored.status, stored.claimed_by) == ("open", None)
    assert events[-1].note == "临时出差"

    await claim_from_tasks(xiaoli, when="本周内认领")
    await xiaoli.wait_for_text("您认领了")
    await xiaoli.send_command("/mytasks")
    # The new list, not the first round's (which still shows the button): replies to a chat are paced.
    listing = await xiaoli.wait_for_text("您认领的 1 个任务")
    await xiaoli.press("📋 W-0001", message=listing)
    await wait_for_button(xiaoli, "✅ 完成了")
    await xiaoli.press("✅ 完成了")
    await xiaoli.wait_for_text("用了多长时间")
    await xiaoli.send_text("三个小时")
    await xiaoli.wait_for_text("小时数")
    await xiaoli.send_text("30")
    await xiaoli.wait_for_text("小时数")
    await xiaoli.send_text("1.5")
    await xiaoli.wait_for_text("完成后的照片")
    await xiaoli.send_document(b"%PDF", filename="proof.pdf")
    await xiaoli.wait_for_text("以“照片”方式发送")
    await xiaoli.press("跳过")
    await xiaoli.wait_for_text("留句话")
    await xiaoli.send_text("菜已经买好放在门口")
    await xiaoli.wait_for_text("辛苦了")

    asked = await alice.wait_for_text("已经办好了")
    assert "1.5" in asked.text
    assert "留言：菜已经买好放在门口" in asked.text
    await alice.press("还没办好")
    await alice.wait_for_text("还有哪里没办好")
    await alice.send_text("卫生还没打扫")
    await alice.wait_for_text("已转告志愿者")
    back = await xiaoli.wait_for_text("还没办好")
    assert "卫生还没打扫" in back.text
    async with db.read() as conn:
        stored = await store.get_wish(conn, wish.id)
    assert (stored.status, stored.claimed_by, stored.resident_note, stored.hours) == (
        "claimed",
        await person_id(db, xiaoli),
        "卫生还没打扫",
        None,
    )
    # The resident's /mywishes offers Cancel while it is claimed, and nothing to confirm.
    await alice.send_command("/mywishes")
    listed = await alice.wait_for_text("志愿者已认领")
    assert listed.inline_buttons == [["📋 W-0001"]]
    await alice.press("📋 W-0001")
    await alice.wait_for_text("状态")
    assert alice.last_message is not None
    assert alice.last_message.inline_buttons == [["取消这个心愿"]]


async def test_coordinator_rejects_with_a_reason_and_changes_a_category(bot: TongxinApp, sim: BotApiSimulator) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    alice = sim.person("王阿姨")
    await write_wish(alice)
    await alice.wait_for_text("W-0001")
    await admin.send_command("/pending")
    await open_from_list(admin, "📋 W-0001")
    await wait_for_button(admin, "🏷 修改类别")
    await admin.press("🏷 修改类别")
    await wait_for_button(admin, "困难帮扶")
    await admin.press("困难帮扶")
    await admin.wait_for_text("困难帮扶")
    await admin.press("✖️ 不通过")
    await admin.wait_for_text("原因")
    await admin.send_text("怎么填")  # a help word: where she is, and the question again
    await admin.wait_for_text("您正在填写不通过的原因")
    await admin.send_sticker()
    await admin.wait_for_text("请用文字回复")
    await admin.send_text("请直接联系社区居委会办理")
    await admin.wait_for_text("原因已发送")
    rejected = await alice.wait_for_text("未通过审核")
    assert "请直接联系社区居委会办理" in rejected.text
    async with bot.bot_data.db.read() as conn:
        wish = await store.get_wish_by_ref(conn, 1)
    assert (wish.status, wish.category, wish.reject_reason) == ("rejected", "hardship_help", "请直接联系社区居委会办理")
    # A second press of the stale Approve button is answered and changes nothing.
    await admin.press("✅ 通过")
    await admin.wait_for(lambda: any("未通过审核" in a for a in admin.callback_answers))

    # Not for residents.
    await alice.send_command("/pending")
    await alice.wait_for_text("没有权限")


async def test_a_volunteer_in_english_and_the_scheduler_functions(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    alice, bob = sim.person("王阿姨"), sim.person("Bob", language_code="en")
    await approved_volunteers(db, [bob])
    async with db.write() as conn:
        await users.set_language(conn, await person_id(conn, bob), "en")
    wish = await open_wish(db, alice)
    await bob.send_command("/tasks")
    await bob.wait_for_text("Tasks matching your skills")
    await bob.press("View W-0001")
    await wait_for_button(bob, "Claim: today")
    await bob.press("Claim: today")
    await bob.wait_for_text("You took W-0001")
    # The card with Done is shown (and remembered: a card that arrives after its claim ended is withdrawn at once).
    await wait_for_button(bob, "✅ Done")
    await sim.settle()
    # A release straight through the lifecycle, which withdraws no card, leaves a stale Done; a press on it is
    # explained.
    async with db.write() as conn:
        await lifecycle.release_wish(conn, wish.id, actor=SYSTEM, now=wish.created_at + dt.timedelta(days=3))
    await bob.send_command("/hours")
    await bob.wait_for_text("No confirmed service this month")
    await bob.press("✅ Done")
    await bob.wait_for(lambda: any("no longer yours" in a for a in bob.callback_answers))


@pytest.mark.both_databases  # ids beyond PostgreSQL's integer types must never reach a query
async def test_a_malformed_or_forged_task_button_is_answered(bot: TongxinApp, sim: BotApiSimulator) -> None:
    db = bot.bot_data.db
    alice, xiaoli, zhou = sim.person("王阿姨"), sim.person("小李"), sim.person("周协调")
    await approved_volunteers(db, [xiaoli])
    wish = await open_wish(db, alice)
    await xiaoli.send_command("/tasks")
    any_message = await xiaoli.wait_for_text("W-0001")

    # Data this bot never sends: a claim for "someday", an id of 26 digits, a page without its flag.
    for data in (f"task:claim:{wish.id}:someday", "task:view:" + "9" * 26, "task:page:1", "task:hours:3"):
        sim.callback_query(xiaoli, any_message, data)
    await sim.settle()
    assert sum("按钮已经失效" in a for a in xiaoli.callback_answers) == 4
    async with db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == "open"

    # A whistle press from someone who is not a coordinator is refused, a forged one explained.
    sim.callback_query(xiaoli, any_message, f"whistle:{wish.id}")
    await xiaoli.wait_for(lambda: any("没有权限" in a for a in xiaoli.callback_answers))
    async with db.write() as conn:
        zhou_id = await given_person(conn, zhou)
        await users.grant_role(conn, zhou_id, "coordinator", granted_by=None, now=START_TIME)
    await zhou.send_command("/start")
    greeting = await zhou.next_message()
    sim.callback_query(zhou, greeting, "whistle:abc")
    await zhou.wait_for(lambda: any("按钮已经失效" in a for a in zhou.callback_answers))
    assert sim.invalid_requests == []
