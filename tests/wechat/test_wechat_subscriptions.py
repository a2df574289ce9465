"""Notices outside the customer-service quota (issue 26): as the subscription notice (订阅通知) of their kind when
the resident accepted its template, else as the template notice; a change of mind in her 服务通知 settings switches
back. The done notice outside the quota cannot carry the volunteer's photo: it says where to see it, and opening
the wish in 我的心愿 sends it. The simulator keeps WeChat's rules for subscription notices (bizsend's 43101 and
47003, a one-time acceptance used up by one notice) and the `wechat_bot` fixture fails on anything it refused."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from actions import notices
from actions.messages import Notice
from bot.app import TongxinApp
from channels.wechat.api import WeChatError
from core.clock import ManualClock
from simulator import BotApiSimulator
from simulator.wechat import Received, WeChatPerson, WeChatSimulator
from storage import people, wechat
from tests.wechat.journey import claimed_wechat_wish, report_done_with_photo
from tests.wechat.test_wechat_events import channel_of, handled

KEYWORDS = ["thing1", "character_string2", "time3", "thing4"]
PROOF = b"\x89PNG proof: the door lock is fixed"
SILENCE = dt.timedelta(hours=49)  # her 5-in-48-hours quota is over


@pytest.fixture
def long_term(wx: WeChatSimulator) -> str:
    """The account's long-term template (a 政务民生 account may choose one): 事项, 编号, 时间, 备注."""
    return wx.add_subscription_template("服务进度提醒", KEYWORDS, long_term=True)


@pytest.fixture
def one_time(wx: WeChatSimulator) -> str:
    """A one-time template, for a volunteer's reminders: each acceptance allows one notice."""
    return wx.add_subscription_template("任务提醒", KEYWORDS, long_term=False)


@pytest.fixture
def settings_overrides(wx: WeChatSimulator, long_term: str, one_time: str) -> dict[str, object]:
    """Wishes' and broadcasts' notices go as the long-term template, reminders as the one-time one."""
    kinds = {"wish": long_term, "broadcast": long_term, "remind": one_time}
    return {**wx.settings(callback_port=0), "wechat_subscribe_templates": kinds}


async def hello(bot: TongxinApp, wang: WeChatPerson) -> None:
    """王阿姨 writes once (the account knows her), then answers nothing for a while."""
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    await handled(channel_of(bot), 1)  # done with: a later event is counted on its own


async def notice_for(bot: TongxinApp, wang: WeChatPerson, clock: ManualClock, key: str, **values: object) -> None:
    async with bot.bot_data.db.write() as conn:
        found = await people.find_person(conn, "wechat", wang.openid)
        assert found is not None
        await notices.queue(conn, found.id, Notice(key, values), now=clock.now(), dedupe_key=f"t:{key}:{values}")
    bot.bot_data.env.wake()


async def accepted_by(bot: TongxinApp, wang: WeChatPerson) -> set[str]:
    async with bot.bot_data.db.read() as conn:
        return set(await wechat.subscriptions_of(conn, wang.openid))


async def used_up(bot: TongxinApp, wang: WeChatPerson) -> None:
    """Until the bot has forgotten her one-time acceptance (right after WeChat took the notice)."""
    for _ in range(200):
        if not await accepted_by(bot, wang):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the one-time acceptance was not used up")


def showing(text: str) -> object:
    return lambda r: text in (r.text + str(r.fields))


@pytest.mark.both_databases
async def test_a_subscribed_resident_outside_her_quota_gets_a_subscription_notice_until_she_turns_it_off(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock, long_term: str
) -> None:
    wang = wx.person("王阿姨")
    await hello(wechat_bot, wang)
    count = channel_of(wechat_bot).handled
    await wang.subscribe([long_term])  # the subscribe component in the account's article: 允许
    await handled(channel_of(wechat_bot), count + 1)
    assert await accepted_by(wechat_bot, wang) == {long_term}
    replies = len(wang.inbox)

    clock.advance(SILENCE)
    await notice_for(wechat_bot, wang, clock, "broadcast.message", text="周六上午社区义诊")
    first = await wang.wait_for(showing("周六上午社区义诊"))
    assert wang.inbox.index(first) == replies, "her subscription event got no reply"
    assert first.kind == "subscription"
    assert first.fields["thing1"] == "📢 周六上午社区义诊"
    assert "thing4" not in first.fields  # no photo, nothing to say about one
    shown_at = (clock.now() + dt.timedelta(hours=8)).strftime("%Y年%m月%d日 %H:%M")  # Asia/Shanghai
    assert first.fields["time3"] == shown_at
    # Long-term: a second notice goes the same way.
    await notice_for(wechat_bot, wang, clock, "broadcast.message", text="周日下午停水")
    assert (await wang.wait_for(showing("周日下午停水"))).kind == "subscription"

    # She turns it off in her 服务通知 settings: the next notice is a template notice again.
    count = channel_of(wechat_bot).handled
    await wang.turn_off(long_term)
    await handled(channel_of(wechat_bot), count + 1)
    assert await accepted_by(wechat_bot, wang) == set()
    await notice_for(wechat_bot, wang, clock, "broadcast.message", text="下周一疫苗接种")
    assert (await wang.wait_for(showing("下周一疫苗接种"))).kind == "template"
    assert wx.refusals == []


async def test_a_template_deleted_in_the_console_lets_the_template_notice_go(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock, long_term: str
) -> None:
    wang = wx.person("王阿姨")
    await hello(wechat_bot, wang)
    count = channel_of(wechat_bot).handled
    await wang.subscribe([long_term])
    await handled(channel_of(wechat_bot), count + 1)
    clock.advance(SILENCE)
    await notice_for(wechat_bot, wang, clock, "broadcast.message", text="周六上午社区义诊")
    assert (await wang.wait_for(showing("周六上午社区义诊"))).kind == "subscription"

    del wx.subscription_templates[long_term]  # 删除模板 in the console, after the bot read the list
    await notice_for(wechat_bot, wang, clock, "broadcast.message", text="周日下午停水")
    assert (await wang.wait_for(showing("周日下午停水"))).kind == "template"
    assert [r.errcode for r in wx.refusals] == [40037]
    wx.refusals.clear()
    # The list is read again: the template is gone, so the next notice is a template notice without asking WeChat.
    await notice_for(wechat_bot, wang, clock, "broadcast.message", text="下周一疫苗接种")
    assert (await wang.wait_for(showing("下周一疫苗接种"))).kind == "template"


async def test_an_unsubscribed_resident_gets_the_template_notice(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock, long_term: str
) -> None:
    wang = wx.person("王阿姨")
    await hello(wechat_bot, wang)
    count = channel_of(wechat_bot).handled
    await wang.subscribe([long_term], accept=False)  # 取消 in the popup
    await handled(channel_of(wechat_bot), count + 1)
    assert await accepted_by(wechat_bot, wang) == set()
    clock.advance(SILENCE)
    await notice_for(wechat_bot, wang, clock, "broadcast.message", text="周六上午社区义诊")
    notice = await wang.wait_for(showing("周六上午社区义诊"))
    assert notice.kind == "template"
    assert not any(r.kind == "subscription" for r in wang.inbox)


async def test_a_one_time_acceptance_carries_one_notice(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock, one_time: str
) -> None:
    wang = wx.person("王阿姨")
    await hello(wechat_bot, wang)
    count = channel_of(wechat_bot).handled
    await wang.subscribe([one_time])
    await handled(channel_of(wechat_bot), count + 1)
    clock.advance(SILENCE)
    await notice_for(wechat_bot, wang, clock, "remind.due_soon", due="周六 18:00", ref="W-0001")
    first = await wang.wait_for(lambda r: r.kind in ("subscription", "template"))
    assert first.kind == "subscription"
    await used_up(wechat_bot, wang)
    await notice_for(wechat_bot, wang, clock, "remind.due_soon", due="周日 18:00", ref="W-0002")
    second = await wang.wait_for(lambda r: r.kind in ("subscription", "template"), after=wang.inbox.index(first) + 1)
    assert second.kind == "template"


async def test_wechat_refuses_a_subscription_notice_she_did_not_accept_or_that_breaks_a_rule(
    wechat_bot: TongxinApp, wx: WeChatSimulator, long_term: str
) -> None:
    api = channel_of(wechat_bot).api
    wang = wx.person("王阿姨")
    fields = {"thing1": "周六上午社区义诊", "character_string2": "W-0001", "time3": "2026年12月05日 09:00"}
    refused: list[int] = []
    for template, given in (
        (long_term, fields),  # not accepted: 43101
        ("NO_SUCH_TEMPLATE", fields),  # 40037
    ):
        with pytest.raises(WeChatError) as caught:
            await api.send_subscription(wang.openid, template, given)
        refused.append(caught.value.errcode)
    wx.consent(wang.openid, long_term, accept=True)
    for broken in (
        {"thing1": "周六上午社区义诊，地点在文化广场东侧的小礼堂"},  # thing: at most 20 characters
        {"character_string2": "心愿W-0001"},  # character_string: letters, digits, symbols
        {"time3": "2026-12-05 09:00"},  # time: 24-hour time with 年月日
        {"phrase5": "审核通过"},  # not a keyword of the template
        {"thing1": "第一行\n第二行"},
    ):
        with pytest.raises(WeChatError) as caught:
            await api.send_subscription(wang.openid, long_term, {**fields, **broken})
        refused.append(caught.value.errcode)
    assert refused == [43101, 40037, 47003, 47003, 47003, 47003, 47003]
    await api.send_subscription(wang.openid, long_term, fields)
    assert wang.inbox[-1].kind == "subscription"
    wx.refusals.clear()


async def spend_her_quota(bot: TongxinApp, wang: WeChatPerson, clock: ManualClock) -> None:
    """Notices (a coordinator's broadcasts) take what is left of the 5 messages her last message allowed."""
    async with bot.bot_data.db.read() as conn:
        left = wechat.WINDOW_MESSAGES - (await wechat.window_of(conn, wang.openid)).sent
    for n in range(left):
        await notice_for(bot, wang, clock, "broadcast.message", text=f"社区通知 {n + 1}")
        assert (await wang.wait_for(showing(f"社区通知 {n + 1}"))).kind == "text"
    async with bot.bot_data.db.read() as conn:
        assert not (await wechat.window_of(conn, wang.openid)).open_at(clock.now())


@pytest.mark.both_databases
@pytest.mark.parametrize("quota", ["spent", "over"])
async def test_the_proof_photo_outside_her_quota_waits_in_my_wishes(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator, clock: ManualClock, quota: str
) -> None:
    """Her quota is spent (5 messages since she wrote) or over (48 hours since): the done notice is a template."""
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    xiaozhou = sim.person("小周")
    silence = (lambda: clock.advance(SILENCE)) if quota == "over" else None
    await claimed_wechat_wish(env, wang, xiaozhou, "门锁坏了，想请人帮忙修一下", then=silence)
    claim = await wang.wait_for(showing("W-0001"))
    if quota == "spent":
        assert claim.kind == "text"
        await spend_her_quota(wechat_bot, wang, clock)
    else:
        assert claim.kind == "template"

    await report_done_with_photo(xiaozhou, PROOF)
    done = await wang.wait_for(lambda r: r.kind == "template" and "已办好" in r.fields.get("thing1", ""))
    assert done.fields["thing1"] == "您的心愿 W-0001 已办好，请确认"
    assert done.fields["thing4"] == "完成照片：点菜单“我的心愿”查看"
    assert not any(r.kind == "image" for r in wang.inbox), "a template notice carries no photo"

    # She opens 我的心愿 and her wish: its card, then the photo.
    await wang.click("MYWISHES")
    await wang.wait_for_text("您的 1 个心愿")
    opened = len(wang.inbox)
    await wang.tap("W-0001")
    card: Received = await wang.wait_for(lambda r: "W-0001" in r.text, after=opened)
    assert "等您确认" in card.text
    image = await wang.wait_for(lambda r: r.kind == "image", after=opened)
    assert wang.inbox.index(image) == wang.inbox.index(card) + 1
    assert wx.media[image.text][0] == PROOF
