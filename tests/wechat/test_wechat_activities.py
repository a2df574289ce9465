"""Volunteers' activities and certificate on the service account (issue 26, item 2), on the conversations written
once that Telegram's /activities, /checkin and /certificate use: the list of upcoming activities, sign-up, the
waitlist and its promotion told by notice, cancel; check-in by scanning the activity's parametric QR code (the
organizer gets it on Telegram) and sending a location, inside and outside the allowed distance; the certificate as
an image uploaded as temporary media, and its verification link opening the verification page."""

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
from bot.clock import ManualClock
from rules.activities import activity_ref
from rules.wishes import Actor
from simulator import BotApiSimulator
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import activities as activity_store
from tests.stories.test_activities import delivered, shanghai
from tests.stories.test_activities_followup import VOLUNTEER, an_activity, start_as_admin
from tests.stories.test_certificates import two_verified_hours
from tests.wechat.test_wechat_volunteers import make_volunteer

pytestmark = pytest.mark.both_databases  # on SQLite and PostgreSQL

PLACE = (39.9100, 116.4100)  # 幸福里敬老院
NEARBY = (39.9110, 116.4105)  # about 120 m away
ACROSS_TOWN = (39.9300, 116.4100)  # about 2.2 km away


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


async def test_a_wechat_volunteer_signs_up_waits_and_moves_up_when_a_place_frees(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wechat_bot.bot_data.env
    _admin, admin_id = await start_as_admin(sim, wechat_bot)
    xiaozhou, xiaowu = wx.person("小周"), wx.person("小吴")
    zhou_id = await make_volunteer(env, xiaozhou)
    wu_id = await make_volunteer(env, xiaowu)
    activity_id = await an_activity(env, admin_id, starts=shanghai(26, 15), headcount=1)
    ref = activity_ref(1)
    await delivered(wechat_bot, sim)

    # 活动 under the volunteer's menu 志愿: the upcoming activity, with 报名 as a menu item.
    assert wx.menu_keys(xiaozhou.openid)["ACTIVITIES"] == "活动"
    assert wx.menu_keys(xiaozhou.openid)["CERTIFICATE"] == "证明"
    seen = len(xiaozhou.inbox)
    await xiaozhou.click("ACTIVITIES")
    listing = await xiaozhou.wait_for_text("近期志愿活动", after=seen)
    assert f"{ref} 敬老院助老服务" in listing.text
    assert "已报名 0/1" in listing.text
    await tap_after(xiaozhou, f"报名 {ref}", seen)
    signed = await xiaozhou.wait_for_text("报名成功", after=seen)
    assert "幸福里敬老院" in signed.text
    assert any(f"取消报名 {ref}" in content for _, content in signed.items)

    # The only place is taken: 小吴, typing the word and the item's number, is put on the waitlist.
    seen = len(xiaowu.inbox)
    await xiaowu.send_text("活动")
    await xiaowu.wait_for_text("已报名 1/1", after=seen)
    await xiaowu.send_text("1")
    waiting = await xiaowu.wait_for_text("候补名单", after=seen)
    assert "名额已满" in waiting.text
    async with env.db.read() as conn:
        assert (await activity_store.find_signup(conn, activity_id, wu_id)).status == "waitlisted"  # type: ignore[union-attr]

    # 小周 gives the place up from her list; 小吴 moves up and is told by notice.
    seen, wu_seen = len(xiaozhou.inbox), len(xiaowu.inbox)
    clock.advance(dt.timedelta(seconds=20))  # a second click (WeChat tells events apart by their second)
    await xiaozhou.click("ACTIVITIES")
    await xiaozhou.wait_for_text("您已报名", after=seen)
    await tap_after(xiaozhou, f"取消报名 {ref}", seen)
    await xiaozhou.wait_for_text(f"已取消 {ref} 的报名", after=seen)
    await delivered(wechat_bot, sim)
    promoted = await xiaowu.wait_for_text("递补", after=wu_seen)
    assert ref in promoted.text
    async with env.db.read() as conn:
        assert (await activity_store.find_signup(conn, activity_id, wu_id)).status == "signed_up"  # type: ignore[union-attr]
        assert (await activity_store.find_signup(conn, activity_id, zhou_id)).status == "cancelled"  # type: ignore[union-attr]
    # A stale 取消报名 (she is no longer on it) is answered, nothing changes.
    seen = len(xiaozhou.inbox)
    await tap_after(xiaozhou, f"取消报名 {ref}", 0)
    await xiaozhou.wait_for_text("没有报名", after=seen)


async def test_a_wechat_volunteer_checks_in_by_scanning_the_activity_qr_and_sending_a_location(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator, clock: ManualClock
) -> None:
    env = wechat_bot.bot_data.env
    admin, admin_id = await start_as_admin(sim, wechat_bot)
    xiaozhou = wx.person("小周")
    zhou_id = await make_volunteer(env, xiaozhou)
    activity_id = await an_activity(env, admin_id, starts=shanghai(26, 15), headcount=5, location=PLACE)
    await activity_actions.sign_up(env, Actor(zhou_id, VOLUNTEER), activity_id)
    await delivered(wechat_bot, sim)

    # At the site, ten minutes before the start, the organizer asks for the code: Telegram's QR and WeChat's.
    clock.set(shanghai(26, 14, 50))
    await admin.send_command("/checkin")
    await admin.wait_for(lambda: any("微信签到码" in (m.text or "") for m in admin.messages if m.kind == "photo"))
    qr = next(m for m in admin.messages if m.kind == "photo" and "微信签到码" in (m.text or ""))
    assert qr.photo_bytes is not None
    assert "有效至 15:00" in (qr.text or "")

    # Scanned from across town: the location is asked, and refused with the distance.
    seen = len(xiaozhou.inbox)
    await xiaozhou.scan(qr.photo_bytes)
    await xiaozhou.wait_for_text("发送您现在的位置", after=seen)
    await xiaozhou.send_location(*ACROSS_TOWN, label="朝阳门")
    far = await xiaozhou.wait_for_text("米以内才能签到", after=seen)
    assert re.search(r"约 2\d{3} 米，需在 500 米", far.text), far.text
    async with env.db.read() as conn:
        assert (await activity_store.find_signup(conn, activity_id, zhou_id)).checked_in_at is None  # type: ignore[union-attr]

    # At the place, a minute later: checked in.
    clock.advance(dt.timedelta(minutes=1))
    seen = len(xiaozhou.inbox)
    await xiaozhou.scan(qr.photo_bytes)
    await xiaozhou.wait_for_text("发送您现在的位置", after=seen)
    await xiaozhou.send_location(*NEARBY, label="幸福里敬老院")
    done = await xiaozhou.wait_for_text("签到成功", after=seen)
    assert "A-0001 敬老院助老服务，14:51" in done.text
    async with env.db.read() as conn:
        signup = await activity_store.find_signup(conn, activity_id, zhou_id)
    assert signup is not None
    assert signup.checked_in_at == shanghai(26, 14, 51).astimezone(dt.UTC)

    # The code lives ten minutes: a scan after that shows WeChat's own page and reaches nobody.
    clock.set(shanghai(26, 15, 5))
    assert await xiaozhou.scan(qr.photo_bytes) is None


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

    # Anyone on the account can verify it by its code; a certificate's number verifies nothing.
    code_match = re.search(r"核验码 ([A-Z0-9]{8})", told.text)
    number = re.search(r"TX-2026-\d{6}", told.text)
    assert code_match is not None
    assert number is not None
    visitor = wx.person("访客")
    seen = len(visitor.inbox)
    await visitor.send_text(f"核验 {code_match.group(1)}")
    verified = await visitor.wait_for_text("证明有效", after=seen)
    assert "持有人：小周" in verified.text
    seen = len(visitor.inbox)
    await visitor.send_text(f"核验 {number.group(0)}")
    refused = await visitor.wait_for_text("不能用来核验", after=seen)
    assert "小周" not in refused.text


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
