"""The read-only web server of issue 15: Open311 GeoReport v2 answers with the fields the spec requires and nothing
personal (no name, phone, address, description typed by a person, or exact coordinates: the area's centroid);
its filters work and bad ones get the spec's error format; the command-centre screen needs its token."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import aiohttp
import pytest

from actions import cases
from actions.env import Env
from bot.app import TongxinApp
from rules.cases import CaseOrder
from rules.district import load_district
from rules.roles import Role
from rules.wishes import Actor
from simulator import BotApiSimulator
from storage import departments
from storage.db import Database
from tests.conftest import START_TIME
from tests.stories.wishflow import ADDRESS, DESCRIPTION, given_person, open_wish

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

TOKEN = "screen-secret-15"
WISH_PLACE = (31.2300, 121.4700)
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUIRED_REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "lat",
    "long",
    "media_url",
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"screen_token": TOKEN}


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, Any, str]:
    async with session.get(url) as response:
        text = await response.text()
        body = json.loads(text) if response.content_type == "application/json" else None
        return response.status, body, text


async def seeded(bot: TongxinApp, sim: BotApiSimulator, db: Database) -> None:
    """王阿姨's wish W-0001 (with her address, phone and exact place) sent to 城管 as case C-0001."""
    alice = sim.person("王阿姨")
    await open_wish(db, alice, category="environment", location=WISH_PLACE)
    coordinator = sim.person("周协调")
    async with db.write() as conn:
        coordinator_id = await given_person(conn, coordinator)
        await departments.create_department(
            conn, name="城管", categories=["environment"], areas=["东城社区"], created_by=None, now=START_TIME
        )
    env: Env = bot.bot_data.env
    await cases.send_case(
        env, Actor(coordinator_id, frozenset({Role.COORDINATOR})), CaseOrder("wish", 1, "城管", "urgent")
    )


async def test_open311_carries_the_required_fields_and_nothing_personal(
    bot: TongxinApp, sim: BotApiSimulator, story_db: Database, web: tuple[str, aiohttp.ClientSession]
) -> None:
    base, session = web
    await seeded(bot, sim, story_db)

    status, services, _ = await get(session, f"{base}/open311/v2/services.json")
    assert status == 200
    assert {s["service_code"] for s in services} == set(bot.bot_data.settings.categories)
    for service in services:
        assert set(service) == SERVICE_FIELDS
        assert service["metadata"] is False
        assert service["type"] == "realtime"
    assert next(s for s in services if s["service_code"] == "environment")["service_name"] == "环境整治"

    status, requests, text = await get(session, f"{base}/open311/v2/requests.json")
    assert status == 200
    assert [r["service_request_id"] for r in requests] == ["C-0001", "W-0001"] or [
        r["service_request_id"] for r in requests
    ] == ["W-0001", "C-0001"]
    centroid = load_district().centroids["东城社区"]
    for request in requests:
        assert set(request) >= REQUIRED_REQUEST_FIELDS
        # The wish sent to 城管 is closed as a wish and carried on as the open case (one truth each).
        assert request["status"] == ("open" if request["service_request_id"] == "C-0001" else "closed")
        assert request["service_code"] == "environment"
        assert (request["lat"], request["long"]) == centroid
        assert dt.datetime.fromisoformat(request["requested_datetime"]).utcoffset() == dt.timedelta(hours=8)
    case = next(r for r in requests if r["service_request_id"] == "C-0001")
    assert case["agency_responsible"] == "城管"
    assert case["expected_datetime"] is not None
    for personal in ("王阿姨", sim.person("王阿姨").phone, ADDRESS, DESCRIPTION, "31.23", "121.47", "address", "phone"):
        assert personal not in text, personal

    status, one, _ = await get(session, f"{base}/open311/v2/requests/W-0001.json")
    assert status == 200
    assert [r["service_request_id"] for r in one] == ["W-0001"]
    status, missing, _ = await get(session, f"{base}/open311/v2/requests/W-0099.json")
    assert status == 404
    assert missing == [{"code": 404, "description": "no such service request"}]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", {"C-0001"}),
        ("status=closed", {"W-0001"}),  # sent to 城管: closed as a wish, carried on as C-0001
        ("status=open,closed", {"W-0001", "C-0001"}),
        ("service_code=environment", {"W-0001", "C-0001"}),
        ("service_code=free_clinic", set()),
        ("start_date=2026-11-26T09:00:00%2B08:00&end_date=2026-11-26T11:00:00%2B08:00", {"W-0001", "C-0001"}),
        ("start_date=2026-11-27T00:00:00Z&end_date=2026-11-28T00:00:00Z", set()),
        ("end_date=2026-11-25", set()),
    ],
)
async def test_open311_filters(
    bot: TongxinApp,
    sim: BotApiSimulator,
    story_db: Database,
    web: tuple[str, aiohttp.ClientSession],
    query: str,
    expected: set[str],
) -> None:
    base, session = web
    await seeded(bot, sim, story_db)
    status, requests, _ = await get(session, f"{base}/open311/v2/requests.json?{query}")
    assert status == 200
    assert {r["service_request_id"] for r in requests} == expected


@pytest.mark.parametrize(
    "query",
    ["status=pending", "service_code=nope", "start_date=yesterday", "start_date=2026-12-01&end_date=2026-11-01"],
)
async def test_open311_refuses_bad_filters_in_the_spec_format(
    bot: TongxinApp, web: tuple[str, aiohttp.ClientSession], query: str
) -> None:
    base, session = web
    status, body, _ = await get(session, f"{base}/open311/v2/requests.json?{query}")
    assert status == 400
    assert body[0]["code"] == 400
    assert body[0]["description"]


async def test_the_screen_needs_its_token(bot: TongxinApp, web: tuple[str, aiohttp.ClientSession]) -> None:
    base, session = web
    for path in ("/screen", "/screen?token=wrong", "/screen/data.json", "/screen/map.json?token="):
        status, _, _ = await get(session, base + path)
        assert status == 403, path
    status, _, page = await get(session, f"{base}/screen?token={TOKEN}")
    assert status == 200
    assert "/screen/static/echarts.min.js" in page
    assert "http://" not in page
    assert "https://" not in page
    async with session.get(f"{base}/screen?token={TOKEN}") as response:
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    status, data, _ = await get(session, f"{base}/screen/data.json?token={TOKEN}")
    assert status == 200
    assert data["labels"]["needs"] == "收集需求"
    assert set(data["counters"]) == {"needs", "projects", "media", "reports", "open_cases", "overdue_cases"}
    assert len(data["trend"]["days"]) == 30
