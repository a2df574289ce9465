"""Stories of the plain words a district types first (issue 27): a reporter's ordinary news becomes a tip, a
resident's accident is offered both as a wish and as a tip, "我想当志愿者" starts the registration, and words
too long for a wish or a tip (or a project's description) are refused with their length, nothing cut."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from storage import projects, tips
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.stories.test_plain_words import make_role, say
from tests.stories.test_tips import finish_tip
from tests.stories.wishflow import person_id, wait_for_button


async def test_a_reporter_s_ordinary_news_is_offered_as_a_tip(bot: TongxinApp, sim: BotApiSimulator) -> None:
    zhang = sim.person("张记者")
    await make_role(bot, zhang, "reporter")
    news = "今天西城社区举办了义诊活动，来了六十多位居民"
    await say(zhang, news, "这像是一条新闻线索")
    offer = zhang.messages[-1]
    assert offer.find_inline_button("🙋 提交为微心愿") is None
    await zhang.press("📰 作为报料发送")
    await zhang.wait_for_text("分享位置")
    await finish_tip(zhang)  # 跳过 the place, 民生, 提交
    async with bot.bot_data.db.read() as conn:
        queue = await tips.review_queue(conn, 10)
    assert [t.description for t in queue] == [news]


async def test_a_resident_s_accident_is_offered_as_a_wish_and_as_a_tip(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    accident = "城关镇十字路口刚刚两辆车撞了，有人受伤"
    await say(wang, accident, "事故或险情")
    offer = wang.messages[-1]
    assert "120" in (offer.text or "")
    wish_button = offer.find_inline_button("🙋 提交为微心愿")
    assert wish_button is not None
    assert offer.find_inline_button("📰 作为报料发送") is not None
    assert offer.find_inline_button("不是") is not None
    await wang.press("📰 作为报料发送")
    await wang.wait_for_text("分享位置")
    await finish_tip(wang)  # 跳过 the place, 民生, 提交
    async with bot.bot_data.db.read() as conn:
        queue = await tips.review_queue(conn, 10)
    assert [t.description for t in queue] == [accident]
    # The other button of the same offer (a tap on an old copy) is out of date: answered, nothing started.
    sim.callback_query(wang, offer, str(wish_button["callback_data"]))
    await wang.wait_for(lambda: any("已过期" in answer for answer in wang.callback_answers))
    assert sim.unanswered_callback_queries() == []


async def test_i_want_to_volunteer_starts_the_registration(bot: TongxinApp, sim: BotApiSimulator) -> None:
    xiaoli = sim.person("小李")
    await say(xiaoli, "我想当志愿者", "现在开始报名吗")
    await xiaoli.press("🤝 报名当志愿者")
    await xiaoli.wait_for_text("请输入您希望显示的姓名")
    await wait_for_button(xiaoli, "小李")
    assert sim.unanswered_callback_queries() == []


async def test_words_too_long_are_refused_with_their_length_and_nothing_is_kept(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    wang = sim.person("王阿姨")
    words = "家里水管坏了，没人会修。" * 100  # 1,200 characters
    await say(wang, words, "1200 个字")
    reply = wang.messages[-1]
    assert "1000 字" in (reply.text or "")
    assert reply.find_inline_button("🙋 提交为微心愿") is None
    await sim.settle()
    assert bot.user_data[wang.user_id].get("plain_words") is None
    async with bot.bot_data.db.read() as conn:
        resident = await person_id(conn, wang)
        assert await store.wishes_of_resident(conn, resident) == []
        assert await tips.tips_of(conn, resident) == []
    # The same need said within the limit is offered as before, whole.
    await say(wang, words[:1000], "这像是一个求助")


async def test_a_project_description_too_long_is_refused_with_its_length_not_cut(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    chen = sim.person("陈主任", user_id=ADMIN_ID)
    await chen.send_command("/newproject", "好邻居", "|", "助" * 301, "|", "助老助残")
    refusal = await chen.wait_for_text("项目简介有 301 个字")
    assert "300 字" in (refusal.text or "")
    async with bot.bot_data.db.read() as conn:
        assert await projects.find_project_by_name(conn, "好邻居") is None
    await chen.send_command("/newproject", "好邻居", "|", "助" * 300, "|", "助老助残")
    await chen.wait_for_text("已新建项目")
    async with bot.bot_data.db.read() as conn:
        project = await projects.find_project_by_name(conn, "好邻居")
    assert project is not None
    assert project.description == "助" * 300
