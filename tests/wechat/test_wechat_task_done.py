"""A volunteer on WeChat finishes a task through the same task-done form as Telegram's (conversations/task_done.py):
the hours as a numbered menu (a typed number picks what was shown at it, a typed figure is hours), a proof photo,
a note; help words say where he is and ask the step again, with the same numbers."""

from __future__ import annotations

from actions import tasks
from bot.app import TongxinApp
from rules.roles import Role
from rules.wishes import Actor, WishStatus, wish_ref
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import wishes as store
from storage.wishes import Wish
from tests.wechat.test_wechat_volunteers import make_volunteer, open_wishes


async def pressing_done(bot: TongxinApp, wx: WeChatSimulator) -> tuple[WeChatPerson, WeChatPerson, Wish]:
    """王阿姨's open wish, claimed by 小周 (a volunteer on WeChat only), who opens it in 我的任务 and taps 完成了."""
    env = bot.bot_data.env
    wang = wx.person("王阿姨")
    (wish,) = await open_wishes(env, wang, [(39.9005, 116.4005)])
    xiaozhou = wx.person("小周")
    volunteer = Actor(await make_volunteer(env, xiaozhou), frozenset({Role.RESIDENT, Role.VOLUNTEER}))
    await tasks.claim(env, volunteer, wish.id, "today")
    await xiaozhou.send_text("我的任务")
    await xiaozhou.tap(wish_ref(wish.ref_no))
    await xiaozhou.tap("完成了")
    return wang, xiaozhou, wish


async def test_a_wechat_volunteer_finishes_a_task_with_hours_a_proof_photo_and_a_note(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    wang, xiaozhou, wish = await pressing_done(wechat_bot, wx)
    asked = await xiaozhou.wait_for_text("用了多长时间")
    assert [label for _, label in asked.items] == ["1. 0.5 小时", "2. 1 小时", "3. 2 小时", "4. 4 小时"]
    assert "发送“取消”可以退出" in asked.text

    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("帮助")
    again = await xiaozhou.wait_for_text("您正在提交任务完成情况", after=seen)
    assert "用了多长时间" in again.text
    assert len(again.items) == 4
    await xiaozhou.send_text("3")  # the third item shown: 2 小时
    await xiaozhou.wait_for_text("完成后的照片")
    await xiaozhou.send_photo(b"\xff\xd8 the fixed handrail")
    await xiaozhou.wait_for_text("留句话")
    await xiaozhou.send_text("扶手已经装好了，下雨天注意防滑")
    await xiaozhou.wait_for_text("辛苦了")

    async with env.db.read() as conn:
        done = await store.get_wish(conn, wish.id)
    assert (done.status, done.hours, done.done_note) == (WishStatus.DONE, 2.0, "扶手已经装好了，下雨天注意防滑")
    assert done.proof_media_id is not None
    # 王阿姨 is asked to confirm, on WeChat.
    await wang.wait_for_text("扶手已经装好了")


async def test_typed_hours_out_of_range_are_asked_again_and_leave_words_leave(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    _, xiaozhou, wish = await pressing_done(wechat_bot, wx)
    await xiaozhou.wait_for_text("用了多长时间")
    await xiaozhou.send_text("30")
    await xiaozhou.wait_for_text("0.5 到 24 之间")
    await xiaozhou.send_text("1.5")
    await xiaozhou.wait_for_text("完成后的照片")
    await xiaozhou.send_text("算了")
    await xiaozhou.wait_for_text("已取消")
    async with env.db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == WishStatus.CLAIMED


async def test_hours_typed_with_their_unit_and_typed_skip_words_skip_the_photo_and_the_note(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    """The hours question tells how to type hours apart from the menu's numbers (a bare "2" is item 2), says no
    点按钮 (a Telegram word); typed skip words skip the optional steps, as in the wish form."""
    env = wechat_bot.bot_data.env
    _, xiaozhou, wish = await pressing_done(wechat_bot, wx)
    asked = await xiaozhou.wait_for_text("用了多长时间")
    assert "点按钮" not in asked.text
    assert "“2小时”" in asked.text
    assert "“2.5h”" in asked.text
    await xiaozhou.send_text("2.5 小时")
    proof = await xiaozhou.wait_for_text("完成后的照片")
    assert "点" not in proof.text.replace("点选一项", "")
    await xiaozhou.send_text("跳过")
    await xiaozhou.wait_for_text("留句话")
    await xiaozhou.send_text("跳过")
    await xiaozhou.wait_for_text("辛苦了")
    async with env.db.read() as conn:
        done = await store.get_wish(conn, wish.id)
    assert (done.status, done.hours, done.done_note, done.proof_media_id) == (WishStatus.DONE, 2.5, None, None)


async def test_typed_2h_is_two_hours_and_a_text_at_the_photo_step_is_told_to_type_the_skip_word(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    _, xiaozhou, wish = await pressing_done(wechat_bot, wx)
    await xiaozhou.wait_for_text("用了多长时间")
    await xiaozhou.send_text("2h")
    await xiaozhou.wait_for_text("完成后的照片")
    await xiaozhou.send_text("好了")
    refused = await xiaozhou.wait_for_text("请发送照片")
    assert "点击" not in refused.text
    assert "回复“跳过”" in refused.text
    await xiaozhou.send_text("不用")
    await xiaozhou.wait_for_text("留句话")
    await xiaozhou.send_text("楼道灯换好了")
    await xiaozhou.wait_for_text("辛苦了")
    async with env.db.read() as conn:
        done = await store.get_wish(conn, wish.id)
    assert (done.hours, done.done_note) == (2.0, "楼道灯换好了")


async def test_the_proof_photo_reaches_the_resident_on_wechat_as_an_image(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    wang, xiaozhou, _ = await pressing_done(wechat_bot, wx)
    await wang.send_text("你好")  # her window is open
    await wang.wait_for_text("许心愿")
    await xiaozhou.wait_for_text("用了多长时间")
    await xiaozhou.send_text("1")
    await xiaozhou.wait_for_text("完成后的照片")
    await xiaozhou.send_photo(b"\xff\xd8 the fixed handrail")
    await xiaozhou.wait_for_text("留句话")
    await xiaozhou.send_text("装好了")
    await xiaozhou.wait_for_text("辛苦了")
    await wang.wait_for_text("装好了")
    image = await wang.wait_for(lambda r: r.kind == "image")
    assert wx.media[image.text][0] == b"\xff\xd8 the fixed handrail"
