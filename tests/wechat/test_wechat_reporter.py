"""张记者, a roving reporter on the 服务号, sends a photo lead: photos one by one, what happened, the place or 跳过,
the category, 提交 — the tip form written once (conversations/tip.py). 周编辑 reviews it on Telegram and sees the
photos (uploaded from the bytes the bot saved when they came in); the editor's outcome reaches 张记者 on WeChat."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import TongxinApp
from core.clock import ManualClock
from rules.roles import Role
from rules.tips import MAX_MEDIA, TipStatus
from simulator import BotApiSimulator
from simulator.people import Person
from simulator.wechat import WeChatPerson, WeChatSimulator
from storage import media, people, tips, users
from storage.db import Database
from storage.schema import media as media_table
from tests.conftest import START_TIME
from tests.stories.wishflow import person_id, review_tip

pytestmark = pytest.mark.both_databases  # on SQLite and PostgreSQL

PHOTOS = [b"\xff\xd8 water main, north side", b"\xff\xd8 water on the road", b"\xff\xd8 the repair crew"]
WHAT = "人民路口水管爆裂，水漫到路面，抢修队已经到场"


async def wechat_reporter(db: Database, zhang: WeChatPerson) -> None:
    """张记者 has written to the account and holds the reporter role."""
    await zhang.send_text("你好")
    await zhang.wait_for_text("许心愿")
    async with db.write() as conn:
        found = await people.find_person(conn, "wechat", zhang.openid)
        assert found is not None
        await users.grant_role(conn, found.id, Role.REPORTER, granted_by=None, now=START_TIME)


async def telegram_editor(db: Database, sim: BotApiSimulator) -> Person:
    """周编辑 has written to the bot on Telegram and holds the editor role."""
    editor = sim.person("周编辑")
    await editor.send_command("/start")
    await editor.next_message()
    async with db.write() as conn:
        await users.grant_role(conn, await person_id(conn, editor), Role.EDITOR, granted_by=None, now=START_TIME)
    return editor


async def send_lead(zhang: WeChatPerson) -> None:
    """报料 with the three photos and what happened, the place skipped, 民生, 提交."""
    await zhang.send_text("报料")
    await zhang.wait_for_text("一张一张发")
    seen = len(zhang.inbox)
    await zhang.send_photo(PHOTOS[0])
    await zhang.wait_for_text("已收到 1 张照片", after=seen)
    for count, photo in enumerate(PHOTOS[1:], start=2):
        seen = len(zhang.inbox)
        await zhang.send_photo(photo)
        await zhang.wait_for_text(f"目前共 {count} 个", after=seen)
    await zhang.send_text(WHAT)
    await zhang.wait_for_text("请发送现场位置")
    await zhang.send_text("跳过")
    await zhang.wait_for_text("请选择线索类别")
    await zhang.tap("民生")
    summary = await zhang.wait_for_text("请确认线索内容")
    assert "照片/视频：3 个" in summary.text
    assert WHAT in summary.text
    await zhang.tap("提交")


async def test_a_photo_lead_sent_on_wechat_is_reviewed_on_telegram_and_its_outcome_told(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    db = wechat_bot.bot_data.db
    editor = await telegram_editor(db, sim)
    zhang = wx.person("张记者")
    await wechat_reporter(db, zhang)

    await send_lead(zhang)
    told = await zhang.wait_for_text("线索已提交，编号 T-0001")
    assert "/mytips" not in told.text  # WeChat's wording: no Telegram command
    await editor.wait_for_text("新线索 T-0001")
    async with db.read() as conn:
        [tip] = await tips.review_queue(conn, 10)
        reporter = await people.find_person(conn, "wechat", zhang.openid)
    assert reporter is not None
    assert tip.reporter_id == reporter.id
    assert tip.by_reporter
    assert (tip.description, tip.category, tip.location) == (WHAT, "livelihood", None)
    assert [m.kind for m in tip.media] == ["photo"] * 3

    # The editor sees the reporter's three photos as one album, in the order sent, above the card.
    card = await review_tip(editor, "T-0001")
    assert WHAT in (card.text or "")
    album = [m for m in editor.messages if m.kind == "photo"]
    assert [m.photo_bytes for m in album] == PHOTOS
    assert album[0].media_group_id is not None
    assert {m.media_group_id for m in album} == {album[0].media_group_id}
    async with db.read() as conn:
        for item in tip.media:  # kept from WeChat (its bytes saved), and now known to Telegram too
            assert await media.file_ref(conn, item.media_id, "wechat")
            assert await media.file_ref(conn, item.media_id, "file")
            assert await media.file_ref(conn, item.media_id, "telegram")
        drafts = (await conn.execute(media_table.select().where(media_table.c.draft_of.is_not(None)))).all()
    assert drafts == []  # the tip took its photos: none is left as an abandoned draft's

    # The outcome reaches the reporter on WeChat.
    seen = len(zhang.inbox)
    await editor.press("采用", message=card)
    await zhang.wait_for_text("您的线索 T-0001 已被编辑采用", after=seen)
    # Shown again, the photos go by Telegram's reference: nothing is uploaded twice.
    await review_tip(editor, "T-0001")
    await editor.wait_for(lambda: len([m for m in editor.messages if m.kind == "photo"]) == 6, what="the album again")
    [first, again] = [r.params["media"] for r in sim.records if r.method == "sendMediaGroup"]
    assert all(str(m["media"]).startswith("attach://") for m in first)  # uploaded once
    assert not any(str(m["media"]).startswith("attach://") for m in again)


async def test_a_lead_s_bad_input_is_answered_and_loses_nothing_and_a_decline_is_told(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator, clock: ManualClock
) -> None:
    db = wechat_bot.bot_data.db
    editor = await telegram_editor(db, sim)
    zhang = wx.person("张记者")
    await wechat_reporter(db, zhang)

    # A photo outside any form starts a lead with it.
    await zhang.send_photo(b"\xff\xd8 0")
    await zhang.wait_for_text("已收到 1 张照片")
    for n in range(2, MAX_MEDIA + 1):
        seen = len(zhang.inbox)
        await zhang.send_photo(bytes([0xFF, 0xD8, n]))
        await zhang.wait_for_text(f"目前共 {n} 个", after=seen)
    seen = len(zhang.inbox)
    await zhang.send_photo(b"\xff\xd8 the eleventh")
    refused = await zhang.wait_for_text("最多10个", after=seen)
    assert "已收到的内容都保留着" in refused.text
    # A voice message where photos or words are asked for (no speech recognition on the account).
    seen = len(zhang.inbox)
    await zhang.send_voice()
    await zhang.wait_for_text("这种消息不能作为线索素材", after=seen)
    # "完成" says the photos are in; it is no description.
    seen = len(zhang.inbox)
    await zhang.send_text("完成")
    await zhang.wait_for_text("照片已收好（共 10 张）", after=seen)
    # Blank or emoji-only words are no description either.
    seen = len(zhang.inbox)
    await zhang.send_text("   ")
    await zhang.wait_for_text("说明不能为空", after=seen)
    seen = len(zhang.inbox)
    await zhang.send_text("😀😀👍")
    await zhang.wait_for_text("请用文字说明发生了什么", after=seen)
    await zhang.send_text("桥头积水很深，车辆无法通行")
    await zhang.wait_for_text("请发送现场位置")
    # Words where the place is asked: asked again; a location is kept.
    seen = len(zhang.inbox)
    await zhang.send_text("桥头")
    await zhang.wait_for_text("这一步需要位置", after=seen)
    await zhang.send_location(29.30, 117.20, "河口镇桥头")
    await zhang.wait_for_text("已记下位置")
    # An 11th photo at the category step is refused there too; the categories' numbers still hold: 3 is 突发.
    seen = len(zhang.inbox)
    await zhang.send_photo(b"\xff\xd8 one more")
    await zhang.wait_for_text("最多10个", after=seen)
    await zhang.send_text("3")
    summary = await zhang.wait_for_text("请确认线索内容")
    assert "照片/视频：10 个" in summary.text
    assert "位置：已附" in summary.text
    seen = len(zhang.inbox)
    await zhang.send_text("9")  # a number the menu does not have: the summary again, nothing lost
    await zhang.wait_for_text("请确认线索内容", after=seen)
    await zhang.send_text("1")  # 提交, typed
    await zhang.wait_for_text("线索已提交，编号 T-0001")
    async with db.read() as conn:
        [tip] = await tips.review_queue(conn, 10)
    assert len(tip.media) == MAX_MEDIA
    assert tip.description == "桥头积水很深，车辆无法通行"
    assert tip.location == (29.30, 117.20)

    # An item of the sent lead's menu, tapped again, is stale: said so, nothing sent twice.
    seen = len(zhang.inbox)
    await zhang.tap("提交")
    await zhang.wait_for_text("这一项已经过期", after=seen)

    # The editor asks for more; 张记者 taps 回复 under the question on WeChat and sends a photo: it is attached.
    card = await review_tip(editor, "T-0001")
    await editor.press("请补充", message=card)
    await editor.wait_for_text("请输入需要报送人补充的问题")
    seen = len(zhang.inbox)
    await editor.send_text("桥头现在还能通行吗？请拍一张桥面的照片")
    question = await zhang.wait_for_text("编辑需要您补充线索 T-0001 的信息", after=seen)
    assert "桥面的照片" in question.text
    await zhang.tap("回复")
    await zhang.wait_for_text("请发送对 T-0001 的补充")
    seen = len(zhang.inbox)
    await zhang.send_photo(b"\xff\xd8 the bridge deck")
    await zhang.wait_for_text("补充已附到 T-0001", after=seen)
    await editor.wait_for_text("T-0001 的报送人已补充信息")
    async with db.read() as conn:
        answered = await tips.get_tip(conn, tip.id)
    assert answered.status == TipStatus.NEW
    assert len(answered.media) == MAX_MEDIA + 1  # the answer's photo joins the lead's ten

    # Two days later the editor declines it: the reporter's window is closed, so the outcome is a template notice.
    clock.advance(dt.timedelta(hours=49))
    card = await review_tip(editor, "T-0001")
    await editor.press("不采用", message=card)
    await editor.wait_for_text("请输入 T-0001 不采用的原因")
    seen = len(zhang.inbox)
    await editor.send_text("已有同类报道")
    declined = await zhang.wait_for(lambda r: r.kind == "template", after=seen)
    assert declined.fields["character_string2"] == "T-0001"
    assert declined.fields["thing1"].startswith("您的线索 T-0001 这次未被采用")
    async with db.read() as conn:
        assert (await tips.get_tip(conn, tip.id)).status == TipStatus.DECLINED


async def test_a_revoked_token_loses_no_photo_and_leave_words_drop_the_lead(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    db = wechat_bot.bot_data.db
    zhang = wx.person("张记者")
    await wechat_reporter(db, zhang)
    await zhang.send_text("报料")
    await zhang.wait_for_text("一张一张发")
    wx.tokens.clear()  # revoked: the photo's download fetches a fresh token once
    await zhang.send_photo(PHOTOS[0])
    await zhang.wait_for_text("已收到 1 张照片")
    assert all("没有收到" not in r.text for r in zhang.inbox)
    assert [(r.path, r.errcode) for r in wx.refusals] == [("/cgi-bin/media/get", 40001)]
    wx.refusals.clear()
    seen = len(zhang.inbox)
    await zhang.send_text("帮助")  # help words: where she is, and the step again; the photo stays
    await zhang.wait_for_text("已收到 1 张照片", after=seen)
    seen = len(zhang.inbox)
    await zhang.send_text("取消")
    await zhang.wait_for_text("已取消", after=seen)
    async with db.read() as conn:
        assert await tips.review_queue(conn, 10) == []
    # Words outside any form are not passed on; how to send a lead is said.
    seen = len(zhang.inbox)
    await zhang.send_text("人民路口水管爆了")
    told = await zhang.wait_for_text("这条消息没有转给编辑", after=seen)
    assert "回复“报料”" in told.text


async def test_a_resident_may_send_a_lead_too_by_the_word(
    wechat_bot: TongxinApp, sim: BotApiSimulator, wx: WeChatSimulator
) -> None:
    db = wechat_bot.bot_data.db
    wang = wx.person("王阿姨")
    await wang.send_text("报料")  # not on a resident's menu, but the word works, as /tip does on Telegram
    await wang.wait_for_text("一张一张发")
    await wang.send_text("小区门口的路灯坏了一个星期")
    await wang.wait_for_text("请发送现场位置")
    await wang.send_text("跳过")
    await wang.tap("民生")
    await wang.wait_for_text("请确认线索内容")
    await wang.tap("提交")
    await wang.wait_for_text("线索已提交，编号 T-0001")
    async with db.read() as conn:
        [tip] = await tips.review_queue(conn, 10)
    assert tip.media == ()
    assert not tip.by_reporter  # only registered reporters' leads are marked
