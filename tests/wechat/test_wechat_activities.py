"""What is WeChat's own in volunteers' activities and the certificate (issue 26, item 2); the journey itself — the
list, sign-up, the waitlist and its promotion, check-in inside and outside the distance, the certificate's
verification — is written once for both channels in tests/journeys/test_activities.py. Here: the menu's items, the
check-in's parametric QR code and its lifetime, the certificate as an image uploaded as temporary media with a link
to its verification page, and the list's pages."""

from __future__ import annotations

import datetime as dt
import io
import re
import socket

import aiohttp
import pytest
from PIL import Image

from actions import activities as activity_actions
from bot.app import TongxinApp
from core.clock import ManualClock
from rules.wishes import Actor
from simulator import BotApiSimulator
from simulator.wechat import WeChatPerson, WeChatSimulator
from tests.stories.test_activities import delivered, shanghai
from tests.stories.test_activities_followup import VOLUNTEER, an_activity, start_as_admin
from tests.stories.test_certificates import two_verified_hours
from tests.wechat.test_wechat_volunteers import make_volunteer

PLACE = (39.9100, 116.4100)  # 幸福里敬老院


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def callback_port() -> int:
    return _free_port()


@pytest.fixture
def settings_overrides(wx: WeChatSimulator, callback_port: int) -> dict[str, object]:
    """The callback server on a known port, which is also the public address certificates link to."""
    return {**wx.settings(callback_port=callback_port), "wechat_public_url": f"http://127.0.0.1:{callback_port}"}


async def tap_after(person: WeChatPerson, label: str, seen: int) -> None:
    """Tap the item `label` of a menu that arrived after the first `seen` messages."""
    menu = await person.wait_for(lambda r: any(label in content for _, content in r.items), after=seen)
    item = next((menu_id, content) for menu_id, content in menu.items if label in content)
    await person.tap_item(*item)


# WeChat's own rule (the QR's scene and lifetime), not the dialect's: on SQLite only.
async def test_the_check_in_qr_lives_ten_minutes_then_a_scan_reaches_nobody(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wechat_bot.bot_data.env
    admin, admin_id = await start_as_admin(sim, wechat_bot)
    xiaozhou = wx.person("小周")
    zhou_id = await make_volunteer(env, xiaozhou)
    activity_id = await an_activity(env, admin_id, starts=shanghai(26, 15), headcount=5, location=PLACE)
    await activity_actions.sign_up(env, Actor(zhou_id, VOLUNTEER), activity_id)
    await delivered(wechat_bot, sim)
    # 活动 and 证明 are under the volunteer's menu 志愿.
    assert wx.menu_keys(xiaozhou.openid)["ACTIVITIES"] == "活动"
    assert wx.menu_keys(xiaozhou.openid)["CERTIFICATE"] == "证明"

    # Ten minutes before the start the organizer's /checkin brings WeChat's QR, valid as long as the code.
    clock.set(shanghai(26, 14, 50))
    await admin.send_command("/checkin")
    await admin.wait_for(lambda: any("微信签到码" in (m.text or "") for m in admin.messages if m.kind == "photo"))
    qr = next(m for m in admin.messages if m.kind == "photo" and "微信签到码" in (m.text or ""))
    assert qr.photo_bytes is not None
    assert "有效至 15:00" in (qr.text or "")
    seen = len(xiaozhou.inbox)
    await xiaozhou.scan(qr.photo_bytes)
    await xiaozhou.wait_for_text("发送您现在的位置", after=seen)

    # A scan after that shows WeChat's own page (the temporary QR expired) and reaches nobody.
    clock.set(shanghai(26, 15, 5))
    assert await xiaozhou.scan(qr.photo_bytes) is None


@pytest.mark.both_databases  # on SQLite and PostgreSQL
async def test_the_certificate_arrives_as_an_image_with_a_link_to_its_verification_page(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wechat_bot.bot_data.env
    _admin, admin_id = await start_as_admin(sim, wechat_bot)
    xiaozhou = wx.person("小周")
    zhou_id = await make_volunteer(env, xiaozhou)
    # Two hours at an activity she checked in and out of, confirmed by the organizer.
    await two_verified_hours(env, clock, admin_id, zhou_id, starts=shanghai(26, 15))
    await delivered(wechat_bot, sim)
    # The hours-confirmed notice's 📷 item says the photos cannot be sent here yet (not the greeting).
    await xiaozhou.wait_for_text("服务时长：2 小时")
    seen = len(xiaozhou.inbox)
    await tap_after(xiaozhou, "发送活动照片", 0)
    await xiaozhou.wait_for_text("暂时还不能在微信里发送", after=seen)
    clock.advance(dt.timedelta(seconds=20))

    seen = len(xiaozhou.inbox)
    await xiaozhou.click("CERTIFICATE")
    # Drawing the image with a CJK font takes a moment of CPU on a loaded machine.
    told = await xiaozhou.wait_for_text("志愿服务记录证明", after=seen, timeout=30)
    assert "核实 2 小时，自报 0 小时" in told.text
    assert "/verify " not in told.text  # WeChat's words name no Telegram command
    image = await xiaozhou.wait_for(lambda r: r.kind == "image", after=seen, timeout=30)
    content = wx.media[image.text][0]
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    assert 20_000 < len(content) < 2_000_000
    with Image.open(io.BytesIO(content)) as drawn:
        assert drawn.size == (1240, 1754)

    # The link opens the verification page: the holder, the period and the verified hours.
    link = re.search(r"核验页面：(\S+)", told.text)
    assert link is not None
    async with aiohttp.ClientSession() as http, http.get(link.group(1)) as response:
        assert response.status == 200
        page = await response.text()
    assert "证明有效" in page
    assert "持有人：小周" in page
    assert "经组织方核实的活动时长：2 小时" in page

    # Verifying it by its code (核验) is the volunteer's activities journey: tests/journeys/test_activities.py.


@pytest.mark.both_databases  # on SQLite and PostgreSQL
async def test_the_activities_come_five_a_page_on_wechat_and_on_telegram(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wechat_bot.bot_data.env
    admin, admin_id = await start_as_admin(sim, wechat_bot)
    for hour in range(12, 18):  # A-0001 … A-0006, soonest first, published before 小周 joined (no invitations)
        await an_activity(env, admin_id, starts=shanghai(27, hour), headcount=3)
    xiaozhou = wx.person("小周")
    await make_volunteer(env, xiaozhou)

    seen = len(xiaozhou.inbox)
    await xiaozhou.send_text("活动")
    first = await xiaozhou.wait_for_text("第 1/2 页", after=seen)
    assert "A-0005" in first.text
    assert "A-0006" not in first.text
    await tap_after(xiaozhou, "下一页", seen)
    second = await xiaozhou.wait_for_text("第 2/2 页", after=seen)
    assert "A-0006" in second.text
    assert any("报名 A-0006" in content for _, content in second.items)
    assert any("上一页" in content for _, content in second.items)

    # The same page on Telegram, ▶ redrawing it in place.
    await admin.send_command("/activities")
    page = await admin.wait_for_text("第 1/2 页")
    await admin.press("下一页 ▶", message=page)
    await admin.wait_for(lambda: "A-0006" in (admin.messages[-1].text or ""), what="the second page")
