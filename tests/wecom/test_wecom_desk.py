"""The staff's desk in the WeCom application (issue 28): one menu for every member, set when the bot starts; each
entry answers by the member's roles (a member without the role is told which one it takes); 统计 sends the figures
and the chart as an image; 导出 sends the CSV as a file message ("the export arrives as a file"); 待审 sends the
review cards again; 案件 lists a member's open cases."""

from __future__ import annotations

import pytest

from bot.app import TongxinApp
from channels.wecom import desk
from rules.roles import Role
from rules.wishes import WishStatus
from simulator import BotApiSimulator
from simulator.wecom import WeComMember, WeComSimulator
from storage import people, users
from storage import wishes as store
from tests.conftest import ADMIN_ID, START_TIME
from tests.wecom.helpers import DESCRIPTION, chengguan_with_members, resident_wish, wecom_coordinator
from tests.wecom.test_wecom_applications import TITLE as APPLICATION
from tests.wecom.test_wecom_applications import applicant_and_cards


async def plain_member(wecom_bot: TongxinApp, wc: WeComSimulator, name: str, userid: str) -> WeComMember:
    """A member of the corporation with no staff role granted."""
    async with wecom_bot.bot_data.env.db.write() as conn:
        await people.person_for_identity(conn, "wecom", userid, first_name=name, language="zh-CN", now=START_TIME)
    return wc.member(name, userid)


async def test_the_menu_is_set_once_for_everyone_and_answers_by_role(wecom_bot: TongxinApp, wc: WeComSimulator) -> None:
    assert wc.menu is not None
    top = [button["name"] for button in wc.menu["button"]]
    assert top == ["待审", "案件", "更多"]
    more = [b["name"] for b in wc.menu["button"][2]["sub_button"]]
    assert more == ["统计", "月报", "导出", "授权", "绑定 Telegram"]  # five: the most a sub-menu holds

    xiaowu = await plain_member(wecom_bot, wc, "小吴", "xiaowu")
    entries = (("PENDING", "协调员"), ("CASES", "部门成员"), ("STATS", "协调员"), ("EXPORT", "协调员"))
    for key, role in (*entries, ("REPORT", "协调员"), ("GRANT", "管理员")):
        seen = len(xiaowu.inbox)
        await xiaowu.click(key)
        told = await xiaowu.wait_for(lambda r, n=seen: r in xiaowu.inbox[n:] and r.kind == "text")
        assert f"“{role}”的角色" in told.text, key
    await xiaowu.send_text("帮助")  # typed: the sub-menu is full
    await xiaowu.wait_for_text("同心工作台：\n· 待审")
    await xiaowu.send_text("你好")  # not an entry: what the application does, and where
    greeted = await xiaowu.wait_for_text("下方菜单有待审、案件、统计、月报、导出和授权")
    assert "Telegram" not in greeted.text
    async with wecom_bot.bot_data.env.db.read() as conn:
        assert await store.count_in_status(conn, WishStatus.PENDING_REVIEW) == 0  # nothing changed


@pytest.mark.both_databases  # the export reads wishes by keyset on each database
async def test_the_export_arrives_as_a_file(wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    await resident_wish(env, sim.person("王阿姨"))
    await chen.wait_for_card("W-0001")

    await chen.click("EXPORT")
    await chen.wait_for_text("导出 心愿 2026-11-01 2026-11-30")
    await chen.send_text("导出 心愿 2026-11-01 2026-11-30")
    received = await chen.wait_for(lambda r: r.kind == "file")
    upload = chen.upload(received)
    assert upload.filename == "tongxin-wishes-2026-11-01-2026-11-30.csv"
    text = upload.content.decode("utf-8-sig")
    assert "W-0001" in text
    assert DESCRIPTION in text
    caption = await chen.wait_for_text("共 1 行")
    assert "2026-11-01 至 2026-11-30" in caption.text

    # A date that is not one is said so; nothing is sent.
    await chen.send_text("导出 心愿 2026-13-01")
    await chen.wait_for_text("日期格式不对")
    assert sum(r.kind == "file" for r in chen.inbox) == 1


async def test_an_export_over_wecoms_file_limit_is_refused_with_the_limit_named(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    await resident_wish(env, sim.person("王阿姨"))
    monkeypatch.setattr(desk, "FILE_MAX_BYTES", 64)  # the 20 MB limit, scaled down to one wish's row
    await chen.send_text("导出 心愿")
    refused = await chen.wait_for_text("超过企业微信文件消息的 20 MB")
    assert "1 行" in refused.text
    assert all(r.kind != "file" for r in chen.inbox)


async def test_stats_come_as_text_and_the_chart_as_an_image(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    await resident_wish(env, sim.person("王阿姨"))
    await chen.click("STATS")
    figures = await chen.wait_for_text("数据统计")
    assert "心愿 1 个" in figures.text
    assert "志愿活动" in figures.text  # the centre's activity figures close it, as on Telegram
    assert "**" not in figures.text  # plain text, as WeCom shows it
    image = await chen.wait_for(lambda r: r.kind == "image")
    chart = chen.upload(image)
    assert chart.kind == "image"
    assert chart.content.startswith(b"\x89PNG")
    # Typed, with a period.
    await chen.send_text("统计 全部")
    await chen.wait_for(lambda r: sum(x.kind == "image" for x in chen.inbox) == 2)


async def test_pending_sends_the_review_cards_again_and_one_decides(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    await resident_wish(env, sim.person("王阿姨"))
    first = await chen.wait_for_card("W-0001")
    await chen.click("PENDING")
    said = await chen.wait_for_text("等待审核：心愿 1 件")
    assert "W-0001" in said.text
    await chen.wait_for(lambda r: sum(x.card is not None and "W-0001" in x.card.title for x in chen.inbox) == 2)
    again = chen.card("W-0001")
    assert again.task_id != first.task_id
    await chen.press(again, "通过")
    await chen.wait_for_text("已通过心愿 W-0001")
    # Both of his cards now say who decided.
    await chen.wait_for(lambda _r: first.replaced is not None and again.replaced is not None)
    await chen.click("PENDING")
    await chen.wait_for_text("现在没有等待审核")


async def test_cases_lists_the_open_cases_of_the_members_departments(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    (zhang,) = await chengguan_with_members(wecom_bot, wc, sim, ("老张", "zhang.l"))
    await zhang.click("CASES")
    await zhang.wait_for_text("没有未办结的案件")
    zhou = sim.person("周主任", user_id=ADMIN_ID)
    await zhou.send_command("/case", "W-0001 城管 urgent")
    await zhou.wait_for_text("已派单 C-0001")
    await zhang.wait_for_card("C-0001")
    await zhang.send_text("案件")
    listed = await zhang.wait_for_text("未办结的案件（1 件）")
    assert "C-0001 · 城管 · 待签收" in listed.text
    await zhang.press(zhang.card("C-0001"), "签收")
    await zhang.wait_for_text("您已签收案件 C-0001")
    await zhang.send_text("案件")
    taken = await zhang.wait_for_text("C-0001 · 城管 · 老张已签收")
    assert "C-0001" in taken.text

    # A coordinator on WeCom gets every department's open cases, as /cases shows them on Telegram.
    chen = await wecom_coordinator(wecom_bot.bot_data.env, wc, "陈主任", "chenzr")
    await chen.click("CASES")
    overview = await chen.wait_for_text("C-0001")
    assert "城管" in overview.text
    assert "老张" in overview.text
    assert all("部门成员" not in r.text for r in chen.inbox)


async def test_a_role_granted_later_opens_the_entry(wecom_bot: TongxinApp, wc: WeComSimulator) -> None:
    """The menu is the same for everyone; what an entry answers follows the member's roles of the moment."""
    xiaowu = await plain_member(wecom_bot, wc, "小吴", "xiaowu")
    await xiaowu.send_text("统计")
    await xiaowu.wait_for_text("“协调员”的角色")
    async with wecom_bot.bot_data.env.db.write() as conn:
        person = await people.find_person(conn, "wecom", "xiaowu")
        assert person is not None
        await users.grant_role(conn, person.id, Role.MONITOR, granted_by=None, now=START_TIME)
    await xiaowu.send_text("统计")
    await xiaowu.wait_for(lambda r: r.kind == "image")


async def test_a_reason_asked_for_is_taken_as_the_reason_even_when_it_begins_with_an_entry_word(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    """退回 asked why; the answer "案件 …" is the reason the resident reads, not the desk's 案件."""
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    wang = sim.person("王阿姨")
    await resident_wish(env, wang)
    await chen.press(await chen.wait_for_card("W-0001"), "退回")
    await chen.wait_for_text("请写明不通过的原因")
    await chen.send_text("案件 已转城管处理，不需要志愿者")
    await chen.wait_for_text("已处理，原因已发送给对方")
    await wang.wait_for_text("案件 已转城管处理，不需要志愿者")
    assert all("待办案件" not in r.text for r in chen.inbox)  # the desk's 案件 did not answer
    await chen.send_text("案件")  # the question answered, the word is the desk's again
    await chen.wait_for_text("各部门都没有待办案件")


async def test_pending_sends_a_waiting_applications_card_again_and_it_decides(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    xiaoli, chen, _li, first, _li_card = await applicant_and_cards(wecom_bot, wc, sim)
    await chen.click("PENDING")
    said = await chen.wait_for_text("志愿者申请 1 份")
    assert "小李" in said.text
    await chen.wait_for(lambda _r: sum(x.card is not None and APPLICATION in x.card.title for x in chen.inbox) == 2)
    again = chen.card(APPLICATION)
    assert again.task_id != first.task_id
    await chen.press(again, "通过")
    await xiaoli.wait_for_text("通过")
    await chen.wait_for(lambda _r: first.replaced is not None and again.replaced is not None)
