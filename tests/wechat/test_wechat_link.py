"""/link: a volunteer joins their WeChat account to their Telegram one with a one-time code, and only once they say
yes on Telegram; codes cannot be guessed (each is void after 5 wrong guesses by anyone, and an account that guessed
wrong 5 times is locked out for an hour), and a new code voids the old."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import people
from storage.db import Database
from storage.schema import link_failures
from tests.conftest import ADMIN_ID
from tests.stories.wishflow import approved_volunteers, person_id, wait_for_button


async def a_code(person: Person) -> str:
    """The person's fresh /link code."""
    await person.send_command("/link")
    reply = await person.wait_for_text("绑定码是")
    match = re.search(r"(\d{6})", reply.text or "")
    assert match is not None
    return match.group(1)


async def owner_of(db: Database, account: WeChatPerson) -> int | None:
    async with db.read() as conn:
        found = await people.find_person(conn, "wechat", account.openid)
    return found.id if found is not None else None


async def test_a_volunteer_links_wechat_to_telegram_once_they_say_it_is_them(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator, clock: ManualClock
) -> None:
    db = wechat_bot.bot_data.db
    xiaozhou = sim.person("小周")
    await approved_volunteers(db, [xiaozhou])
    on_wechat = wx.person("小周（微信）")
    await on_wechat.send_text("你好")  # a WeChat person of their own at first
    await on_wechat.wait_for_text("许心愿")
    wechat_person = await owner_of(db, on_wechat)

    # /help names /link for a volunteer.
    await xiaozhou.send_command("/help")
    shown = await xiaozhou.wait_for_text("/link")
    assert "绑定微信账号" in shown.text

    code = await a_code(xiaozhou)
    await on_wechat.send_text("绑定 000000" if code != "000000" else "绑定 111111")
    await on_wechat.wait_for_text("无效")
    await on_wechat.send_text(f"绑定 {code}")
    await on_wechat.wait_for_text("请您本人确认")
    # Nothing is joined until 小周 says so, on the account being joined.
    assert await owner_of(db, on_wechat) == wechat_person
    asked = await xiaozhou.wait_for_text("请求绑定到您的账号")
    await wait_for_button(xiaozhou, "✅ 是我，绑定")
    not_me = asked.find_inline_button("✖️ 不是我")
    assert not_me is not None
    await xiaozhou.press("✅ 是我，绑定")
    await xiaozhou.wait_for_text("已绑定")
    telegram_person = await person_id(db, xiaozhou)
    async with db.read() as conn:
        linked = await people.find_person(conn, "wechat", on_wechat.openid)
    assert linked is not None
    assert linked.id == telegram_person
    assert "volunteer" in linked.roles
    # A second press (the other button, pressed from an old copy of the notice) changes nothing.
    sim.callback_query(xiaozhou, asked, str(not_me["callback_data"]))
    await xiaozhou.wait_for(lambda: "这个绑定请求已经处理过了。" in xiaozhou.callback_answers, what="the refusal")
    assert await owner_of(db, on_wechat) == telegram_person

    # A code works once.
    clock.advance(dt.timedelta(minutes=1))
    other = wx.person("别人")
    await other.send_text(f"绑定 {code}")
    await other.wait_for_text("无效")


async def test_a_code_cannot_be_guessed_and_a_guesser_is_locked_out(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator, clock: ManualClock
) -> None:
    """The attack: a WeChat follower tried 1,000 codes in 9 s and joined a coordinator's person with the right one."""
    db = wechat_bot.bot_data.db
    coordinator = sim.person("陈主任", user_id=ADMIN_ID)
    code = await a_code(coordinator)
    attacker = wx.person("冒充者")
    wrong = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code][:6]
    for guess in wrong[:5]:
        before = len(attacker.inbox)
        await attacker.send_text(f"绑定 {guess}")
        answer = await attacker.wait_for(lambda r: "绑定码" in r.text, after=before)
    assert answer.text == "绑定码错误次数太多，请 60 分钟后再试。"
    assert sum("无效" in r.text for r in attacker.inbox) == 4
    # Locked out: even the right code is refused now, and says nothing of it.
    before = len(attacker.inbox)
    await attacker.send_text(f"绑定 {code}")
    await attacker.wait_for_text("60 分钟后再试", after=before)
    # The coordinator's code was void after 5 wrong guesses by anyone: another account cannot use it either.
    accomplice = wx.person("同伙")
    await accomplice.send_text(f"绑定 {code}")
    await accomplice.wait_for_text("无效")
    assert not any("请求绑定" in (m.text or "") for m in coordinator.messages)
    coordinator_id = await person_id(db, coordinator)
    assert coordinator_id not in (await owner_of(db, attacker), await owner_of(db, accomplice))
    # An hour on, the lock is over (and a wrong code is just wrong again).
    clock.advance(dt.timedelta(minutes=61))
    before = len(attacker.inbox)
    await attacker.send_text(f"绑定 {wrong[5]}")
    await attacker.wait_for(lambda r: "无效" in r.text, after=before)


async def test_not_me_joins_nothing_and_a_new_code_voids_the_old(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    db = wechat_bot.bot_data.db
    xiaozhou = sim.person("小周")
    stranger = wx.person("陌生人")
    code = await a_code(xiaozhou)
    await stranger.send_text(f"绑定 {code}")
    await stranger.wait_for_text("请您本人确认")
    await wait_for_button(xiaozhou, "✖️ 不是我")
    await xiaozhou.press("✖️ 不是我")
    await xiaozhou.wait_for_text("已拒绝")
    assert await owner_of(db, stranger) != await person_id(db, xiaozhou)

    old = await a_code(xiaozhou)
    new = await a_code(xiaozhou)
    assert old != new
    mine = wx.person("小周（微信）")
    await mine.send_text(f"绑定 {old}")
    await mine.wait_for_text("无效")
    await mine.send_text(f"绑定 {new}")
    await mine.wait_for_text("请您本人确认")


@pytest.mark.both_databases  # SQLite's write lock hid the race; PostgreSQL showed it
async def test_a_burst_of_guesses_is_handled_one_at_a_time_so_the_sixth_is_already_locked(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    """Outside testing sent 30 codes at once from one follower: on PostgreSQL six were evaluated before the lock,
    because the server forgot a follower's lock while handing it to the next message (two ran at once, out of
    order). One follower's messages are handled one at a time, in the order sent."""
    attacker = wx.person("连发者")
    for n in range(30):  # under the flood guard's 30 a minute: every one is handled
        await attacker.send_text(f"绑定 {100000 + n}")
    await attacker.wait_for(lambda r: "60 分钟后再试" in r.text)
    await wechat_bot.bot_data.wechat.idle()  # type: ignore[union-attr]
    async with wechat_bot.bot_data.db.read() as conn:
        evaluated = (
            await conn.execute(
                select(func.count()).select_from(link_failures).where(link_failures.c.external_id == attacker.openid)
            )
        ).scalar_one()
    assert evaluated == 5
    # What reached him came in the order he sent: wrong codes, then "locked" from the fifth on (WeChat lets 5
    # replies follow his latest message, so not all 30 arrive).
    kinds = ["wrong" if "无效" in r.text else "locked" if "60 分钟后再试" in r.text else r.text for r in attacker.inbox]
    assert set(kinds) == {"wrong", "locked"}
    assert kinds == sorted(kinds, key=["wrong", "locked"].index)
    assert kinds.count("wrong") <= 4
    # The burst races WeChat's reply count (the window resets when WeChat takes his message, in the bot when the
    # callback arrives): a reply in between is refused with 45047, and the bot then believes WeChat.
    assert {refusal.errcode for refusal in wx.refusals} <= {45047}
    wx.refusals.clear()
