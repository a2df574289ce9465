"""Stories of a similar open wish nearby: before a resident submits, the bot shows it; the resident joins
it and hears when it is taken and done, or submits their own anyway."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import TongxinApp
from rules.similar import join_wish
from simulator import BotApiSimulator
from storage import followers
from storage.db import Database
from storage.schema import wish_followers, wishes
from tests.conftest import START_TIME
from tests.stories.wishflow import (
    ADDRESS,
    approved_volunteers,
    claim_from_tasks,
    given_person,
    open_wish,
    person_id,
    wait_for_button,
    write_wish,
)


async def wish_count(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(wishes))).scalar_one())


async def test_a_resident_joins_the_similar_wish_and_hears_of_its_progress(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice = sim.person("王阿姨")
    wish = await open_wish(story_db, alice)
    bob = sim.person("赵大爷")

    await write_wish(bob)  # same kind of help, same community
    offer = await bob.wait_for_text("附近已经有一个相似的心愿")
    assert "W-0001" in offer.text
    assert ADDRESS not in offer.text  # the public card only: no address, no phone
    assert alice.phone not in offer.text
    await bob.press("🤝 加入这个心愿")
    joined = await bob.wait_for_text("您已加入心愿 W-0001")
    assert "等待志愿者认领" in joined.text
    assert await wish_count(story_db) == 1
    async with story_db.read() as conn:
        assert await followers.followers_of(conn, wish.id) == [await person_id(conn, bob)]
    await bob.send_command("/wish")  # the conversation ended: a new one starts afresh
    await bob.wait_for_text("请选择")
    await bob.send_command("/cancel")
    await bob.wait_for_text("已取消")

    xiaoli = sim.person("小李")
    await approved_volunteers(story_db, [xiaoli])
    await claim_from_tasks(xiaoli)
    await xiaoli.wait_for_text("您认领了 W-0001")
    await bob.wait_for_text("您加入的心愿 W-0001 已有志愿者认领")

    await xiaoli.send_command("/mytasks")
    await wait_for_button(xiaoli, "📋 W-0001")
    await xiaoli.press("📋 W-0001")
    await wait_for_button(xiaoli, "✅ 完成了")
    await xiaoli.press("✅ 完成了")
    await xiaoli.wait_for_text("用了多长时间")
    await xiaoli.press("2 小时")
    await xiaoli.wait_for_text("完成后的照片")
    await xiaoli.press("跳过")
    await xiaoli.wait_for_text("留句话")
    await xiaoli.press("跳过")
    await xiaoli.wait_for_text("辛苦了")
    await alice.wait_for_text("已经办好了")
    done = await bob.wait_for_text("您加入的心愿 W-0001 志愿者已完成")
    assert ADDRESS not in done.text
    await bob.send_command("/mywishes")
    waiting = await bob.wait_for_text("您加入的 1 个心愿")
    assert "等待发起人确认" in waiting.text  # the confirmation is 王阿姨's to give, not his

    await alice.press("已完成，谢谢！")
    confirmed = await bob.wait_for_text("您加入的心愿 W-0001 已确认办好")
    assert ADDRESS not in confirmed.text
    await bob.send_command("/mywishes")
    joined = await bob.wait_for_text("您加入的 1 个心愿")
    assert "W-0001" in joined.text
    assert "已完成" in joined.text
    assert joined.inline_buttons == []


async def test_a_resident_submits_anyway(bot: TongxinApp, sim: BotApiSimulator, story_db: Database) -> None:
    alice = sim.person("王阿姨")
    await open_wish(story_db, alice)
    bob = sim.person("赵大爷")

    await write_wish(bob)
    await bob.wait_for_text("附近已经有一个相似的心愿")
    await bob.press("仍然提交我的心愿")
    await bob.wait_for_text("W-0002")
    assert await wish_count(story_db) == 2
    async with story_db.read() as conn:
        assert (await conn.execute(select(wish_followers))).all() == []

    # Her own open wish is never offered to the resident herself.
    await write_wish(alice)
    await alice.wait_for_text("W-0003")
    assert not any("相似的心愿" in (m.text or "") for m in alice.messages)


async def test_a_follower_sees_the_joined_wish_in_mywishes_and_hears_it_was_cancelled(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database
) -> None:
    alice, bob = sim.person("王阿姨"), sim.person("赵大爷")
    wish = await open_wish(story_db, alice)
    async with story_db.write() as conn:  # 赵大爷 joined 王阿姨's wish earlier (as in the story above)
        await join_wish(conn, wish.id, user_id=await given_person(conn, bob), now=START_TIME)

    await bob.send_command("/mywishes")
    joined = await bob.wait_for_text("您加入的 1 个心愿")
    assert "W-0001" in joined.text
    assert "等待志愿者认领" in joined.text
    assert joined.inline_buttons == []  # no actions: the wish is 王阿姨's
    assert ADDRESS not in joined.text
    assert not any("您还没有提交过心愿" in (m.text or "") for m in bob.messages)

    await alice.send_command("/mywishes")
    await wait_for_button(alice, "📋 W-0001")
    await alice.press("📋 W-0001")
    await wait_for_button(alice, "取消这个心愿")
    await alice.press("取消这个心愿")
    cancelled = await bob.wait_for_text("您加入的心愿 W-0001 已被取消")
    assert "/wish" in cancelled.text
    await bob.send_command("/mywishes")
    again = await bob.wait_for_text("您加入的 1 个心愿")
    assert "已取消" in again.text
