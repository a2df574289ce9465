"""The demo's WeChat pane without a browser: 王阿姨 on WeChat through the page's API, answered by the real bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo import WECHAT_WANG_OPENID, WECHAT_XIAOZHOU_OPENID, WECHAT_ZHANG_OPENID, Demo, demo_running
from simulator.webchat import SAMPLES_DIR, TOKEN_HEADER

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


async def test_zhang_sends_a_photo_lead_from_the_wechat_pane_and_the_editor_sees_the_photos(demo: Demo) -> None:
    samples = ("river.jpg", "visit.jpg")
    base = f"{demo.url}api/wechat/{WECHAT_ZHANG_OPENID}"
    async with aiohttp.ClientSession(headers={TOKEN_HEADER: demo.webchat.token}) as http:
        async with http.get(f"{demo.url}api/wechat") as response:
            state = await response.json()
        assert "报料" in state["people"][2]["hint"]["zh-CN"]["tries"]

        async def chat(path: str, body: dict[str, Any], then: str, after: int) -> list[dict[str, Any]]:
            async with http.post(f"{base}/{path}", json=body) as response:
                assert (await response.json())["ok"]
            for _ in range(200):
                async with http.get(f"{demo.url}api/wechat") as response:
                    messages = list((await response.json())["people"][2]["messages"])
                if any(then in m["text"] + str(m["items"]) for m in messages[after:] if m["from"] == "bot"):
                    return messages
                await asyncio.sleep(0.05)
            raise AssertionError(f"never saw {then!r} after message {after}")

        async def tap(label: str, then: str) -> None:
            async with http.get(f"{demo.url}api/wechat") as response:
                messages = list((await response.json())["people"][2]["messages"])
            menu = [m for m in messages if m["kind"] == "msgmenu"][-1]
            item_id, content = next((i, c) for i, c in menu["items"] if label in c)
            await chat("tap", {"id": item_id, "content": content}, then, len(messages))

        messages = await chat("click", {"key": "LEAD"}, "一张一张发", len(state["people"][2]["messages"]))
        messages = await chat("photo", {"sample": samples[0]}, "已收到 1 张照片", len(messages))
        messages = await chat("photo", {"sample": samples[1]}, "目前共 2 个", len(messages))
        messages = await chat("text", {"text": "河滨路今早有居民自发清理河道垃圾"}, "请发送现场位置", len(messages))
        messages = await chat("text", {"text": "跳过"}, "请选择线索类别", len(messages))
        await tap("好人好事", "请确认线索内容")
        await tap("提交", "线索已提交")
        messages = await _chat_until(http, demo, "线索已提交", who=2)
    submitted = next(m["text"] for m in reversed(messages) if "线索已提交" in m["text"])
    reference = submitted.split("编号 ")[1][:6]

    # 刘编辑, the editor on Telegram, is told, opens the tip and sees 张记者's two photos.
    liu = demo.person("刘编辑")
    await liu.wait_for_text(f"新线索 {reference}")
    await liu.send_command("/review")
    await liu.press(f"📋 {reference}")
    card = await liu.wait_for_text("类别：好人好事")
    assert "河滨路今早有居民自发清理河道垃圾" in (card.text or "")
    album = [m for m in liu.messages if m.kind == "photo" and m.media_group_id is not None]
    assert [m.photo_bytes for m in album[-2:]] == [sample_bytes(name) for name in samples]


def sample_bytes(name: str) -> bytes:
    """A sample photo the demo page offers."""
    return (SAMPLES_DIR / name).read_bytes()
