"""Stories of people who do not know the commands: plain words and unknown commands get the right next step,
in Chinese and in English; groups stay quiet."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.people import Person
from storage import tips, users
from storage import wishes as store
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.wishflow import (
    approved_volunteers,
    given_person,
    open_from_list,
    open_wish,
    person_id,
    wait_for_button,
)


async def say(person: Person, text: str, expected: str) -> None:
    await person.send_text(text)
    await person.wait_for_text(expected)


async def make_role(bot: TongxinApp, person: Person, role: str) -> None:
    await say(person, "你好", "您好")
    async with bot.bot_data.db.write() as conn:
        await users.grant_role(conn, await person_id(conn, person), role, granted_by=None, now=START_TIME)


async def test_a_need_in_plain_chinese_becomes_a_wish_with_those_words(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    words = "我家老人行动不便，想找人帮忙买菜"
    await say(wang, words, "这像是一个求助")
    offer = wang.messages[-1]
    assert "助老助残" in (offer.text or "")
    button = offer.find_inline_button("🙋 提交为微心愿")
    assert button is not None
    await wang.press("🙋 提交为微心愿")
    await wang.wait_for_text("在哪个镇")
    await wang.press("东城社区")
    await wang.wait_for_text("具体在哪里")
    await wang.press_reply_button("跳过")
    await wang.wait_for_text("照片")
    await wang.press_reply_button("跳过")
    await wang.wait_for_text("留个电话")
    await wang.press_reply_button("跳过")
    await wait_for_button(wang, "✅ 提交")
    summary = wang.messages[-1].text or ""
    assert words in summary
    assert "助老助残" in summary
    await wang.press("✅ 提交")
    await wang.wait_for_text("已提交")
    async with bot.bot_data.db.read() as conn:
        wish = (await store.wishes_of_resident(conn, await person_id(conn, wang)))[0]
    assert wish.description == words
    assert wish.category == "elderly_disabled"
    # The offer's button again (a double tap), after the wish was submitted: answered, nothing new is started.
    sim.callback_query(wang, offer, str(button["callback_data"]))
    await wang.wait_for(lambda: any("已过期" in answer for answer in wang.callback_answers))
    assert sim.unanswered_callback_queries() == []


async def test_the_issue_s_first_words_get_an_offer_and_no_declines_it(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await say(wang, "你好，我想找人帮忙", "这像是一个求助")
    await wang.press("不是")
    await wang.wait_for_text("需要时点下面的按钮")
    await wait_for_button(wang, "🙋 我需要帮忙（提交微心愿）")
    await say(wang, "家里水管坏了，没人会修", "要把它提交为微心愿吗")
    assert sim.unanswered_callback_queries() == []


async def test_an_older_offer_is_expired_once_newer_words_came(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await say(wang, "家里水管坏了，没人会修", "这像是一个求助")
    first = wang.messages[-1]
    await say(wang, "楼道的路灯不亮了，想请人帮忙修一下", "这像是一个求助")
    await wang.press("🙋 提交为微心愿", message=first)
    await wang.wait_for(lambda: any("已过期" in answer for answer in wang.callback_answers))
    assert not any("在哪个镇" in (m.text or "") for m in wang.messages)


async def test_english_need_greeting_thanks_and_question(bot: TongxinApp, sim: BotApiSimulator) -> None:
    anna = sim.person("Anna", language_code="en")
    await say(anna, "Hello, is anybody there? My street light is broken.", "This sounds like a request for help")
    assert "Environment" in (anna.messages[-1].text or "") or "environment" in (anna.messages[-1].text or "").lower()
    await anna.press("🙋 Submit as a micro-wish")
    await anna.wait_for_text("Which town")
    await say(anna, "hi", "buttons above")  # inside the wish conversation its steps lead
    await anna.send_command("/cancel")
    await anna.wait_for_text("ancel")
    await say(anna, "Hello", "Tongxin")
    await wait_for_button(anna, "🙋 I need help (micro-wish)")
    await say(anna, "Thank you!", "You're welcome")
    await say(anna, "What is this?", "I can't answer that yet")
    await say(anna, "banana", "I'm not sure what you mean")
    await say(anna, "/foo", "There is no such command: /foo")
    assert sim.unanswered_callback_queries() == []


async def test_chinese_greeting_thanks_question_and_unknown_command(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await say(wang, "你好", "同心")
    await wait_for_button(wang, "📋 我的心愿")
    assert not any("看看有什么任务" in str(m.inline_buttons) for m in wang.messages)  # not a volunteer
    await say(wang, "谢谢你们", "不客气")
    await say(wang, "这是干什么的？", "这个问题我还答不上来")
    await say(wang, "/foo", "没有这个命令")
    await wang.press("📋 我的心愿")
    await wang.wait_for_text("还没有")
    await wang.send_sticker()
    await wang.wait_for_text("收到了")
    assert sim.unanswered_callback_queries() == []


async def test_a_volunteer_asking_for_tasks_gets_the_tasks(bot: TongxinApp, sim: BotApiSimulator) -> None:
    xiaozhou = sim.person("小周")
    wang = sim.person("王阿姨")
    await approved_volunteers(bot.bot_data.db, [xiaozhou])
    await open_wish(bot.bot_data.db, wang)
    await say(xiaozhou, "有什么任务吗", "W-0001")
    await say(xiaozhou, "你好", "同心")
    await wait_for_button(xiaozhou, "🤝 看看有什么任务")
    await xiaozhou.press("🤝 看看有什么任务")
    await xiaozhou.wait_for_text("符合您技能的任务")
    assert sim.unanswered_callback_queries() == []


async def test_a_reporter_s_news_is_offered_as_a_tip(bot: TongxinApp, sim: BotApiSimulator) -> None:
    zhang = sim.person("张记者")
    await make_role(bot, zhang, "reporter")
    news = "今天下午城关镇桥头发生一起车祸，现场有交警"
    await say(zhang, news, "这像是一条新闻线索")
    await zhang.press("📰 作为报料发送")
    await zhang.wait_for_text("分享位置")
    await zhang.press_reply_button("跳过")
    await zhang.wait_for_text("请选择线索类别")
    await zhang.press("民生")
    await zhang.wait_for_text("请确认线索内容")
    await zhang.press("提交")
    await zhang.wait_for_text("线索已提交")
    async with bot.bot_data.db.read() as conn:
        queue = await tips.review_queue(conn, 10)
    assert [t.description for t in queue] == [news]


async def test_groups_stay_quiet_except_commands(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    group = sim.group("幸福小区")
    await wang.send_text("你好，有人吗", chat=group)
    await wang.send_text("/foo", chat=group)
    await wang.send_command("/help", chat=group)
    await wang.wait_for(lambda: len(group.messages) >= 1)
    await sim.settle()
    assert len(group.messages) == 1
    assert "命令" in (group.messages[0].text or "")


async def test_emoji_only_wish_and_tip_are_refused_with_a_reason(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/wish")
    await wang.wait_for_text("请选择")
    await wang.press("助老助残")
    await wang.wait_for_text("请用文字描述")
    await say(wang, "🙏🙏🙏🙏🙏", "只有表情符号")
    await say(wang, "想请人帮忙买菜", "哪个镇")
    await wang.send_command("/cancel")
    await wang.wait_for_text("已取消")
    await wang.send_command("/tip")
    await wang.wait_for_text("照片")
    await say(wang, "😀😀👍", "只有表情符号")


async def test_pending_card_with_a_shared_location_shows_where_without_promising_a_pin(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    from rules import wishes as lifecycle
    from rules.wishes import WishDraft

    wang = sim.person("王阿姨")
    async with bot.bot_data.db.write() as conn:
        resident = await given_person(conn, wang)
        await lifecycle.submit_wish(
            conn,
            WishDraft(
                category="other", description="楼道灯坏了想请人修", area="东城社区", location=(31.2304, 121.4737)
            ),
            resident_id=resident,
            now=START_TIME,
            review=True,
            daily_limit=100,
        )
    admin = sim.person("陈主任", user_id=ADMIN_ID)
    await admin.send_command("/pending")
    await open_from_list(admin, "📋 W-0001")
    card = await admin.wait_for_text("31.23040")
    assert "见下方定位" not in (card.text or "")
    assert "31.23040, 121.47370" in (card.text or "")
    await sim.settle()
    assert not any(m.location for m in admin.messages)


async def test_help_and_leave_words_alone_outside_a_conversation(bot: TongxinApp, sim: BotApiSimulator) -> None:
    """A bare 帮助 was offered as a wish and a bare 取消 got "这个问题我还答不上来": outside a conversation 帮助 gives
    what /help gives and 取消 says there is nothing to cancel; words asking for help with something stay a need."""
    wang = sim.person("王阿姨")
    await wang.send_command("/help")
    by_command = (await wang.wait_for_text("/mywishes")).text
    await wang.send_text("帮助")
    await wang.wait_for(lambda: sum(m.text == by_command for m in wang.messages) == 2, what="/help's answer again")
    assert not any("这像是一个求助" in (m.text or "") for m in wang.messages)
    await say(wang, "取消", "当前没有进行中的操作")
    await say(wang, "help", "/mywishes")
    await say(wang, "请帮助我家老人买菜", "这像是一个求助")
    assert not any("答不上来" in (m.text or "") for m in wang.messages)
