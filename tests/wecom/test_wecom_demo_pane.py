"""The demo's WeCom pane API (`simulator.wecom_page`) against the running bot: a press on a card through the page
reaches the bot as WeCom's signed callback and the card comes back updated; what the page sends is bounded (a press
on a card that no longer shows the button, an unknown card, a text too long, an item not in the menu are refused and
reach nobody), and a file the bot sent downloads under its name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import TongxinApp
from simulator import BotApiSimulator, wecom_page
from simulator.webchat import SAMPLES_DIR
from simulator.wecom import WeComMember, WeComSimulator
from tests.wecom.helpers import resident_wish, wecom_coordinator


@pytest.fixture
async def chen(wecom_bot: TongxinApp, wc: WeComSimulator) -> WeComMember:
    return await wecom_coordinator(wecom_bot.bot_data.env, wc, "陈主任", "chenzr")


@pytest.fixture
async def page(wc: WeComSimulator, chen: WeComMember) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    wecom_page.routes(wc, [chen], SAMPLES_DIR, roles={"chenzr": "协调员"}, switch_for={"chenzr": "陈主任"})(app)
    async with TestClient(TestServer(app)) as client:
        yield client


async def shown(page: TestClient[web.Request, web.Application]) -> list[dict[str, Any]]:
    """陈主任's chat as the pane shows it."""
    state = await (await page.get("/api/wecom")).json()
    assert state["members"][0]["telegram"] == "陈主任"
    return list(state["members"][0]["messages"])


async def test_a_press_in_the_pane_approves_and_the_card_shows_who(
    wecom_bot: TongxinApp,
    wc: WeComSimulator,
    sim: BotApiSimulator,
    chen: WeComMember,
    page: TestClient[web.Request, web.Application],
) -> None:
    await resident_wish(wecom_bot.bot_data.env, sim.person("王阿姨"))
    card = await chen.wait_for_card("W-0001")
    [view] = [m for m in await shown(page) if m["kind"] == "card"]
    assert view["card"]["buttons"] == [{"text": text, "key": key} for text, key in card.buttons]
    approve = next(b["key"] for b in view["card"]["buttons"] if b["text"] == "通过")

    answer = await page.post("/api/wecom/chenzr/press", json={"task_id": card.task_id, "key": approve})
    assert answer.status == 200
    assert (await answer.json())["ok"] is True
    await chen.wait_for_text("已通过心愿 W-0001")
    await chen.wait_for(lambda _r: card.replaced is not None)
    messages = await shown(page)
    [view] = [m for m in messages if m["kind"] == "card"]
    assert view["card"]["replaced"] == "已由陈主任通过"
    assert messages[-1] == {**messages[-1], "from": "app", "kind": "text"}

    # The card no longer shows its buttons: a second press (an old page) is refused, nothing reaches the bot.
    before = len(chen.inbox)
    again = await page.post("/api/wecom/chenzr/press", json={"task_id": card.task_id, "key": approve})
    assert again.status == 409
    missing = await page.post("/api/wecom/chenzr/press", json={"task_id": "no-such-task", "key": approve})
    assert missing.status == 404
    assert (await page.post("/api/wecom/nobody/press", json={"task_id": card.task_id, "key": approve})).status == 404
    assert len(chen.inbox) == before


async def test_what_the_pane_sends_is_bounded(
    wecom_bot: TongxinApp, wc: WeComSimulator, chen: WeComMember, page: TestClient[web.Request, web.Application]
) -> None:
    assert (await page.post("/api/wecom/chenzr/text", json={"text": "统" * 601})).status == 400
    assert (await page.post("/api/wecom/chenzr/text", json={"text": "   "})).status == 400
    assert (await page.post("/api/wecom/chenzr/text", data="not json")).status == 400
    assert (await page.post("/api/wecom/chenzr/click", json={"key": "NOT_IN_MENU"})).status == 400
    assert (await page.post("/api/wecom/chenzr/photo", json={"sample": "../../etc/passwd"})).status == 400
    assert await shown(page) == []  # nothing was sent, nothing shown
    assert chen.inbox == []

    # The menu's 统计 (as shown: its label), then the figures and the chart as an image the page can load.
    assert (await page.post("/api/wecom/chenzr/click", json={"key": "STATS"})).status == 200
    await chen.wait_for(lambda r: r.kind == "image")
    messages = await shown(page)
    assert messages[0] == {**messages[0], "from": "me", "kind": "click", "text": "统计"}
    image = next(m for m in messages if m["kind"] == "image")
    loaded = await page.get(f"/api/wecom/media/{image['media']}")
    assert loaded.status == 200
    assert loaded.content_type == "image/png"
    assert (await page.get("/api/wecom/media/unknown")).status == 404


async def test_an_export_downloads_under_its_name(
    wecom_bot: TongxinApp,
    wc: WeComSimulator,
    sim: BotApiSimulator,
    chen: WeComMember,
    page: TestClient[web.Request, web.Application],
) -> None:
    await resident_wish(wecom_bot.bot_data.env, sim.person("王阿姨"))
    await chen.wait_for_card("W-0001")
    answer = await page.post("/api/wecom/chenzr/text", json={"text": "导出 心愿 2026-11-01 2026-11-30"})
    assert answer.status == 200
    await chen.wait_for(lambda r: r.kind == "file")
    [file] = [m for m in await shown(page) if m["kind"] == "file"]
    assert file["filename"] == "tongxin-wishes-2026-11-01-2026-11-30.csv"
    download = await page.get(f"/api/wecom/media/{file['media']}")
    assert download.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''tongxin-wishes-2026-11-01-2026-11-30.csv"
    )
    body = await download.read()
    assert file["size"] == len(body)
    assert "W-0001" in body.decode("utf-8-sig")
