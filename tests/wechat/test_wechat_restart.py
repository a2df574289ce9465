"""A callback stored (and answered `success`) but not yet handled when the bot stopped is handled at the next start."""

from __future__ import annotations

from bot.app import TongxinApp, start_wechat
from simulator.wechat import WeChatSimulator
from storage import wechat


async def test_a_callback_stored_before_a_stop_is_handled_after_the_restart(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    services = wechat_bot.bot_data
    wang = wx.person("王阿姨")
    channel = services.wechat
    assert channel is not None
    await channel.stop()
    services.wechat = None

    # What the callback endpoint had stored when the process went down: 王阿姨 asked to make a wish.
    xml = wang._xml("event", {"Event": "CLICK", "EventKey": "WISH"}, msg_id=False)
    async with services.db.write() as conn:
        assert await wechat.record_inbound(conn, "o-restart:1", wang.openid, xml, now=services.clock.now())
        await wechat.opened(conn, wang.openid, now=services.clock.now())
    wx.accounts[wang.openid].last_inbound = services.clock.now()

    await start_wechat(wechat_bot)
    assert services.wechat is not None
    wx.callback_url = f"http://127.0.0.1:{services.wechat.port}/wechat"
    await wang.wait_for_text("助老助残")
    # The callback is marked handled once its replies are out, just after she has them: wait for the mark.
    for _ in range(100):
        async with services.db.read() as conn:
            if await wechat.unhandled(conn) == []:
                break
        await wx.next_change()
    else:
        raise AssertionError("the stored callback was never marked handled")
