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
