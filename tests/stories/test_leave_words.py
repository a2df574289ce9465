"""取消, 退出, 不要了, 算了 leave a conversation at any step, as /cancel does, before the text is read as an answer
(issue 27: during /wish "取消" was "too short" and "我不要了，退出" became the wish's description)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import TongxinApp
from simulator import BotApiSimulator
from storage.schema import wishes


async def wish_count(bot: TongxinApp) -> int:
    async with bot.bot_data.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(wishes))).scalar_one())


async def test_leave_words_end_the_wish_at_its_steps_and_nothing_is_kept(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/wish")
    await wang.wait_for_text("请选择")
    await wang.press("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text("我不要了，退出")
    assert "已取消" in (await wang.wait_for_text("已取消")).text

    await wang.send_command("/wish")
    await wang.wait_for_text("请选择")
    await wang.press("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text("家里的水龙头坏了，想请人帮忙修一下")
    await wang.wait_for_text("哪个镇")
    await wang.send_text("取消")
    await wang.wait_for(lambda: sum("已取消" in (m.text or "") for m in wang.messages) == 2, what="the second 已取消")
    # After leaving, her words are plain words again, not an answer to a step.
    await wang.send_text("算了")
    await sim.settle()
    assert await wish_count(bot) == 0


async def test_a_description_that_mentions_a_leave_word_is_still_a_description(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/wish")
    await wang.wait_for_text("请选择")
    await wang.press("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text("旧家具不要了，想请人帮忙搬到楼下")
    await wang.wait_for_text("哪个镇")


async def test_help_words_explain_the_step_and_ask_it_again_keeping_what_was_entered(
    bot: TongxinApp, sim: BotApiSimulator
) -> None:
    """ "帮助" at the first step got "请点击上面的按钮选择。您已填写的内容都还在" (nothing was filled in); at the
    description it was read as a description. Now it says where she is and how to leave, and asks the step again."""
    wang = sim.person("王阿姨")
    await wang.send_command("/wish")
    first = await wang.wait_for_text("请选择")
    assert "发送“取消”可以退出" in (first.text or "")
    await wang.send_text("帮助")
    told = await wang.wait_for_text("您正在提交微心愿")
    assert "发送“取消”可以退出" in (told.text or "")
    assert "都还在" not in (told.text or "")
    await wang.wait_for(lambda: sum("请选择" in (m.text or "") for m in wang.messages) == 2, what="the question again")
    await wang.press("助老助残")
    await wang.wait_for_text("请用文字描述")
    await wang.send_text("怎么填？")
    await wang.wait_for(lambda: sum("您正在提交微心愿" in (m.text or "") for m in wang.messages) == 2, what="help")
    await wang.wait_for(
        lambda: sum("请用文字描述" in (m.text or "") for m in wang.messages) == 2, what="the description asked again"
    )
    assert not any("描述太短" in (m.text or "") for m in wang.messages)
    # The category chosen before the help is still there: the summary shows it.
    await wang.send_text("家里的水龙头坏了，想请人帮忙修一下")
    await wang.wait_for_text("哪个镇")
    await wang.send_text("help")
    await wang.wait_for(lambda: sum("哪个镇" in (m.text or "") for m in wang.messages) == 2, what="the area again")
    await wang.send_text("取消")
    await wang.wait_for_text("已取消")
    assert await wish_count(bot) == 0
