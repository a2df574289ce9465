"""Numbers 王阿姨 types on WeChat mean what they say: "5" to the rating menu gives five stars, and every area of
the district can be chosen (the tenth by typing 10; a choice past a menu's ten items is listed as text with its
number). Both drifted in the WeChat copy of the wish form (issue 26)."""

from __future__ import annotations

from actions import tasks
from bot.app import TongxinApp
from core.settings import DEFAULT_AREAS
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from storage import wishes as store
from tests.wechat.journey import claimed_wechat_wish, skip_to_summary, start_wechat_wish


async def test_typing_five_to_the_rating_menu_gives_five_stars(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    env = wechat_bot.bot_data.env
    wang = wx.person("王阿姨")
    wish, volunteer = await claimed_wechat_wish(env, wang, sim.person("小周"), "想请人帮忙换个灯泡")
    await tasks.finish(env, volunteer, wish.id, hours=1, proof=None, note=None)
    await wang.wait_for_text("已经办好了")
    await wang.send_text("1")  # 已完成
    menu = await wang.wait_for_text("打分")
    assert [content for _, content in menu.items] == [f"{n}. {n} 星" for n in range(1, 6)]
    await wang.send_text("5")
    await wang.wait_for_text("谢谢您的评价")
    async with env.db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).rating == 5


async def test_every_area_is_offered_and_the_tenth_is_chosen_by_typing_10(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    wang = wx.person("王阿姨")
    await start_wechat_wish(wang, "助老助残", "家里的水龙头坏了，想请人帮忙修一下")
    areas = await wang.wait_for_text("哪个镇")
    offered = [content.split(". ", 1)[1] for _, content in areas.items]
    assert offered == list(DEFAULT_AREAS)  # a menu holds ten items
    assert areas.tail.startswith("11. 跳过")  # the eleventh choice follows the ten items, and is typed
    await wang.send_text("10")
    summary = await skip_to_summary(wang)
    assert DEFAULT_AREAS[9] in summary.text  # 桃园村


async def test_the_eleventh_choice_is_its_own_numbered_line_above_the_footer_and_typing_11_takes_it(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    """ "11. 跳过" ran into the footer ("11. 跳过 点选一项…") on the demo's WeChat pane: past the menu's ten items the
    choices are lines of their own in tail_content, the footer on the next line (the pane keeping the lines:
    tests/browser/test_demo_wechat_switch.py)."""
    wang = wx.person("王阿姨")
    await start_wechat_wish(wang, "助老助残", "家里的水龙头坏了，想请人帮忙修一下")
    areas = await wang.wait_for_text("哪个镇")
    assert len(areas.items) == 10
    assert areas.tail.splitlines() == ["11. 跳过", "点选一项，或回复它前面的数字。"]
    await wang.send_text("11")
    summary = await skip_to_summary(wang)
    assert not any(area in summary.text for area in DEFAULT_AREAS)


async def test_an_emoji_only_description_is_refused_at_its_step_with_the_reason(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    """The same rule as Telegram's form: "🙏🙏🙏🙏🙏" is five characters but nothing a volunteer can act on, so it
    is refused where it is typed (it used to pass there and be asked for again at 提交, without a reason)."""
    wang = wx.person("王阿姨")
    await start_wechat_wish(wang, "助老助残")
    before = len(wang.inbox)
    await wang.send_text("🙏🙏🙏🙏🙏")
    refused = await wang.wait_for_text("表情符号", after=before)
    assert "哪个镇" not in refused.text
    await wang.send_text("家里的水龙头坏了，想请人帮忙修一下")
    await wang.wait_for_text("哪个镇")
