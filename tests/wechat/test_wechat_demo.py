"""The demo's WeChat pane without a browser: 王阿姨 on WeChat through the page's API, answered by the real bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo import WECHAT_WANG_OPENID, Demo, demo_running
from simulator.webchat import TOKEN_HEADER

pytestmark = [pytest.mark.wall_clock]


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    async with demo_running(port=0, data_dir=tmp_path / "demo-data", fresh=True) as running_demo:
        yield running_demo
    assert running_demo.sim.invalid_requests == []
    assert running_demo.wechat is not None
    assert running_demo.wechat.refusals == []


async def _chat_until(http: aiohttp.ClientSession, demo: Demo, text: str) -> list[dict[str, Any]]:
    for _ in range(200):
        async with http.get(f"{demo.url}api/wechat") as response:
            state = await response.json()
        messages = list(state["people"][0]["messages"])
        if any(text in m["text"] + str(m["items"]) for m in messages if m["from"] == "bot"):
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {text!r}")


async def test_wang_ayi_talks_to_the_service_account_on_the_demo_page(demo: Demo) -> None:
    base = f"{demo.url}api/wechat/{WECHAT_WANG_OPENID}"
    async with aiohttp.ClientSession(headers={TOKEN_HEADER: demo.webchat.token}) as http:
        async with http.get(f"{demo.url}static/wechat.js") as response:
            assert response.status == 200
        async with http.get(f"{demo.url}api/wechat") as response:
            state = await response.json()
        assert state["people"][0]["name"] == "王阿姨"
        assert [b["name"] for b in state["menu"]["button"]] == ["许心愿", "我的心愿", "更多"]

        async with http.post(f"{base}/click", json={"key": "WISH"}) as response:
            assert (await response.json())["ok"]
        messages = await _chat_until(http, demo, "助老助残")
        menu = next(m for m in messages if m["kind"] == "msgmenu")
        item_id, content = next((i, c) for i, c in menu["items"] if "助老助残" in c)
        async with http.post(f"{base}/tap", json={"id": item_id, "content": content}) as response:
            assert (await response.json())["ok"]
        await _chat_until(http, demo, "请用文字描述")
