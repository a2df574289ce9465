"""/tasks with more open wishes than any fixed window: every one is reachable page by page, the newest too."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import insert, update

from actions import tasks as task_actions
from bot.app import TongxinApp
from core.clock import ManualClock
from simulator import BotApiSimulator
from storage.schema import wishes
from tests.conftest import START_TIME
from tests.stories.wishflow import approved_volunteers, given_person

# The dialect matters here (SQL the story reaches through the bot): on PostgreSQL too.
pytestmark = pytest.mark.both_databases

OPEN_WISHES = 520
# A person reading the list turns a page every few seconds. The flood guard (handlers/privacy.py) allows 30 messages
# or presses a minute, so 103 presses in the test's few real seconds would be a flood, rightly slowed down; the test
# moves the clock by a reader's pace between presses instead (24 a minute, within the guard's allowance).
PAGE_TURN = dt.timedelta(seconds=2.5)


async def test_every_one_of_more_than_500_open_wishes_is_reachable_the_newest_too(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock
) -> None:
    db = bot.bot_data.db
    alice, xiaoli, xiaozhou = sim.person("王阿姨"), sim.person("小李"), sim.person("小周")
    await approved_volunteers(db, [xiaoli], skills=("elderly_disabled",))
    await approved_volunteers(db, [xiaozhou], skills=("elderly_disabled",), location=(31.0, 121.0))
    async with db.write() as conn:
        resident = await given_person(conn, alice)
        rows = [
            {
                "ref_no": n,
                "resident_id": resident,
                # Every other wish is of a category the volunteers do not help with.
                "category": "elderly_disabled" if n % 2 == 0 else "free_clinic",
                "description": f"第{n}号心愿",
                "area": "东城社区",
                # The newest wish is the nearest to 小周; the others lie further away, or have no place.
                "latitude": (31.0 + (0.001 if n == 2 * OPEN_WISHES else 0.01 + n / 10_000)) if n % 4 == 0 else None,
                "longitude": 121.0 if n % 4 == 0 else None,
                "status": "open",
                "created_at": START_TIME - dt.timedelta(hours=2 * OPEN_WISHES - n),
                "updated_at": START_TIME,
            }
            for n in range(1, 2 * OPEN_WISHES + 1)
        ]
        await conn.execute(insert(wishes), rows)
        # Two wishes are no longer open: they are never offered.
        await conn.execute(update(wishes).where(wishes.c.ref_no.in_([2, 4])).values(status="claimed"))
    newest = f"第{2 * OPEN_WISHES}号心愿"

    # 小周 has a location: the newest wish is the nearest, shown first.
    await xiaozhou.send_command("/tasks")
    first = await xiaozhou.wait_for_text("第 1/")
    assert re.findall(r"第(\d+)号心愿", first.text or "")[0] == str(2 * OPEN_WISHES)

    # 小李 has none: oldest first, and paging forward reaches every matching open wish, the newest last.
    await xiaoli.send_command("/tasks")
    page = await xiaoli.wait_for_text("第 1/")
    pages = int(re.search(r"第 1/(\d+) 页", page.text or "").group(1))  # type: ignore[union-attr]
    matching = OPEN_WISHES - 2
    assert pages == -(-matching // 5)
    seen: list[int] = []
    for number in range(1, pages + 1):
        text = page.text or ""
        assert f"第 {number}/{pages} 页" in text
        seen += [int(n) for n in re.findall(r"第(\d+)号心愿", text)]
        if number < pages:
            clock.advance(PAGE_TURN)
            await xiaoli.press("下一页 ▶")
            page = await xiaoli.wait_for_text(f"第 {number + 1}/{pages} 页")
    assert seen == list(range(6, 2 * OPEN_WISHES + 1, 2))
    assert newest in (page.text or "")
    # And back: the page before the last one is the same as on the way forward.
    clock.advance(PAGE_TURN)
    await xiaoli.press("◀ 上一页")
    back = await xiaoli.wait_for_text(f"第 {pages - 1}/{pages} 页")
    on_last = len(seen) - (pages - 1) * 5
    assert [int(n) for n in re.findall(r"第(\d+)号心愿", back.text or "")] == seen[-on_last - 5 : -on_last]


async def test_past_the_counted_wishes_the_list_says_more_and_pages_on_to_the_last(
    bot: TongxinApp, sim: BotApiSimulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/tasks counts the offered wishes only up to `COUNT_UP_TO` (1,000 in production, so its cost does not grow
    with the district): with more, the title says "4+" pages, ▶ goes on past the counted pages, and the last page
    shows the exact number."""
    monkeypatch.setattr(task_actions, "COUNT_UP_TO", 20)
    db = bot.bot_data.db
    alice, xiaoli = sim.person("王阿姨"), sim.person("小李")
    await approved_volunteers(db, [xiaoli], skills=("elderly_disabled",))
    offered = 33
    async with db.write() as conn:
        resident = await given_person(conn, alice)
        rows = [
            {
                "ref_no": n,
                "resident_id": resident,
                "category": "elderly_disabled",
                "description": f"第{n}号心愿",
                "area": "东城社区",
                "status": "open",
                "created_at": START_TIME - dt.timedelta(hours=offered - n),
                "updated_at": START_TIME,
            }
            for n in range(1, offered + 1)
        ]
        await conn.execute(insert(wishes), rows)

    await xiaoli.send_command("/tasks")
    page = await xiaoli.wait_for_text("第 1/4+ 页")
    seen = [int(n) for n in re.findall(r"第(\d+)号心愿", page.text or "")]
    titles = []
    while page.find_inline_button("下一页 ▶") is not None:
        clock.advance(PAGE_TURN)
        shown = len(titles) + 2
        await xiaoli.press("下一页 ▶", message=page)
        page = await xiaoli.wait_for_text(f"第 {shown}/")
        titles.append(re.search(r"第 \d+/\S+ 页", page.text or "").group(0))  # type: ignore[union-attr]
        seen += [int(n) for n in re.findall(r"第(\d+)号心愿", page.text or "")]
    assert seen == list(range(1, offered + 1)), "every offered wish, oldest first, none twice"
    assert titles == ["第 2/4+ 页", "第 3/4+ 页", "第 4/5+ 页", "第 5/6+ 页", "第 6/7+ 页", "第 7/7 页"]
    # Back from the last page: the sixth page again, still marked as counted in part.
    clock.advance(PAGE_TURN)
    await xiaoli.press("◀ 上一页", message=page)
    back = await xiaoli.wait_for_text("第 6/")
    assert [int(n) for n in re.findall(r"第(\d+)号心愿", back.text or "")] == list(range(26, 31))
