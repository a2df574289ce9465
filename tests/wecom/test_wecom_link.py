"""/link on WeCom (issue 28): a coordinator who uses Telegram joins their WeCom account to the same person with a
one-time code (绑定 123456 in the application, typed or from the menu's 绑定), only once they say yes on Telegram;
from then on the WeCom member holds the Telegram person's roles."""

from __future__ import annotations

from bot.app import TongxinApp
from rules.roles import Role
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from storage import people, users
from tests.conftest import START_TIME
from tests.stories.wishflow import person_id, wait_for_button
from tests.wechat.test_wechat_link import a_code


async def test_a_coordinator_on_telegram_links_their_wecom_account_and_it_gets_their_roles(
    wecom_bot: TongxinApp, sim: BotApiSimulator, wc: WeComSimulator
) -> None:
    db = wecom_bot.bot_data.db
    chen = sim.person("陈主任")
    await chen.send_command("/start")
    await chen.wait_for_text("您好")
    telegram_person = await person_id(db, chen)
    async with db.write() as conn:
        await users.grant_role(conn, telegram_person, Role.COORDINATOR, granted_by=None, now=START_TIME)
    on_wecom = wc.member("陈主任", "chen.zhuren")

    # Before linking, the WeCom member is a person of their own, with no role: 统计 is not theirs.
    await on_wecom.send_text("统计")
    await on_wecom.wait_for_text("“协调员”的角色")
    await on_wecom.click("LINK")
    await on_wecom.wait_for_text("发 /link 获取绑定码")

    code = await a_code(chen)
    assert "企业微信" in (chen.messages[-1].text or "")
    await on_wecom.send_text("绑定 000000" if code != "000000" else "绑定 111111")
    await on_wecom.wait_for_text("绑定码无效")
    await on_wecom.send_text(f"绑定 {code}")
    await on_wecom.wait_for_text("请您本人确认")
    asked = await chen.wait_for_text("一个企业微信账号刚刚发送了您的绑定码")
    assert asked is not None
    async with db.read() as conn:
        still = await people.find_person(conn, "wecom", "chen.zhuren")
    assert still is not None
    assert still.id != telegram_person  # nothing joined before he says so
    await wait_for_button(chen, "✅ 是我，绑定")
    await chen.press("✅ 是我，绑定")
    await chen.wait_for_text("已绑定")

    async with db.read() as conn:
        joined = await people.find_person(conn, "wecom", "chen.zhuren")
    assert joined is not None
    assert joined.id == telegram_person
    # His roles are the WeCom member's now: 统计 answers with the figures and the chart.
    await on_wecom.send_text("统计")
    await on_wecom.wait_for(lambda r: r.kind == "image")
    seen = len(on_wecom.inbox)
    await on_wecom.send_text(f"绑定 {code}")  # the code is spent
    await on_wecom.wait_for(lambda r, n=seen: r in on_wecom.inbox[n:] and "绑定码无效" in r.text)
