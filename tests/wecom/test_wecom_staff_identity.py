"""Staff identity on WeCom: an admin grants a role to a WeCom member with `/grant ROLE wecom:USERID`, and the member's
review cards follow the role: granted, the next wish reaches them as a card; revoked, their press on a card they
still hold is refused and changes nothing."""

from __future__ import annotations

from bot.app import TongxinApp
from rules.wishes import WishStatus
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from storage import people
from storage import wishes as store
from tests.conftest import ADMIN_ID
from tests.wecom.helpers import resident_wish


async def test_a_role_granted_to_a_wecom_member_brings_cards_and_revoked_stops_decisions(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    admin = sim.person("陈主任", user_id=ADMIN_ID)
    li = wc.member("李干事", "li.gs")
    await admin.send_command("/grant 协调员 wecom:li.gs")
    await admin.wait_for_text("已授予 li.gs")
    async with env.db.read() as conn:
        person = await people.find_person(conn, "wecom", "li.gs")
    assert person is not None
    assert "coordinator" in person.roles

    await admin.send_command("/grant 协调员 wecom:bad/id")
    await admin.wait_for_text("wecom:zhangsan")  # told how to name a member

    wish = await resident_wish(env, sim.person("王阿姨"))
    card = await li.wait_for_card("W-0001")

    await admin.send_command("/revoke 协调员 wecom:li.gs")
    await admin.wait_for_text("已收回 li.gs")
    assert (await li.press(card, "通过"))[0] == 200
    await li.wait_for_text("只有协调员可以审核心愿")
    async with env.db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == WishStatus.PENDING_REVIEW
