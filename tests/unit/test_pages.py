"""The one page model of every list (`conversations/pages.py`) and WeChat's renderer of it
(`channels/wechat/pages.py`): pages out of range are clamped, an empty list is one page with nothing to page to,
the last page offers ◀ only, and on WeChat each line carries the number of its menu item (what typing it chooses)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from actions import tasks
from actions.buttons import Act
from actions.cases import CaseView
from actions.env import Env
from channels.wechat import pages as wechat_pages
from channels.wechat import render
from conversations import pages
from core.clock import ManualClock
from core.i18n import Catalogues
from core.settings import load_settings
from rules.wishes import WishStatus
from storage.cases import Case
from storage.db import Database
from storage.wishes import Wish

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def env() -> Env:
    """What the pages read of the bot (the clock and the time zone); the database is never opened."""
    settings = load_settings(bot_token="123456:TEST-TOKEN", _env_file=None)
    return Env(Database("sqlite+aiosqlite:///:memory:"), ManualClock(NOW), settings)


def wish(n: int, description: str = "请帮忙买菜送到家里", status: str = WishStatus.CLAIMED) -> Wish:
    """Wish W-000n, claimed (a task) and due in a day."""
    return Wish(
        id=100 + n,
        ref_no=n,
        resident_id=1,
        category="elderly_disabled",
        description=description,
        area="东城社区",
        address=None,
        latitude=None,
        longitude=None,
        photo_file_id=None,
        phone=None,
        status=status,
        created_at=NOW - dt.timedelta(hours=3),
        updated_at=NOW,
        reject_reason=None,
        claimed_by=7,
        claimed_at=NOW,
        due_at=NOW + dt.timedelta(days=1),
        done_at=None,
        hours=None,
        proof_file_id=None,
        done_note=None,
        resident_note=None,
        confirmed_at=None,
        rating=None,
    )


@pytest.mark.parametrize(
    ("page", "total", "shown"),
    [(0, 0, (0, 1)), (3, 0, (0, 1)), (-2, 12, (0, 3)), (2, 12, (2, 3)), (9, 12, (2, 3)), (1, 10, (1, 2))],
)
def test_a_page_out_of_range_is_clamped_and_an_empty_list_is_one_page(
    page: int, total: int, shown: tuple[int, int]
) -> None:
    assert pages.clamp(page, total) == shown


def test_the_last_page_of_my_tasks_offers_only_previous_and_numbers_on_from_the_pages_before(env: Env) -> None:
    mine = [wish(n) for n in range(1, 13)]
    last = pages.my_tasks(env, mine, 99)  # past the end: the last page
    assert (last.page, last.pages) == (2, 3)
    assert [item.view.subject for item in last.items] == [111, 112]
    assert [item.line.params["n"] for item in last.lines if item.line is not None] == [11, 12]
    assert last.previous is not None
    assert (last.previous.act, last.previous.subject) == (Act.TASK_MINE_PAGE, 1)
    assert last.next is None
    first = pages.my_tasks(env, mine, 0)
    assert first.previous is None
    assert first.next is not None
    assert first.next.subject == 1


def test_an_empty_task_list_says_so_and_offers_only_the_switch(env: Env) -> None:
    found = tasks.TaskPage((), 0, 1, False, 1, None)
    page = pages.open_tasks(env, found)
    assert page.title.key == "task.none_matching"
    assert page.items == ()
    assert page.previous is None
    assert page.next is None
    assert [[item.view.label for item in row] for row in page.extra] == [["task.button.show_all"]]


def test_the_last_counted_page_of_tasks_pages_by_the_wishes_at_its_edges(env: Env) -> None:
    shown = tuple(wish(n, status=WishStatus.OPEN) for n in (6, 7))
    found = tasks.TaskPage(shown, 1, 2, True, 6, None, counted_all=True, has_next=False)
    page = pages.open_tasks(env, found)
    assert page.next is None
    assert page.previous is not None
    assert (page.previous.subject, page.previous.arg) == (0, "1p106")
    more = pages.open_tasks(env, dataclasses.replace(found, has_next=True, counted_all=False))
    assert more.next is not None
    assert (more.next.subject, more.next.arg) == (2, "1n107")
    assert more.title.params["pages"] == "2+"


def test_wechat_numbers_each_line_as_its_menu_item_in_the_order_shown(env: Env) -> None:
    mine = [wish(n) for n in range(1, 8)]
    (reply,) = wechat_pages.replies(Catalogues(), "zh-CN", pages.my_tasks(env, mine, 1))
    assert "（第 2/2 页）" in reply.text
    assert [line.split(" · ")[0] for line in reply.text.splitlines()[2:]] == ["1. W-0006", "2. W-0007"]
    assert [c.label for c in reply.choices] == ["📋 W-0006", "📋 W-0007", "◀ 上一页"]
    second = render.decode(reply.choices[1].press)
    assert second is not None
    assert (second.act, second.id) == (Act.TASK_SHOW, 107)
    assert reply.tail == "点选一项，或回复它前面的数字。"


def test_a_wechat_page_too_long_for_a_menu_message_sends_its_lines_first_and_loses_none(env: Env) -> None:
    long = "家里的水龙头坏了，厨房和卫生间都漏水，老人腿脚不便，想请人帮忙修一下，顺便看看电灯开关和热水器。"
    shown = tuple(wish(n, long, WishStatus.OPEN) for n in range(1, 6))
    found = tasks.TaskPage(shown, 0, 2, False, 1, None, has_next=True)
    text, menu = wechat_pages.replies(Catalogues(), "zh-CN", pages.open_tasks(env, found))
    assert len(text.text.encode()) > render.MENU_TEXT_BYTES  # it would have been cut in a menu message
    assert not text.choices
    assert [f"{n}. W-000{n}" in text.text for n in range(1, 6)] == [True] * 5
    assert menu.text.startswith("符合您技能的任务（第 1/2 页）")
    assert [c.label for c in menu.choices] == [*(f"认领 W-000{n}" for n in range(1, 6)), "下一页 ▶", "显示全部"]
    sent = render.custom_message("openid", text)
    assert sent["text"]["content"] == text.text  # within a text message's 2048 bytes: nothing cut


def case(n: int, status: str, holder: int | None) -> CaseView:
    """Case C-000n of 城管 on wish W-000n, acknowledged by `holder` (a person id) when it is not just sent."""
    sent = Case(
        id=n,
        ref_no=n,
        department_id=1,
        source="wish",
        source_id=n,
        resident_id=1,
        category="environment",
        area=None,
        summary="路灯坏了",
        tier="general",
        status=status,
        created_by=None,
        created_at=NOW,
        updated_at=NOW,
        ack_due_at=NOW + dt.timedelta(hours=24),
        resolve_due_at=NOW + dt.timedelta(days=7),
        acknowledged_by=holder,
        acknowledged_at=NOW if holder else None,
        resolved_at=None,
        resolution_note=None,
        resolution_media_id=None,
        returned_at=None,
        return_reason=None,
        rating=None,
        rated_at=None,
    )
    return CaseView(sent, "城管", {7: "老张", 8: "小吴"}.get(holder or 0))


def test_a_members_cases_say_where_each_stands_and_page_like_every_list(env: Env) -> None:
    found = [case(1, "sent", None), case(2, "acknowledged", 7), case(3, "acknowledged", 8)] + [
        case(n, "sent", None) for n in range(4, 8)
    ]
    first = pages.cases(env, found, 0, me=7)
    (reply,) = wechat_pages.replies(Catalogues(), "zh-CN", first)  # drawn here as text, the same lines as Telegram's
    lines = reply.text.splitlines()
    assert lines[0] == "您部门的 7 件待办案件： （第 1/2 页）"
    assert lines[2:5] == [
        "1. C-0001（W-0001）城管 · 一般（7 天） · 待签收（11-27 10:00 前）",
        "2. C-0002（W-0002）城管 · 一般（7 天） · 由您承办（12-03 10:00 前办结）",
        "3. C-0003（W-0003）城管 · 一般（7 天） · 小吴 承办（12-03 10:00 前办结）",
    ]
    assert first.next is not None
    assert (first.next.act, first.next.subject) == (Act.CASE_PAGE, 1)
    last = pages.cases(env, found, 5, me=7)  # past the end: the last page
    assert [item.view.subject for item in last.items] == [6, 7]
    assert [(item.view.act, item.labels["ref"]) for item in last.items] == [
        (Act.CASE_SHOW, "C-0006"),
        (Act.CASE_SHOW, "C-0007"),
    ]
    assert last.next is None
    assert pages.cases(env, [], 0, me=7).items == ()
