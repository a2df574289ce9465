"""The WeChat calls behind menus per role and invite QR codes, against the simulator (WeChat's documented rules):
each renews a revoked token once, and the simulator refuses what WeChat refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from channels.wechat.api import WeChatApi, WeChatError
from channels.wechat.server import WeChatChannel
from core.clock import ManualClock
from simulator.wechat import WeChatSimulator


def volunteer_tag(wx: WeChatSimulator) -> int:
    """The id WeChat gave the volunteers' tag at start."""
    return next(tag_id for tag_id, name in wx.tag_names.items() if name == "同心·志愿者")


def api_of(bot: TongxinApp) -> WeChatApi:
    channel = bot.bot_data.wechat
    assert isinstance(channel, WeChatChannel)
    return channel.api


async def test_every_new_call_renews_a_revoked_token_once(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    api = api_of(wechat_bot)
    follower = wx.person("小周")
    calls = [
        ("/cgi-bin/qrcode/create", lambda: api.create_qr("vinv_abc", expire_seconds=60)),
        ("/cgi-bin/tags/get", api.tags),
        ("/cgi-bin/tags/create", lambda: api.create_tag("另一个标签")),
        ("/cgi-bin/tags/members/batchtagging", lambda: api.tag_users(volunteer_tag(wx), [follower.openid])),
        ("/cgi-bin/tags/getidlist", lambda: api.user_tags(follower.openid)),
        ("/cgi-bin/menu/get", api.menus),
        ("/cgi-bin/menu/trymatch", lambda: api.try_match(follower.openid)),
    ]
    for path, call in calls:
        wx.tokens.clear()  # revoked: the AppSecret was reset, or another server fetched a token
        await call()
        assert [(r.path, r.errcode) for r in wx.refusals] == [(path, 40001)]
        wx.refusals.clear()
    assert await api.user_tags(follower.openid) == [volunteer_tag(wx)]


async def test_a_qr_code_lives_as_long_as_asked_and_then_shows_nothing(
    wechat_bot: TongxinApp, wx: WeChatSimulator, clock: ManualClock
) -> None:
    api = api_of(wechat_bot)
    code = await api.create_qr("vinv_abc", expire_seconds=3600)
    assert code.expire_seconds == 3600
    image = await api.qr_image(code.ticket)
    assert image.startswith(b"\x89PNG")
    stranger = wx.stranger("小李")
    clock.advance(dt.timedelta(hours=1))
    with pytest.raises(WeChatError) as refused:
        await api.qr_image(code.ticket)
    assert refused.value.errcode == 404
    assert await stranger.scan(image) is None  # WeChat shows its own "expired" page; the account hears nothing
    assert not wx.accounts[stranger.openid].following
    permanent = await api.create_qr("rinv_xyz")
    assert permanent.expire_seconds is None


async def test_the_simulator_refuses_what_wechat_refuses(wechat_bot: TongxinApp, wx: WeChatSimulator) -> None:
    api = api_of(wechat_bot)
    refusals = [
        (
            lambda: api._api(
                "/cgi-bin/qrcode/create",
                {
                    "action_name": "QR_STR_SCENE",
                    "expire_seconds": 2_592_001,
                    "action_info": {"scene": {"scene_str": "x"}},
                },
            ),
            40097,
        ),
        (lambda: api.create_tag("同心·志愿者"), 45157),  # ours exists already
        (lambda: api.create_tag("一" * 11), 45158),  # 33 bytes
        (
            lambda: api._api(
                "/cgi-bin/tags/members/batchtagging",
                {"openid_list": [wx.person(f"p{n}").openid for n in range(51)], "tagid": volunteer_tag(wx)},
            ),
            40032,
        ),
        (lambda: api.tag_users(999, [wx.person("p").openid]), 45159),
        (lambda: api.tag_users(volunteer_tag(wx), ["o-nobody"]), 40003),
        (lambda: api.delete_conditional_menu("424242"), 65301),
        (
            lambda: api._api(
                "/cgi-bin/menu/addconditional",
                {"button": [{"type": "click", "name": "x", "key": "X"}], "matchrule": {}},
            ),
            65304,
        ),
        (
            lambda: api._api(
                "/cgi-bin/menu/addconditional",
                {"button": [{"type": "click", "name": "x", "key": "X"}], "matchrule": {"sex": "1"}},
            ),
            65320,
        ),
        (lambda: api.try_match("o-nobody"), 65302),
        (  # a button name of 27 bytes (at most 16)
            lambda: api.add_conditional_menu(
                {"button": [{"type": "click", "name": "一个很长的菜单名字", "key": "X"}]}, volunteer_tag(wx)
            ),
            40018,
        ),
    ]
    for call, errcode in refusals:
        with pytest.raises(WeChatError) as refused:
            await call()
        assert refused.value.errcode == errcode
    assert len(wx.refusals) == len(refusals)
    wx.refusals.clear()
    # The client keeps to 50 a call: 51 followers are tagged in two calls.
    await api.tag_users(volunteer_tag(wx), [wx.person(f"q{n}").openid for n in range(51)])
    assert sum(volunteer_tag(wx) in account.tags for account in wx.accounts.values()) == 51
    # A follower may carry 20 tags at most.
    busy = wx.person("标签很多的人")
    for n in range(20):
        await api.tag_users(await api.create_tag(f"标签{n}"), [busy.openid])
    with pytest.raises(WeChatError) as refused:
        await api.tag_users(volunteer_tag(wx), [busy.openid])
    assert refused.value.errcode == 45059
    wx.refusals.clear()


async def test_a_conditional_menu_needs_the_default_menu_first(wx: WeChatSimulator, clock: ManualClock) -> None:
    api = WeChatApi(wx.api_url, wx.app_id, wx.secret, now=clock.now)
    try:
        tag = await api.create_tag("同心·志愿者")
        with pytest.raises(WeChatError) as refused:
            await api.add_conditional_menu({"button": [{"type": "click", "name": "任务", "key": "TASKS"}]}, tag)
        assert refused.value.errcode == 65303
        with pytest.raises(WeChatError) as missing:
            await api.menus()
        assert missing.value.errcode == 46003
    finally:
        await api.close()
    wx.refusals.clear()
