"""WeChat's secrets never reach the logs, at any level: a broken proxy in front of WeChat's API answers with redirects
to itself (the URLs carry the AppSecret and the access token), and the captured log of every logger at DEBUG holds
neither them nor the callback Token or the EncodingAESKey."""

from __future__ import annotations

import logging

import pytest

from bot.app import TongxinApp
from bot.cli import TALKATIVE_LIBRARIES, configure_logging
from core.clock import Timer
from core.logs import redact
from core.settings import load_settings
from simulator.wechat import WeChatSimulator
from tests.wechat.conftest import AES_KEY


async def test_a_redirect_loop_logs_neither_the_app_secret_nor_the_access_token(
    wechat_bot: TongxinApp, wx: WeChatSimulator, caplog: pytest.LogCaptureFixture, timer: Timer
) -> None:
    caplog.set_level(logging.DEBUG)
    wang = wx.person("王阿姨")
    await wang.send_text("你好")
    await wang.wait_for_text("许心愿")
    issued = set(wx.tokens)
    assert issued

    # The token in use now loops through the proxy on every send.
    wx.redirecting.add("/cgi-bin/message/custom/send")
    await wang.send_text("我的心愿")
    await timer.sleep(2)
    # The token expires; getting a new one sends the AppSecret, into the loop too.
    wx.redirecting.add("/cgi-bin/token")
    wx.tokens.clear()
    wx.redirecting.discard("/cgi-bin/message/custom/send")
    await wang.send_text("你好")
    await timer.sleep(2)
    wx.refusals.clear()  # the invalid token's refusals are this test's doing

    logged = caplog.text
    assert "/cgi-bin/message/custom/send" in logged, "the failed sends were logged"
    assert "/cgi-bin/token" in logged, "the failed token fetch was logged"
    secrets = [wx.secret, wx.token, AES_KEY, *issued]
    assert [secret for secret in secrets if secret in logged] == []


def test_credentials_in_urls_and_json_are_redacted_whatever_logs_them() -> None:
    assert (
        redact("GET http://proxy/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=Zx9_Q&x=1")
        == "GET http://proxy/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=[redacted]&x=1"
    )
    assert (
        redact("POST /cgi-bin/menu/create?access_token=AbC.12-3") == "POST /cgi-bin/menu/create?access_token=[redacted]"
    )
    assert (
        redact('{"access_token": "AbC.12-3", "expires_in": 7200}')
        == '{"access_token": "[redacted]", "expires_in": 7200}'
    )
    assert (
        redact("GET /cgi-bin/media/get?access_token=AbC&media_id=m-4_x")
        == "GET /cgi-bin/media/get?access_token=[redacted]"
        "&media_id=[redacted]"
    )
    assert redact("the token bucket refilled") == "the token bucket refilled"


def test_debug_raises_the_bots_loggers_and_keeps_the_libraries_that_log_what_they_carry_at_info() -> None:
    settings = load_settings(bot_token="1:abc", log_level="DEBUG", _env_file=None)
    saved = {name: logging.getLogger(name).level for name in (*TALKATIVE_LIBRARIES, "")}
    try:
        configure_logging(settings)
        assert logging.getLogger("handlers.errors").getEffectiveLevel() == logging.DEBUG
        assert logging.getLogger("telegram.ext.ExtBot").getEffectiveLevel() == logging.INFO
        # aiosqlite logs every statement with its parameters (a resident's wish, her address) at DEBUG.
        assert logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG) is False
        assert logging.getLogger("telegram._bot").isEnabledFor(logging.DEBUG) is False
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
