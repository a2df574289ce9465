"""The application's access token is fetched once and reused; when WeCom answers 42001 (expired) it is fetched again
once and the message still goes."""

from __future__ import annotations

from bot.app import TongxinApp
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from tests.wecom.helpers import resident_wish, wecom_coordinator


async def test_an_expired_token_is_renewed_once_and_the_card_still_arrives(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    await chen.send_text("你好")
    await chen.wait_for_text("同心工作台")
    assert wc.token_calls == 1
    await chen.send_text("在吗")
    await chen.wait_for(lambda r: sum("同心工作台" in m.text for m in chen.inbox) == 2)
    assert wc.token_calls == 1  # cached

    wc.expire_tokens()  # WeCom answers 42001 to the token the bot holds
    await resident_wish(env, sim.person("王阿姨"))
    card = await chen.wait_for_card("W-0001")
    assert [text for text, _key in card.buttons] == ["通过", "退回"]
    assert wc.token_calls == 2
