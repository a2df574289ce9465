"""Volunteer registration on WeChat, through the form written once (conversations/registration.py): a
coordinator's invite QR code scanned on WeChat starts it; the name is typed, the phone skipped, skills ticked in
the menu (✅ on the chosen ones), the area picked by its number, the location sent; the invite approves at once,
and it is used up."""

from __future__ import annotations

from bot.app import TongxinApp
from rules.roles import Role
from simulator import BotApiSimulator
from simulator.wechat import WeChatSimulator
from storage import people, volunteers, wechat
from tests.wechat.test_wechat_volunteers import volunteer_invite_qr


async def test_a_scanned_invite_registers_a_wechat_volunteer_through_the_form_written_once(
    wechat_bot: TongxinApp, wx: WeChatSimulator, sim: BotApiSimulator
) -> None:
    env = wechat_bot.bot_data.env
    _admin, qr = await volunteer_invite_qr(sim)

    xiaoli = wx.stranger("小李")
    await xiaoli.scan(qr.photo_bytes)
    asked = await xiaoli.wait_for_text("请输入您希望显示的姓名")
    assert "欢迎加入志愿者队伍" in asked.text
    assert "按钮" not in asked.text  # WeChat's wording: no name button to press here
    await xiaoli.send_text("李小梅")
    await xiaoli.wait_for_text("留个电话")
    await xiaoli.send_text("跳过")
    skills = await xiaoli.wait_for_text("您能提供哪些服务")
    assert any(label.endswith("选好了") for _, label in skills.items)
    seen = len(xiaoli.inbox)
    await xiaoli.tap("助老助残")
    ticked = await xiaoli.wait_for_text("您能提供哪些服务", after=seen)
    assert any("✅ 助老助残" in label for _, label in ticked.items)
    await xiaoli.tap("选好了")
    areas = await xiaoli.wait_for_text("哪个镇")
    second = areas.items[1][1].removeprefix("2. ")  # the second area shown
    await xiaoli.send_text("2")
    await xiaoli.wait_for_text("分享一下您的位置")
    await xiaoli.send_location(39.9011, 116.4012, "幸福路")
    await xiaoli.wait_for_text("欢迎成为志愿者")

    async with env.db.read() as conn:
        person = await people.find_person(conn, "wechat", xiaoli.openid)
        assert person is not None
        assert Role.VOLUNTEER.value in person.roles
        assert await wechat.invite_of(conn, xiaoli.openid) is None
        profile = await volunteers.get_volunteer(conn, person.id)
    assert (profile.name, profile.phone, profile.area) == ("李小梅", None, second)
    assert profile.skills == frozenset({"elderly_disabled"})
    assert (profile.latitude, profile.longitude) == (39.9011, 116.4012)


async def test_the_registration_words_start_it_and_leave_words_leave_it(
    wechat_bot: TongxinApp, wx: WeChatSimulator
) -> None:
    wang = wx.person("王阿姨")
    await wang.send_text("志愿者登记")
    await wang.wait_for_text("请输入您希望显示的姓名")
    seen = len(wang.inbox)
    await wang.send_text("帮助")
    await wang.wait_for_text("您正在登记成为志愿者", after=seen)
    await wang.send_text("退出")
    await wang.wait_for_text("已取消")
