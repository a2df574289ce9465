"""Forged or replayed WeCom callbacks are refused (403) and change nothing: a bad msg_signature, a body encrypted
for another corporation, a timestamp older than 5 minutes, a nonce used before. WeCom's URL check is answered only
when it is signed."""

from __future__ import annotations

import datetime as dt

import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.app import TongxinApp
from rules.wishes import WishStatus
from simulator import BotApiSimulator
from simulator.wecom import WeComSimulator
from storage import people
from storage import wishes as store
from tests.wecom.helpers import resident_wish, wecom_coordinator


async def test_the_url_check_is_answered_with_the_decrypted_echostr(wecom_bot: TongxinApp, wc: WeComSimulator) -> None:
    status, answer, plain = await wc.verify_url()
    assert (status, answer) == (200, plain)


async def test_forged_and_replayed_presses_are_refused_and_change_nothing(
    wecom_bot: TongxinApp, wc: WeComSimulator, sim: BotApiSimulator
) -> None:
    env = wecom_bot.bot_data.env
    chen = await wecom_coordinator(env, wc, "陈主任", "chenzr")
    wish = await resident_wish(env, sim.person("王阿姨"))
    card = await chen.wait_for_card("W-0001")
    press = chen.press_xml(card, "通过")

    # A bad signature.
    query, body = wc.signed(press)
    forged = {**query, "msg_signature": "0" * 40}
    assert (await wc.post(forged, body))[0] == 403
    # The right token, but encrypted for another corporation.
    other = WeChatCrypto(wc.token, wc.aes_key, "ww_other_corp")
    stamp, nonce = str(int(wc.now().timestamp())), "n-other"
    foreign = other.encrypt_message(press, nonce, stamp)
    signature = str(xmltodict.parse(foreign)["xml"]["MsgSignature"])
    assert (await wc.post({"msg_signature": signature, "timestamp": stamp, "nonce": nonce}, foreign))[0] == 403
    # Signed, but six minutes old.
    old = int((wc.now() - dt.timedelta(minutes=6)).timestamp())
    assert (await wc.post(*wc.signed(press, timestamp=old)))[0] == 403
    # A stranger's press (a userid the bot never met) is refused too when forged: no person is created for it.
    stranger = wc.member("路人", "stranger1")
    query, body = wc.signed(stranger.press_xml(card, "通过"))
    assert (await wc.post({**query, "msg_signature": "f" * 40}, body))[0] == 403

    channel = wecom_bot.bot_data.wecom
    assert channel is not None
    await channel.idle()
    async with env.db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == WishStatus.PENDING_REVIEW
        assert await people.find_person(conn, "wecom", "stranger1") is None
    assert card.replaced is None
    assert chen.inbox[-1].card is not None  # nothing was said to him either

    # The genuine press decides once; the very same request again is a replay, refused.
    query, body = wc.signed(press)
    assert (await wc.post(query, body))[0] == 200
    assert (await wc.post(query, body))[0] == 403
    await chen.wait_for_text("已通过心愿 W-0001")
    await channel.idle()
    async with env.db.read() as conn:
        assert (await store.get_wish(conn, wish.id)).status == WishStatus.OPEN
    assert sum(r.kind == "text" and "W-0001" in r.text for r in chen.inbox) == 1
