"""Nobody acts as a WeChat resident with a callback URL they saw: in safe mode only encrypted callbacks with a valid
msg_signature are taken, a timestamp more than 300 s off or a nonce seen before is refused, an openid is bounded, a
MsgId is one follower's, and a follower who floods the account is slowed down like a Telegram user.

Each attack is made as an attacker would: with a signed (token, timestamp, nonce) triple from a logged URL, not with
the token."""

from __future__ import annotations

import datetime as dt

import aiohttp
from sqlalchemy import func, select
from wechatpy.utils import WeChatSigner

from bot.app import TongxinApp
from core.clock import Timer
from simulator.wechat import WeChatSimulator
from storage.schema import identities, wechat_inbound


def text_xml(openid: str, text: str, msg_id: int, created: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_sim]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


async def post(wx: WeChatSimulator, query: dict[str, str], body: str) -> tuple[int, str]:
    assert wx.callback_url is not None
    async with (
        aiohttp.ClientSession() as http,
        http.post(wx.callback_url, params=query, data=body.encode()) as response,
    ):
        return response.status, await response.text()


async def stored(bot: TongxinApp) -> int:
    async with bot.bot_data.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(wechat_inbound))).scalar_one())


def now_ts(wx: WeChatSimulator) -> int:
    return int(wx.now().timestamp())


async def test_a_logged_triple_does_not_switch_safe_mode_off(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    """The triple of a real callback, replayed with plaintext XML in another follower's name, is refused."""
    wang = wx.person("王阿姨")
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    before = await stored(wechat_bot)
    logged, _ = wx.signed(text_xml(wang.openid, "x", 1, now_ts(wx)))
    forged = {k: v for k, v in logged.items() if k not in ("encrypt_type", "msg_signature")}
    status, body = await post(wx, forged, text_xml(wang.openid, "删除我的数据", 424242, now_ts(wx)))
    assert (status, body) == (403, "safe mode: only encrypted callbacks are accepted")
    assert await stored(wechat_bot) == before


async def test_a_stale_timestamp_is_refused(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    """A triple signed in 2001 (or 301 s ago) is not taken; one 299 s off is."""
    for seconds, expected in ((978_307_200 - now_ts(wx), 403), (-301, 403), (301, 403), (-299, 200)):
        timestamp = str(now_ts(wx) + seconds)
        nonce = f"n{seconds}"
        signer = WeChatSigner()
        signer.add_data(wx.token, timestamp, nonce)
        query = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}
        assert wx.callback_url is not None
        async with (
            aiohttp.ClientSession() as http,
            http.get(wx.callback_url, params={**query, "echostr": "hello"}) as response,
        ):
            assert response.status == expected, seconds
    async with wechat_bot.bot_data.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(identities))).scalar_one() == 0


async def test_the_same_request_twice_is_refused_the_second_time(
    wechat_bot: TongxinApp, wx: WeChatSimulator, timer: Timer
) -> None:
    wang = wx.person("王阿姨")
    query, body = wx.signed(text_xml(wang.openid, "你好", 77, now_ts(wx)))
    assert await wx.deliver(wang.openid, query, body) == (200, "success")
    assert await post(wx, query, body) == (403, "nonce seen before")
    await wang.wait_for_text("许心愿")
    await timer.sleep(1)
    assert len(wang.inbox) == 1
    assert await stored(wechat_bot) == 1


async def test_an_openid_that_is_not_wechats_is_refused(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    for openid in ("o" * 65, "o'; DROP TABLE people;--", ""):
        query, body = wx.signed(text_xml(openid, "你好", 5, now_ts(wx)))
        assert (await post(wx, query, body))[0] == 400
    assert await stored(wechat_bot) == 0


async def test_a_msgid_belongs_to_one_follower(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    """Two followers whose messages carry the same MsgId are both answered (a MsgId is unique per account)."""
    wang, li = wx.person("王阿姨"), wx.person("李大爷")
    for person in (wang, li):
        query, body = wx.signed(text_xml(person.openid, "你好", 900, now_ts(wx)))
        assert await wx.deliver(person.openid, query, body) == (200, "success")
    await wang.wait_for_text("许心愿")
    await li.wait_for_text("许心愿")
    assert await stored(wechat_bot) == 2


async def test_a_follower_flooding_the_account_is_slowed_down_and_told_once(
    wechat_bot: TongxinApp, wx: WeChatSimulator, timer: Timer
) -> None:
    wang = wx.person("王阿姨")
    for n in range(35):
        query, body = wx.signed(text_xml(wang.openid, f"第{n}条", 1000 + n, now_ts(wx)))
        assert await wx.deliver(wang.openid, query, body) == (200, "success")  # WeChat always gets its answer
    await wang.wait_for_text("太快")
    await wechat_bot.bot_data.wechat.idle()  # type: ignore[union-attr]
    await timer.sleep(1)
    assert await stored(wechat_bot) == 30
    assert sum("太快" in r.text for r in wang.inbox) == 1


async def test_a_stale_callback_is_refused_before_its_body_is_read(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    """The timestamp is checked before safe mode and the body: the same rule whatever the body."""
    wang = wx.person("王阿姨")
    old = now_ts(wx) - int(dt.timedelta(days=365 * 25).total_seconds())
    signer = WeChatSigner()
    signer.add_data(wx.token, str(old), "abc")
    query = {"signature": signer.signature, "timestamp": str(old), "nonce": "abc"}
    assert await post(wx, query, text_xml(wang.openid, "你好", 3, old)) == (403, "stale timestamp")
    assert await stored(wechat_bot) == 0
