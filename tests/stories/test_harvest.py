"""Stories of contact harvesting (issue 12): a new volunteer who joined through a team invite forges claim presses
for every open wish; they get at most MAX_ACTIVE_CLAIMS residents' phones and addresses, each refusal is
explained, and the coordinators are alerted. Invites: approve at once or need review, listed and revoked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from actions import lapses
from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from simulator.people import Person
from storage import invites as invite_store
from storage.db import Database
from storage.schema import audit_log, invites, wishes
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import (
    approved_volunteers,
    button_data,
    claim_from_tasks,
    everything_sent_to,
    mint_volunteer_invite,
    open_wish,
    person_id,
    press_again_quietly,
    register_by_invite,
    wait_for_button,
)

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

WISHES = 15
LIMIT = 3


def phone_of(number: int) -> str:
    return f"+86 139 0000 {number:04d}"


async def residents_with_wishes(sim: BotApiSimulator, db: Database) -> tuple[list[Person], list[int]]:
    people = [sim.person(f"居民{n}", phone=phone_of(n)) for n in range(WISHES)]
    ids = [(await open_wish(db, resident)).id for resident in people]
    return people, ids


async def test_forged_claims_for_every_wish_yield_at_most_the_bound_and_alert_coordinators(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.wait_for_text("您好")
    payload = await mint_volunteer_invite(admin)
    mallory = sim.person("马洛")
    await register_by_invite(mallory, payload)
    residents, wish_ids = await residents_with_wishes(sim, story_db)

    # Crafted presses for every wish, without opening /tasks.
    anchor = mallory.messages[-1]
    for wish_id in wish_ids:
        sim.callback_query(mallory, anchor, f"task:claim:{wish_id}:today")
    await mallory.wait_for(lambda: len(mallory.callback_answers) >= WISHES, timeout=30)
    await sim.settle()

    seen = everything_sent_to(sim, mallory)
    leaked = [n for n in range(WISHES) if phone_of(n).replace(" ", "") in seen.replace(" ", "")]
    assert len(leaked) <= LIMIT, f"contact details of {len(leaked)} residents reached the volunteer"
    assert sum("同时认领的上限" in answer for answer in mallory.callback_answers) == WISHES - LIMIT
    async with story_db.read() as conn:
        claimed = (
            await conn.execute(select(wishes.c.id).where(wishes.c.claimed_by == await person_id(conn, mallory)))
        ).all()
    assert len(claimed) == LIMIT
    # The coordinators hear of it once, with the volunteer's name.
    await admin.wait_for_text("达到了认领上限")
    assert sum("达到了认领上限" in m.text and "马洛" in m.text for m in admin.messages) == 1
    assert residents  # every resident had a wish to harvest


async def test_claim_and_release_cycles_are_bounded_per_day(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.wait_for_text("您好")
    payload = await mint_volunteer_invite(admin)
    mallory = sim.person("马洛")
    await register_by_invite(mallory, payload)
    _, wish_ids = await residents_with_wishes(sim, story_db)
    anchor = mallory.messages[-1]
    # Claim and release the same wish over and over: 10 claims and releases a day in all.
    for cycle in range(5):
        sim.callback_query(mallory, anchor, f"task:claim:{wish_ids[0]}:today")
        await mallory.wait_for(lambda c=cycle: len(mallory.callback_answers) >= c + 1)
        await wait_for_button(mallory, "放弃")
        await mallory.press("↩️ 放弃")
        await mallory.wait_for_text("为什么要放弃")
        await mallory.send_text("临时有事")
        await mallory.wait_for(lambda c=cycle: sum("已放回任务列表" in m.text for m in mallory.messages) >= c + 1)
    sim.callback_query(mallory, anchor, f"task:claim:{wish_ids[1]}:today")
    await mallory.wait_for(lambda: any("每天的上限" in answer for answer in mallory.callback_answers))
    await admin.wait_for_text("每天认领和放弃 10 次")


async def test_invites_need_review_when_chosen_and_can_be_revoked_with_every_use_audited(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.wait_for_text("您好")
    await admin.send_command("/invite", "volunteer")
    await wait_for_button(admin, "需要审核")
    await admin.press("需要审核")
    reply = await admin.wait_for_text("start=vinv_")
    assert "最多可用 20 次" in reply.text
    review_payload = reply.text.split("start=")[1].split()[0]

    newcomer = sim.person("新人")
    await newcomer.send_command("/start", review_payload)
    await newcomer.wait_for_text("请输入您希望显示的姓名")
    await newcomer.press(f"使用“{newcomer.first_name}”")
    await newcomer.wait_for_text("留个电话")
    await newcomer.press_reply_button("跳过")
    await newcomer.wait_for_text("您能提供哪些服务")
    await newcomer.press("助老助残")
    await wait_for_button(newcomer, "✅ 助老助残")
    await newcomer.press("选好了")
    await newcomer.wait_for_text("哪个镇")
    await newcomer.press("东城社区")
    await newcomer.wait_for_text("分享一下您的位置")
    await newcomer.press_reply_button("跳过")
    await newcomer.wait_for_text("报名已提交")
    await newcomer.send_command("/tasks")
    await newcomer.wait_for_text("没有权限")

    await admin.send_command("/invites")
    listing = await admin.wait_for_text("可用的邀请链接")
    assert "需要审核" in listing.text
    assert "已用 1/20" in listing.text
    await admin.press("撤销第 1 个")
    await admin.wait_for(lambda: any("已撤销" in answer for answer in admin.callback_answers))

    late = sim.person("晚来的人")
    await late.send_command("/start", review_payload)
    await late.wait_for_text("已撤销")
    async with story_db.read() as conn:
        actions = (await conn.execute(select(audit_log.c.action))).scalars().all()
    assert {"invite.create", "invite.use", "invite.revoke"} <= set(actions)


async def test_a_released_or_lapsed_claim_withdraws_the_contact_details_card(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    xiaoli, laoli = sim.person("小李"), sim.person("老李")
    await approved_volunteers(story_db, [xiaoli, laoli])
    residents, _ = await residents_with_wishes(sim, story_db)
    # Released by the volunteer: the card with the phone and address is edited to say it is no longer theirs.
    await claim_from_tasks(xiaoli)
    card = await xiaoli.wait_for_text("电话")
    assert phone_of(0).replace(" ", "") in card.text.replace(" ", "")
    await xiaoli.press("↩️ 放弃", message=card)
    await xiaoli.wait_for_text("为什么要放弃")
    await xiaoli.send_text("临时有事")
    await xiaoli.wait_for(lambda: "已不在您名下" in (card.text or ""))
    assert phone_of(0).replace(" ", "") not in card.text.replace(" ", "")
    assert not card.inline_buttons

    # Let lapse: the scheduler's auto-release withdraws the card too.
    await claim_from_tasks(laoli, ref="W-0002")
    lapsed = await laoli.wait_for_text("电话")
    clock.advance(dt.timedelta(days=10))
    await lapses.lapse_due(bot.bot_data.env, clock.now())
    await laoli.wait_for(lambda: "已不在您名下" in (lapsed.text or ""), timeout=10)
    assert phone_of(1).replace(" ", "") not in lapsed.text.replace(" ", "")
    assert residents


async def test_every_live_invite_is_reachable_and_revocable_however_many_there_are(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, clock: ManualClock
) -> None:
    admin = sim.person("李主任", user_id=ADMIN_ID)
    await admin.send_command("/start")
    await admin.wait_for_text("您好")
    async with story_db.write() as conn:
        minted = [
            await invite_store.create_invite(conn, role="volunteer", created_by=ADMIN_ID, now=clock.now())
            for _ in range(25)
        ]
    await admin.send_command("/invites")
    page = await admin.wait_for_text("（第 1/5 页）")
    assert "（25 个）" in (page.text or "")
    seen = re.findall(r"start=(vinv_\S+)", page.text or "")
    for number in range(2, 6):
        forward = button_data(page, "下一页 ▶")
        await admin.press("下一页 ▶", message=page)
        page = await admin.wait_for_text(f"（第 {number}/5 页）")
        seen += re.findall(r"start=(vinv_\S+)", page.text or "")
    assert sorted(seen) == sorted(invite.payload for invite in minted), "every live invite is on some page"
    # The last ▶ pressed again (a double tap): page 5 is already shown, so it is answered quietly.
    await press_again_quietly(sim, admin, page, forward)
    assert page.inline_buttons[-1] == ["◀ 上一页"], "the last page has no ▶"
    oldest = seen[-1]
    await admin.press("撤销第 25 个", message=page)
    await admin.wait_for(lambda: any("已撤销" in answer for answer in admin.callback_answers))
    async with story_db.read() as conn:
        revoked = (await conn.execute(select(invites.c.code).where(invites.c.revoked_at.is_not(None)))).scalars().all()
    assert [f"vinv_{code}" for code in revoked] == [oldest]
    await admin.send_command("/invites")
    again = await admin.wait_for_text("（24 个）")
    assert oldest not in (again.text or "")
