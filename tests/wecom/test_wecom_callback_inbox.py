"""Every WeCom callback is stored before it is answered (`wechat_inbound`, keys `wecom:…`): one stored when the bot
stopped before handling it is handled at the next start, and WeCom's retry of one already stored is answered and
not handled again."""

from __future__ import annotations

import pytest
import xmltodict

from bot.app import TongxinApp, start_wecom
from channels.wecom.server import callback_key
from rules.wishes import WishStatus
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from storage import wechat, wishes
from tests.wecom.helpers import resident_wish, wecom_coordinator


@pytest.mark.both_databases
async def test_a_press_stored_before_a_stop_is_handled_after_the_restart_and_its_retry_is_not(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    services = wecom_bot.bot_data
    env = services.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    wish = await resident_wish(env, sim.person("王阿姨"))
    card = await chen.wait_for_card("W-0001")
    channel = services.wecom
    assert channel is not None
    await channel.stop()
    services.wecom = None

    # What the callback endpoint had stored (and answered) when the process went down: 陈主任's press of 通过.
    press = chen.press_xml(card, "通过")
    key = callback_key("chenzr", dict(xmltodict.parse(press)["xml"]))
    async with services.db.write() as conn:
        assert await wechat.record_inbound(conn, key, "chenzr", press, now=services.clock.now())
        assert [i.msg_key for i in await wechat.unhandled(conn, wecom=True)] == [key]
        assert await wechat.unhandled(conn) == []  # WeChat's own recovery leaves WeCom's callbacks alone

    await start_wecom(wecom_bot)
    restarted = services.wecom
    assert restarted is not None
    wc.callback_url = f"http://127.0.0.1:{restarted.port}/wecom"
    await chen.wait_for_text("已通过心愿 W-0001")
    await restarted.idle()
    async with services.db.read() as conn:
        assert await wechat.unhandled(conn, wecom=True) == []
        assert (await wishes.get_wish(conn, wish.id)).status == WishStatus.OPEN

    # WeCom did not get the answer in time and sends the same press again: answered, not handled twice.
    before = len(chen.inbox)
    assert await wc.post(*wc.signed(press)) == (200, "")
    await restarted.idle()
    assert len(chen.inbox) == before  # no second reply ("已由陈主任处理" would be one)
    await restarted.stop()
