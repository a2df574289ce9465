"""Stories of the demo without a browser: it starts and seeds a district, serves the page and its JSON API,
and what someone does through that API reaches the real bot, whose answers show up in the API's view."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from actions.cases import escalate_due
from bot.demo import CLOCK_FILE, WECOM_CHEN_USERID, Demo, demo_running
from bot.seed import CHEN_ZHUREN, WANG_AYI, XIAO_ZHOU
from simulator.webchat import STATIC_DIR, TOKEN_HEADER
from storage import cases as case_store
from storage import outbox, people, tips
from storage.schema import cases, department_members, wishes
from tests.stories.wishflow import write_wish

pytestmark = [pytest.mark.wall_clock]


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    """A freshly seeded demo on free ports; afterwards, no request the bot made may have been refused."""
    async with demo_running(port=0, data_dir=tmp_path / "demo-data", fresh=True) as running_demo:
        yield running_demo
    assert running_demo.sim.invalid_requests == []


@pytest.fixture
async def http(demo: Demo) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client, like the page's fetch() (which sends the page's token with every API call)."""
    async with aiohttp.ClientSession(headers={TOKEN_HEADER: demo.webchat.token}) as session:
        yield session


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def post_json(http: aiohttp.ClientSession, url: str, body: object) -> Any:
    async with http.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def messages_until(
    http: aiohttp.ClientSession, demo: Demo, user_id: int, text: str, seconds: float = 10.0
) -> list[dict[str, Any]]:
    """The person's chat as the page reads it, once a message containing `text` is in it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        view = await get_json(http, f"{demo.url}api/people/{user_id}/messages")
        if any(text in (m["text"] or "") for m in view["messages"]):
            return list(view["messages"])
        if loop.time() > deadline:
            raise AssertionError(f"no message containing {text!r} in {view['messages']}")
        await asyncio.sleep(0.05)  # the page polls too; the bot answers within Telegram's pace


async def test_the_demo_seeds_a_district_and_serves_the_page(demo: Demo, http: aiohttp.ClientSession) -> None:
    async with http.get(demo.url) as response:
        assert response.status == 200
        assert "/static/app.js" in await response.text()
    for asset in ("app.js", "app.css", "samples/visit.jpg"):
        async with http.get(f"{demo.url}static/{asset}") as response:
            assert response.status == 200, asset

    state = await get_json(http, f"{demo.url}api/state")
    panes = {p["name"]: p for p in state["people"] if p["pane"]}
    assert list(panes) == ["王阿姨", "小周", "张记者", "陈主任", "刘编辑"]
    assert "volunteer" in panes["小周"]["roles"]
    assert "reporter" in panes["张记者"]["roles"]
    assert {"coordinator", "admin"} <= set(panes["陈主任"]["roles"])
    assert "editor" in panes["刘编辑"]["roles"]
    assert state["clock"]["tz"] == "Asia/Shanghai"

    async with demo.application.bot_data.db.read() as conn:
        rows = await conn.execute(select(wishes.c.status, func.count()).group_by(wishes.c.status))
        by_status = {row[0]: row[1] for row in rows.all()}
        queue = await tips.review_queue(conn)
    assert by_status == {
        "confirmed": 4, "rejected": 1, "done": 1, "claimed": 1, "open": 2, "pending_review": 1, "referred": 6,
    }  # fmt: skip
    assert len(queue) == 2


async def test_the_demos_cases_are_on_sent_wishes_handled_by_their_departments_members(demo: Demo) -> None:
    """Every seeded case is on a wish of its own that was sent (referred), as `/case` leaves it; an acknowledged case
    names a member of its own department; at the start one case is overdue (the screen's late 城管 case), not five."""
    async with demo.application.bot_data.db.read() as conn:
        rows = (
            await conn.execute(
                select(
                    cases.c.ref_no, cases.c.source_id, cases.c.department_id, cases.c.acknowledged_by, wishes.c.status
                )
                .join(wishes, wishes.c.ref_no == cases.c.source_id)
                .where(cases.c.source == "wish")
                .order_by(cases.c.ref_no)
            )
        ).all()
        members = {(row[0], row[1]) for row in await conn.execute(select(department_members))}
        overdue = await case_store.overdue_cases(conn, demo.clock.now())
    assert [row.ref_no for row in rows] == [1, 2, 3, 4, 5, 6]
    assert [row.source_id for row in rows] == [11, 12, 13, 14, 15, 16]  # W-0011–W-0016, after the district's wishes
    assert {row.status for row in rows} == {"referred"}
    assert [row.acknowledged_by is not None for row in rows] == [True, True, True, True, True, False]
    for row in rows:
        if row.acknowledged_by is not None:
            assert (row.department_id, row.acknowledged_by) in members, f"C-{row.ref_no:04d}"
    assert [case.ref_no for case in overdue] == [5]
    # What the coordinators hear of it at the start: one alert each, to 陈主任 on Telegram and to 陈主任 in the WeCom
    # application (whether or not the sweep wrote them yet).
    await escalate_due(demo.application.bot_data.env, demo.clock.now())
    async with demo.application.bot_data.db.read() as conn:
        alerts = await outbox.used_keys(conn, "case:late")
        on_wecom = await people.find_person(conn, people.WECOM, WECOM_CHEN_USERID)
    assert on_wecom is not None
    assert alerts == {f"case:late1:resolve:{overdue[0].id}:{who}" for who in (CHEN_ZHUREN, on_wecom.id)}


def test_the_page_loads_nothing_from_the_internet() -> None:
    external = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//""")
    for path in STATIC_DIR.glob("*.*"):
        assert not external.search(path.read_text(encoding="utf-8")), f"{path.name} refers to another site"


async def test_a_message_sent_on_the_page_reaches_the_bot(demo: Demo, http: aiohttp.ClientSession) -> None:
    await post_json(http, f"{demo.url}api/people/{WANG_AYI}/text", {"text": "/start"})
    chat = await messages_until(http, demo, WANG_AYI, "您好，王阿姨")
    mine, reply = chat[0], chat[-1]
    assert mine["from"] == "me"
    assert mine["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert reply["from"] == "bot"
    assert {"type": "bold", "offset": reply["text"].index("同心"), "length": 2} in reply["entities"]


async def test_pressing_a_button_on_the_page_edits_the_bots_message(demo: Demo, http: aiohttp.ClientSession) -> None:
    await post_json(http, f"{demo.url}api/people/{WANG_AYI}/text", {"text": "/language"})
    chat = await messages_until(http, demo, WANG_AYI, "Choose a language")
    offer = chat[-1]
    data = next(b["callback_data"] for row in offer["inline_keyboard"] for b in row if b["text"] == "English")
    await post_json(http, f"{demo.url}api/people/{WANG_AYI}/press", {"message_id": offer["id"], "data": data})
    chat = await messages_until(http, demo, WANG_AYI, "English from now on")
    edited = next(m for m in chat if m["id"] == offer["id"])
    assert edited["edited"] is True
    async with http.post(
        f"{demo.url}api/people/{WANG_AYI}/press", json={"message_id": offer["id"], "data": "lang:xx"}
    ) as response:
        assert response.status == 409  # a button that is not on the message cannot be pressed


async def test_the_language_switch_goes_through_the_bot(demo: Demo, http: aiohttp.ClientSession) -> None:
    await post_json(http, f"{demo.url}api/people/{XIAO_ZHOU}/language", {"language": "en"})
    await messages_until(http, demo, XIAO_ZHOU, "English from now on")
    state = await get_json(http, f"{demo.url}api/state")
    assert next(p for p in state["people"] if p["id"] == XIAO_ZHOU)["language"] == "en"


async def test_photos_documents_locations_and_contacts_from_the_page(demo: Demo, http: aiohttp.ClientSession) -> None:
    url = f"{demo.url}api/people/{CHEN_ZHUREN}"
    await post_json(http, f"{url}/photos", {"samples": ["river.jpg", "orchard.jpg"], "caption": "两张照片"})
    form = aiohttp.FormData()
    form.add_field("file", b"a,b\n1,2\n", filename="list.csv", content_type="text/csv")
    async with http.post(f"{url}/document", data=form) as response:
        assert response.status == 200
    await post_json(http, f"{url}/location", {})
    await post_json(http, f"{url}/contact", {})
    view = await get_json(http, f"{url}/messages")
    kinds = [m["kind"] for m in view["messages"] if m["from"] == "me"]
    assert kinds == ["photo", "photo", "document", "location", "contact"]
    album = [m for m in view["messages"] if m["kind"] == "photo"]
    assert album[0]["media_group_id"] == album[1]["media_group_id"] is not None
    assert album[0]["text"] == "两张照片"
    document = next(m for m in view["messages"] if m["kind"] == "document")["document"]
    async with http.get(demo.url + document["url"].lstrip("/")) as response:
        assert await response.read() == b"a,b\n1,2\n"
        assert "attachment" in response.headers["Content-Disposition"]
    contact = next(m for m in view["messages"] if m["kind"] == "contact")["contact"]
    assert contact["phone_number"] == "+86 135 0571 0004"
    async with http.get(f"{demo.url}api/files/DEMO-PHOTO-visit") as response:
        assert response.status == 200  # the seeded photos are there for the bot to show


async def test_the_event_stream_tells_the_page_which_chat_changed(demo: Demo, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{demo.url}api/events") as stream:
        await post_json(http, f"{demo.url}api/people/{WANG_AYI}/text", {"text": "/help"})
        seen: set[int] = set()
        async with asyncio.timeout(10):
            async for line in stream.content:
                if line.startswith(b"data: ") and b"chat_id" in line:
                    seen.add(json.loads(line[6:])["chat_id"])
                if WANG_AYI in seen:
                    break
    assert WANG_AYI in seen


async def test_moving_the_clock_moves_the_bots_time(demo: Demo, http: aiohttp.ClientSession) -> None:
    before = demo.clock.now()
    await post_json(http, f"{demo.url}api/clock/advance", {"hours": 24 * 7})
    assert (demo.clock.now() - before).days == 7
    state = await get_json(http, f"{demo.url}api/state")
    assert state["clock"]["epoch"] >= (before.timestamp() + 7 * 24 * 3600)
    assert json.loads((demo.data_dir / CLOCK_FILE).read_text())["offset_seconds"] > 7 * 24 * 3600 - 60
    async with http.post(f"{demo.url}api/clock/advance", json={"hours": -1}) as response:
        assert response.status == 400


async def test_a_restart_keeps_the_district_and_fresh_starts_over(tmp_path: Path) -> None:
    folder = tmp_path / "demo-data"
    async with (
        demo_running(port=0, data_dir=folder, fresh=True) as first,
        aiohttp.ClientSession(headers={TOKEN_HEADER: first.webchat.token}) as http,
    ):
        added = await post_json(http, f"{first.url}api/people", {"name": "李大姐", "language": "en"})
        assert added["pane"] is True
        async with http.post(f"{first.url}api/people", json={"name": ""}) as response:
            assert response.status == 400
    async with demo_running(port=0, data_dir=folder) as again:
        assert again.person("李大姐").user_id == added["id"]
        async with again.application.bot_data.db.read() as conn:
            assert (await conn.execute(select(func.count()).select_from(wishes))).scalar_one() == 16  # 6 sent as cases
    async with demo_running(port=0, data_dir=folder, fresh=True) as fresh:
        assert all(p.first_name != "李大姐" for p in fresh.sim.people.values())


async def press_on_page(
    http: aiohttp.ClientSession, demo: Demo, user_id: int, message: dict[str, Any], label: str
) -> None:
    """Press the button labelled `label` on a message, as the page does."""
    data = next(b["callback_data"] for row in message["inline_keyboard"] for b in row if b["text"] == label)
    await post_json(http, f"{demo.url}api/people/{user_id}/press", {"message_id": message["id"], "data": data})


async def test_the_seeded_activity_can_be_signed_up_for_and_checked_in_to(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    # The README's walk-through: 小周 signs up in /activities; 陈主任 shows the QR; 小周 types the code and
    # shares a location (the station is about 100 m from 小周).
    await post_json(http, f"{demo.url}api/people/{XIAO_ZHOU}/text", {"text": "/activities"})
    chat = await messages_until(http, demo, XIAO_ZHOU, "敬老院助老服务")
    listing = chat[-1]
    assert "已报名 1/3" in listing["text"]
    await press_on_page(http, demo, XIAO_ZHOU, listing, "🙋 报名 A-0002")
    await messages_until(http, demo, XIAO_ZHOU, "报名成功")
    await post_json(http, f"{demo.url}api/people/{CHEN_ZHUREN}/text", {"text": "/checkin"})
    chat = await messages_until(http, demo, CHEN_ZHUREN, "签到/签退码")
    qr = chat[-1]
    assert qr["kind"] == "photo"
    code = re.search(r"签到/签退码：(\d{6})", qr["text"])
    assert code is not None
    await post_json(http, f"{demo.url}api/people/{XIAO_ZHOU}/text", {"text": f"/checkin {code.group(1)}"})
    await messages_until(http, demo, XIAO_ZHOU, "请发送您现在的位置")
    await post_json(http, f"{demo.url}api/people/{XIAO_ZHOU}/location", {})
    await messages_until(http, demo, XIAO_ZHOU, "签到成功")
    await post_json(http, f"{demo.url}api/people/{XIAO_ZHOU}/text", {"text": "/projects"})
    chat = await messages_until(http, demo, XIAO_ZHOU, "文明实践进社区")
    assert "核实时长 5.5 小时" in chat[-1]["text"]


async def test_a_new_demo_starts_at_nine_and_the_next_mornings_digest_counts_the_day(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    tz = demo.settings.tz
    start = demo.clock.now().astimezone(tz)
    assert (start.hour, start.minute) == (9, 0)  # whatever the real hour: a morning, outside quiet hours
    wang = demo.person("王阿姨")
    await write_wish(wang)
    await wang.wait_for_text("已提交")
    await post_json(http, f"{demo.url}api/clock/advance", {"hours": 24})
    tomorrow = demo.clock.now().astimezone(tz)
    assert (tomorrow.date() - start.date()).days == 1
    assert (tomorrow.hour, tomorrow.minute) == (9, 0)
    chen = demo.person("陈主任")
    digest = await chen.wait_for_text(f"每日摘要（{tomorrow.date().isoformat()}", timeout=15)
    found = re.search(r"新增：(\d+)", digest.text or "")
    assert found is not None
    due = dt.datetime.combine(tomorrow.date(), demo.settings.coordinator_digest_time, tzinfo=tz).astimezone(dt.UTC)
    async with demo.application.bot_data.db.read() as conn:
        created = (
            select(func.count())
            .select_from(wishes)
            .where(wishes.c.created_at >= due - dt.timedelta(days=1), wishes.c.created_at < due)
        )
        expected = (await conn.execute(created)).scalar_one()
    assert int(found.group(1)) == expected >= 1  # 王阿姨's wish of yesterday morning is counted


async def test_the_api_refuses_requests_without_the_token_from_another_origin_or_for_another_host(
    demo: Demo,
) -> None:
    """Another web page (a cross-origin text/plain post) or a DNS-rebinding page cannot drive the demo."""
    state = f"{demo.url}api/state"
    send = f"{demo.url}api/people/{WANG_AYI}/text"
    token = {TOKEN_HEADER: demo.webchat.token}
    async with aiohttp.ClientSession() as http:
        # The page carries its token; an API call without it, or with another, is refused.
        async with http.get(demo.url) as response:
            assert response.status == 200
            assert demo.webchat.token in await response.text()
        async with http.get(state) as response:
            assert response.status == 403
        for headers in ({}, {TOKEN_HEADER: "guessed"}, {"Content-Type": "text/plain"}):
            async with http.post(send, data='{"text": "/start"}', headers=headers) as response:
                assert response.status == 403
        # With the token, but from another origin or through another host name.
        foreign = {**token, "Origin": "http://evil.example"}
        async with http.post(send, json={"text": "/start"}, headers=foreign) as response:
            assert response.status == 403
        rebound = {**token, "Host": f"evil.example:{demo.webchat.port}"}
        async with http.get(state, headers=rebound) as response:
            assert response.status == 403
        async with http.get(demo.url, headers={"Host": f"evil.example:{demo.webchat.port}"}) as response:
            assert response.status == 403
        # The page itself is served and works.
        same = {**token, "Origin": demo.url.rstrip("/")}
        async with http.post(send, json={"text": "/start"}, headers=same) as response:
            assert response.status == 200
    async with aiohttp.ClientSession(headers=token) as page:
        chat = await messages_until(page, demo, WANG_AYI, "您好")
    assert sum(m["from"] == "me" and m["text"] == "/start" for m in chat) == 1, "a refused request reached the bot"
