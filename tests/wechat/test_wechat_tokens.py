"""An access token WeChat no longer accepts (revoked: the AppSecret was reset, or another server fetched a new one)
is fetched again once on every call that carries it, media both ways included (issue 26: her photo was "not
received" and the volunteer's proof photo silently dropped until some other call renewed it)."""

from __future__ import annotations

from bot.app import TongxinApp
from channels.wechat.server import WeChatChannel
from simulator.wechat import WeChatSimulator
from tests.wechat.journey import start_wechat_wish


def expect_one_refusal(wx: WeChatSimulator, path: str) -> None:
    """The refused call was the one made with the revoked token; nothing else was refused."""
    assert [(r.path, r.errcode) for r in wx.refusals] == [(path, 40001)]
    wx.refusals.clear()


async def test_her_photo_arrives_although_the_token_was_revoked(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    wang = wx.person("王阿姨")
    await start_wechat_wish(wang, "助老助残", "家里的水龙头坏了，想请人帮忙修一下")
    await wang.tap("东城社区")
    await wang.wait_for_text("具体在哪里")
    await wang.send_text("跳过")
    await wang.wait_for_text("照片")
    wx.tokens.clear()  # revoked
    await wang.send_photo(b"\xff\xd8 her kitchen tap")
    await wang.wait_for_text("留个电话")
    assert all("没有收到" not in r.text for r in wang.inbox)
    expect_one_refusal(wx, "/cgi-bin/media/get")


async def test_an_upload_after_the_token_was_revoked_is_made_with_a_fresh_one(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    channel = wechat_bot.bot_data.wechat
    assert isinstance(channel, WeChatChannel)
    await channel.api.token()
    wx.tokens.clear()
    media_id = await channel.api.upload_image(b"\x89PNG proof: the tap is fixed")
    assert wx.media[media_id][0] == b"\x89PNG proof: the tap is fixed"
    expect_one_refusal(wx, "/cgi-bin/media/upload")
