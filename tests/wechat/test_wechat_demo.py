"""The demo's WeChat pane without a browser: 王阿姨 on WeChat through the page's API, answered by the real bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo import WECHAT_WANG_OPENID, WECHAT_XIAOZHOU_OPENID, WECHAT_ZHANG_OPENID, Demo, demo_running
from simulator.webchat import TOKEN_HEADER

pytestmark = [pytest.mark.wall_clock]


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    async with demo_running(port=0, data_dir=tmp_path / "demo-data", fresh=True) as running_demo:
        yield running_demo
    assert running_demo.sim.invalid_requests == []
    assert running_demo.wechat is not None
    assert running_demo.wechat.refusals == []


async def _chat_until(http: aiohttp.ClientSession, demo: Demo, text: str, who: int = 0) -> list[dict[str, Any]]:
    for _ in range(200):
        async with http.get(f"{demo.url}api/wechat") as response:
            state = await response.json()
        messages = list(state["people"][who]["messages"])
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


async def test_the_wechat_pane_switches_to_xiaozhou_who_claims_a_wish_with_the_volunteers_menu(demo: Demo) -> None:
    async with aiohttp.ClientSession(headers={TOKEN_HEADER: demo.webchat.token}) as http:
        async with http.get(f"{demo.url}api/wechat") as response:
            state = await response.json()
        names = [(p["name"], p["role"]) for p in state["people"]]
        assert names == [("王阿姨", ""), ("小周", "志愿者"), ("张记者", "流动记者")]
        xiaozhou, zhang = state["people"][1], state["people"][2]
        # 志愿 holds 我的任务, 活动, 时长 and 证明.
        assert [b["name"] for b in xiaozhou["menu"]["button"]] == ["任务", "志愿", "更多"]
        assert next(b["name"] for b in zhang["menu"]["button"]) == "报料"
        assert "任务" in xiaozhou["hint"]["zh-CN"]["text"]
        base = f"{demo.url}api/wechat/{WECHAT_XIAOZHOU_OPENID}"
        async with http.post(f"{base}/click", json={"key": "TASKS"}) as response:
            assert (await response.json())["ok"]
        messages = await _chat_until(http, demo, "认领", who=1)
        listed = next(m for m in messages if m["kind"] == "msgmenu")
        assert messages[0]["label"] == "任务"  # the click shows its button's label
        item_id, content = next((i, c) for i, c in listed["items"] if ". 认领 " in c)
        async with http.post(f"{base}/tap", json={"id": item_id, "content": content}) as response:
            assert (await response.json())["ok"]
        messages = await _chat_until(http, demo, "今天认领", who=1)
        when = [m for m in messages if m["kind"] == "msgmenu"][-1]
        item_id, content = next((i, c) for i, c in when["items"] if "今天认领" in c)
        async with http.post(f"{base}/tap", json={"id": item_id, "content": content}) as response:
            assert (await response.json())["ok"]
        await _chat_until(http, demo, "您认领了", who=1)
        assert WECHAT_ZHANG_OPENID in {p["openid"] for p in state["people"]}
