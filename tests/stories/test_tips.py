"""Stories of the newsroom loop: reporters send tips (albums, videos, text), editors review them, and the
reporter hears every outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import TongxinApp
from rules.tips import TipStatus, tip_reference
from simulator import BotApiSimulator
from simulator.people import Person
from storage import tips, users
from storage.schema import tip_events
from tests.conftest import ADMIN_ID, START_TIME
from tests.stories.wishflow import person_id, review_tip


async def make_role(bot: TongxinApp, person: Person, role: str) -> None:
    """Give someone a role the way staff would (they must have written to the bot first)."""
    await person.send_command("/start")
    await person.next_message()
    async with bot.bot_data.db.write() as conn:
        await users.grant_role(conn, await person_id(conn, person), role, granted_by=None, now=START_TIME)


async def all_tips(bot: TongxinApp) -> list[tips.Tip]:
    async with bot.bot_data.db.read() as conn:
        ids = [t.id for t in await tips.review_queue(conn, 100)]
        return [await tips.get_tip(conn, i) for i in ids]


async def finish_tip(person: Person, category: str = "民生") -> str:
    """Skip the location, pick a category, submit; returns the confirmation text."""
    await person.press_reply_button("跳过")
    await person.wait_for_text("请选择线索类别")
    await person.press(category)
    await person.wait_for_text("请确认线索内容")
    await person.press("提交")
    return (await person.wait_for_text("线索已提交")).text or ""


async def test_an_album_with_a_caption_becomes_one_tip(bot: TongxinApp, sim: BotApiSimulator) -> None:
    li = sim.person("李记者")
    await make_role(bot, li, "reporter")
    await li.send_command("/tip")
    await li.wait_for_text("请发送现场照片")
    await li.send_album([bytes([i]) * 50 for i in range(5)], caption="东城社区志愿者为老人义诊")
    await li.wait_for_text("分享位置")
    await sim.settle()
    done = await finish_tip(li)
    assert "T-0001" in done

    [tip] = await all_tips(bot)
    assert tip_reference(tip.id) == "T-0001"
    assert len(tip.media) == 5
    assert tip.description == "东城社区志愿者为老人义诊"
    assert tip.category == "livelihood"
    assert tip.by_reporter
    # The photos were saved to the media folder.
    await sim.settle()
    async with bot.bot_data.db.read() as conn:
        saved = await tips.get_tip(conn, tip.id)
    assert all(m.local_path and Path(m.local_path).exists() for m in saved.media)  # noqa: ASYNC240
    assert Path(saved.media[0].local_path or "").parent == bot.bot_data.settings.media_dir / "T-0001"


async def test_two_reporters_albums_sent_interleaved_stay_separate(bot: TongxinApp, sim: BotApiSimulator) -> None:
    li = sim.person("李记者")
    zhao = sim.person("赵记者")
    for person in (li, zhao):
        await person.send_command("/tip")
        await person.wait_for_text("请发送现场照片")
    group_li = sim.new_media_group_id()
    group_zhao = sim.new_media_group_id()
    # Three photos each, arriving alternately, as two phones on a slow network would deliver them.
    for i in range(3):
        for person, group, caption in ((li, group_li, "李的相册"), (zhao, group_zhao, "赵的相册")):
            stored = sim.files.add(bytes([i, person.user_id % 250]) * 20, kind="photo", mime_type="image/png")
            fields: dict[str, object] = {"media_group_id": group, "photo": [sim.photo_size(stored)]}
            if i == 0:
                fields["caption"] = caption
            await person._send(fields, None)
    await sim.settle()
    await finish_tip(li)
    await finish_tip(zhao, "好人好事")

    first, second = await all_tips(bot)
    assert (first.description, len(first.media)) == ("李的相册", 3)
    assert (second.description, len(second.media)) == ("赵的相册", 3)
    assert not first.by_reporter  # anyone may send a tip; only registered reporters' are marked
    li_files = {m.file_id for m in first.media}
    assert li_files.isdisjoint({m.file_id for m in second.media})


async def test_text_only_tip_with_a_location(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/tip")
    await wang.wait_for_text("请发送现场照片")
    await wang.send_text("河口镇桥头积水很深，车辆无法通行")
    await wang.wait_for_text("分享位置")
    await wang.press_reply_button("📍 分享位置")
    await wang.wait_for_text("请选择线索类别")
    await wang.press("突发")
    summary = await wang.wait_for_text("请确认线索内容")
    assert "照片/视频：0" in (summary.text or "")
    await wang.press("提交")
    await wang.wait_for_text("T-0001")
    [tip] = await all_tips(bot)
    assert tip.media == ()
    assert tip.location is not None
    assert tip.category == "breaking"


async def test_wrong_media_is_refused_clearly_and_the_draft_kept(bot: TongxinApp, sim: BotApiSimulator) -> None:
    li = sim.person("李记者")
    await li.send_command("/tip")
    await li.wait_for_text("请发送现场照片")
    await li.send_sticker()
    await li.wait_for_text("不能作为线索素材")
    await li.send_document(b"%PDF-1.4", filename="report.pdf", mime_type="application/pdf")
    await li.wait_for_text("不能作为线索素材")
    await li.send_video(caption="车站门口", declared_size=25 * 1024 * 1024)
    await li.wait_for_text("超过20MB")
    await li.send_video(caption="车站门口排起长队")
    await li.wait_for_text("分享位置")
    # At a later step a sticker gets a clear answer and the step is asked again.
    await li.send_sticker()
    await li.wait_for_text("分享位置")
    await li.send_album([bytes([i]) * 30 for i in range(10)])
    await li.wait_for_text("最多10个")
    await sim.settle()
    await finish_tip(li)
    [tip] = await all_tips(bot)
    assert tip.description == "车站门口排起长队"
    assert [m.kind for m in tip.media].count("video") == 1
    assert len(tip.media) == 10
    assert sim.invalid_requests == []


async def test_cancel_drops_the_draft(bot: TongxinApp, sim: BotApiSimulator) -> None:
    li = sim.person("李记者")
    await li.send_command("/tip")
    await li.wait_for_text("请发送现场照片")
    await li.send_photo(caption="草稿")
    await li.wait_for_text("分享位置")
    await li.send_command("/cancel")
    await li.wait_for_text("已取消")
    await sim.settle()
    assert await all_tips(bot) == []


async def test_editor_asks_for_more_then_publishes(bot: TongxinApp, sim: BotApiSimulator) -> None:
    li = sim.person("李记者", language_code="en")
    editor = sim.person("周编辑")
    await make_role(bot, li, "reporter")
    await make_role(bot, editor, "editor")
    await li.send_command("/tip")
    await li.wait_for_text("Send photos")
    await li.send_album([bytes([i]) * 40 for i in range(5)], caption="Free clinic at the east community centre")
    await li.wait_for_text("Share the location")
    await sim.settle()
    await li.press_reply_button("Skip")
    await li.wait_for_text("Choose a category")
    await li.press("Good deeds")
    await li.wait_for_text("Please check your tip")
    await li.press("Submit")
    await li.wait_for_text("T-0001")
    await editor.wait_for_text("新线索 T-0001")

    await editor.send_command("/review")
    listed = await editor.wait_for_text("待审核线索 1 条")
    assert "1. T-0001 · 好人好事 · Free clinic at the east community centre" in (listed.text or "")
    assert listed.inline_buttons == [["📋 T-0001"]]
    await editor.press("📋 T-0001", message=listed)
    card = await editor.wait_for_text("类别：好人好事")
    await sim.settle()
    album = [m for m in editor.messages if m.media_group_id is not None]
    assert len(album) == 5
    assert album[0].text == "T-0001"
    assert card.inline_buttons == [["采用", "不采用"], ["请补充", "已发布"]]
    assert "★" in (card.text or "")

    await editor.press("请补充", message=card)
    await editor.wait_for_text("请输入需要报送人补充的问题")
    await editor.send_text("请拍一张义诊现场的全景照片")
    await editor.wait_for_text("已请报送人补充 T-0001")
    question = await li.wait_for_text("The editors need more about your tip T-0001")
    assert "全景照片" in (question.text or "")

    await li.press("Answer")
    await li.wait_for_text("Send your answer about T-0001")
    await li.send_photo(caption="Wide shot of the clinic")
    await li.wait_for_text("back with the editors")
    await editor.wait_for_text("T-0001 的报送人已补充信息")
    [tip] = await all_tips(bot)
    assert tip.status == TipStatus.NEW
    assert len(tip.media) == 6

    card = await review_tip(editor, "T-0001")
    assert "报送人补充：Wide shot of the clinic" in (card.text or "")
    await editor.press("已发布", message=card)
    await editor.wait_for_text("请发送 T-0001 发布稿件的链接")
    await editor.send_text("javascript:alert(1)")
    await editor.wait_for_text("这不是有效的链接")
    await editor.send_text("https://news.example.cn/2026/11/clinic.html")
    await editor.wait_for_text("T-0001 已标记为已发布")
    told = await li.wait_for_text("became a story")
    assert "https://news.example.cn/2026/11/clinic.html" in (told.text or "")

    async with bot.bot_data.db.read() as conn:
        stored = await tips.get_tip(conn, tip.id)
        history = await tips.events_of(conn, tip.id)
    assert stored.status == TipStatus.PUBLISHED
    assert [(e.from_status, e.to_status) for e in history] == [
        (None, "new"),
        ("new", "more_info_requested"),
        ("more_info_requested", "new"),
        ("new", "published"),
    ]
    assert history[1].actor_id == await person_id(bot.bot_data.db, editor)
    assert history[1].note == "请拍一张义诊现场的全景照片"

    await li.send_command("/mytips")
    mine = await li.wait_for_text("Your tips:")
    assert "T-0001 · Good deeds · published" in (mine.text or "")
    assert "Sent 1, accepted 1, of which published 1." in (mine.text or "")


async def test_accept_and_decline_are_told_to_the_reporter(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    admin = sim.person("管理员", user_id=ADMIN_ID)
    for text in ("第一条线索：广场舞噪音扰民", "第二条线索：路灯坏了"):
        await wang.send_command("/tip")
        await wang.wait_for_text("请发送现场照片")
        await wang.send_text(text)
        await wang.wait_for_text("分享位置")
        await finish_tip(wang)
    await admin.send_command("/review")
    listed = await admin.wait_for_text("待审核线索 2 条")
    # One message, oldest first, a button each.
    text = listed.text or ""
    assert text.index("1. T-0001 · 民生 · 第一条线索") < text.index("2. T-0002 · 民生 · 第二条线索")
    assert listed.inline_buttons == [["📋 T-0001", "📋 T-0002"]]
    await admin.press("📋 T-0001", message=listed)
    first = await admin.wait_for_text("第一条线索")
    await admin.press("📋 T-0002", message=listed)
    second = await admin.wait_for_text("第二条线索")
    assert first.inline_buttons == second.inline_buttons == [["采用", "不采用"], ["请补充", "已发布"]]

    await admin.press("采用", message=first)
    await wang.wait_for_text("T-0001 已被编辑采用")
    await admin.press("不采用", message=second)
    await admin.wait_for_text("请输入 T-0002 不采用的原因")
    # The reason is asked by the conversation written once: a sticker and a help word are answered, nothing lost.
    await admin.send_sticker()
    await admin.wait_for_text("请输入文字")
    await admin.send_text("帮助")
    await admin.wait_for_text("您正在填写审稿意见")
    await admin.wait_for_text("请输入 T-0002 不采用的原因")
    await admin.send_text("已有同类报道")
    declined = await wang.wait_for_text("T-0002 这次未被采用")
    assert "已有同类报道" in (declined.text or "")
    await admin.wait_for_text("T-0002 未采用，已通知报送人")
    # The outcome names the tip it changed: the card pressed to start shows it declined, without its buttons.
    await admin.wait_for(lambda: "T-0002 · 未采用" in (second.text or "") and not second.inline_buttons)
    # A stale press (the card's old Accept button, e.g. from another device) changes nothing.
    sim.callback_query(admin, first, "tip:accept:2:n")
    await admin.wait_for(lambda: any("已被处理" in a for a in admin.callback_answers))

    await wang.send_command("/mytips")
    mine = await wang.wait_for_text("您报送的线索")
    assert "T-0001 · 民生 · 已采用" in (mine.text or "")
    assert "T-0002 · 民生 · 未采用" in (mine.text or "")
    assert "共报送" not in (mine.text or "")  # counts are for registered reporters


async def test_non_editor_cannot_review_or_forge_buttons(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    mallory = sim.person("冒充者")
    await wang.send_command("/tip")
    await wang.wait_for_text("请发送现场照片")
    await wang.send_text("菜市场电子秤缺斤短两")
    await wang.wait_for_text("分享位置")
    await finish_tip(wang)

    await mallory.send_command("/review")
    await mallory.wait_for_text("没有权限")
    await sim.settle()
    # Mallory crafts the buttons an editor's card would carry, on a message of her own chat.
    target = mallory.messages[-1]
    for data in ("tip:accept:1:n", "tip:decline:1:n", "tip:publish:1:n", "tipans:1", "tipapp:approve:1"):
        sim.callback_query(mallory, target, data)
    await sim.settle()
    assert all("权限" in answer for answer in mallory.callback_answers[-5:])
    [tip] = await all_tips(bot)
    assert tip.status == TipStatus.NEW
    async with bot.bot_data.db.read() as conn:
        rows = (await conn.execute(tip_events.select())).all()
    assert len(rows) == 1


@pytest.mark.both_databases  # two decisions at once: one compare-and-set wins on either database
async def test_two_editors_press_accept_at_once(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    zhou = sim.person("周编辑")
    wu = sim.person("吴编辑")
    await make_role(bot, zhou, "editor")
    await make_role(bot, wu, "editor")
    await wang.send_command("/tip")
    await wang.wait_for_text("请发送现场照片")
    await wang.send_text("小区门口新开了一家爱心驿站")
    await wang.wait_for_text("分享位置")
    await finish_tip(wang)
    zhou_card = await review_tip(zhou, "T-0001")
    wu_card = await review_tip(wu, "T-0001")
    sim.callback_query(zhou, zhou_card, zhou_card.raw["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    sim.callback_query(wu, wu_card, wu_card.raw["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    await sim.settle()
    answers = [*zhou.callback_answers, *wu.callback_answers]
    assert sum("已采用，已通知报送人" in a for a in answers) == 1
    assert sum("已被处理" in a for a in answers) == 1
    await wang.wait_for_text("已被编辑采用")
    await sim.settle()
    assert sum("已被编辑采用" in (m.text or "") for m in wang.messages) == 1


async def test_reporter_applies_and_an_editor_approves_in_review(bot: TongxinApp, sim: BotApiSimulator) -> None:
    li = sim.person("李记者")
    zhou = sim.person("周编辑")
    await make_role(bot, zhou, "editor")
    await li.send_command("/reporter")
    await li.wait_for_text("申请已提交")
    await zhou.wait_for_text("申请成为流动记者")
    await li.send_command("/reporter")
    await li.wait_for_text("正在审核中")

    await zhou.send_command("/review")
    empty = await zhou.wait_for_text("目前没有待审核的线索")
    assert empty.inline_buttons == [["记者申请（1）"]]
    await zhou.press("记者申请（1）", message=empty)
    card = await zhou.wait_for_text("记者申请：李记者")
    await zhou.press("批准", message=card)
    await zhou.wait_for_text("已批准 李记者")
    await li.wait_for_text("申请已获批准")
    async with bot.bot_data.db.read() as conn:
        assert "reporter" in (await users.get_user(conn, await person_id(conn, li))).roles


async def test_editor_invite_link_makes_a_reporter_at_once(bot: TongxinApp, sim: BotApiSimulator) -> None:
    zhou = sim.person("周编辑")
    li = sim.person("李记者")
    await make_role(bot, zhou, "editor")
    await zhou.send_command("/invite", "记者")  # the Chinese role word (issue 27, item 5)
    await zhou.wait_for_text("需要审核")
    await zhou.press("直接通过")
    invite = await zhou.wait_for_text("start=rinv_")
    payload = (invite.text or "").split("start=")[1].split()[0]
    await li.send_command("/start", payload)
    await li.wait_for_text("欢迎加入流动记者队伍")
    await li.send_command("/start", "rinv_nosuchcode")
    await li.wait_for_text("链接无效")
    async with bot.bot_data.db.read() as conn:
        assert "reporter" in (await users.get_user(conn, await person_id(conn, li))).roles
    # Their tips are marked and counted.
    await li.send_command("/tip")
    await li.wait_for_text("请发送现场照片")
    await li.send_text("桃园村村民自发修路")
    await li.wait_for_text("分享位置")
    await finish_tip(li, "好人好事")
    await li.send_command("/mytips")
    mine = await li.wait_for_text("您报送的线索")
    assert "共报送 1 条，已采用 0 条，其中已发布 0 条。" in (mine.text or "")


async def test_confirmed_wish_photo_becomes_a_lead_after_the_volunteer_agrees(
    bot: TongxinApp, sim: BotApiSimulator, clock: object
) -> None:
    import dataclasses

    from actions.leads import offer_story_lead
    from storage.media import add_telegram_media
    from storage.wishes import Wish

    chen = sim.person("陈志愿者")
    zhou = sim.person("周编辑")
    mallory = sim.person("冒充者")
    await make_role(bot, chen, "volunteer")
    await make_role(bot, zhou, "editor")
    await mallory.send_command("/start")
    await mallory.next_message()
    proof = sim.files.add(b"proof-photo", kind="photo", mime_type="image/png")
    data = bot.bot_data
    # What the wishes loop calls once a resident confirms wish W-0042 that has a proof photo.
    now = data.clock.now()
    async with data.db.write() as conn:
        proof_media_id = await add_telegram_media(conn, "photo", proof.file_id, now=now)
    fields = {f.name: None for f in dataclasses.fields(Wish)}
    confirmed: dict[str, object] = {
        **fields,
        **{"id": 42, "ref_no": 42, "resident_id": await person_id(data.db, mallory), "category": "other"},
        **{"status": "confirmed", "description": "为独居老人更换了门锁", "created_at": now, "updated_at": now},
        **{"claimed_by": await person_id(data.db, chen), "proof_file_id": proof.file_id},
        **{"proof_media_id": proof_media_id},
    }
    wish = Wish(**confirmed)  # type: ignore[arg-type]
    for _ in range(2):  # confirming twice asks once
        async with data.db.write() as conn:
            await offer_story_lead(conn, wish, now=now)
        data.env.wake()
    ask = await chen.wait_for_text("W-0042")
    assert ask.kind == "photo"
    assert ask.inline_buttons == [["同意", "不同意"]]
    # Nobody else can answer for the volunteer.
    sim.callback_query(mallory, mallory.messages[-1], "tiplead:yes:42")
    await sim.settle()
    assert await all_tips(bot) == []

    await chen.press("同意", message=ask)
    await chen.wait_for_text("已作为线索 T-0001")
    await zhou.wait_for_text("新线索 T-0001，来自心愿 W-0042")
    card = await review_tip(zhou, "T-0001")
    assert "T-0001 来自心愿 W-0042" in (card.text or "")
    assert "为独居老人更换了门锁" in (card.text or "")
    [tip] = await all_tips(bot)
    assert tip.source_wish_ref == 42
    assert [m.file_id for m in tip.media] == [proof.file_id]
    await sim.settle()
    # Offered twice, asked once: the one question now carries the thanks.
    assert [m.text for m in chen.messages if "W-0042" in (m.text or "")] == [
        "谢谢！心愿 W-0042 的照片已作为线索 T-0001 交给编辑。"
    ]


async def test_a_resident_sends_a_tip_from_the_start_button(bot: TongxinApp, sim: BotApiSimulator) -> None:
    wang = sim.person("王阿姨")
    await wang.send_command("/start")
    welcome = await wang.next_message()
    assert ["📰 报料"] in welcome.inline_buttons
    await wang.press("📰 报料")
    await wang.wait_for_text("请发送现场照片")
    await sim.settle()
    assert wang.callback_answers  # the button stops spinning
    await wang.send_photo(caption="小区门口的路灯坏了一个星期")
    await wang.wait_for_text("分享位置")
    done = await finish_tip(wang)
    assert "T-0001" in done
    [tip] = await all_tips(bot)
    assert tip.description == "小区门口的路灯坏了一个星期"
    assert len(tip.media) == 1
    assert not tip.by_reporter

    # The same button in English, and pressing it again mid-way starts a fresh draft.
    bob = sim.person("Bob", language_code="en")
    await bob.send_command("/start")
    await bob.next_message()
    await bob.press("📰 Send a tip")
    await bob.wait_for_text("Send photos")
    await bob.send_text("The bridge at the river mouth is flooded")
    await bob.wait_for_text("Share the location")
    await bob.press("📰 Send a tip")
    await bob.wait_for_text("Send photos")
    await bob.send_command("/cancel")
    await sim.settle()
    assert len(await all_tips(bot)) == 1
    assert sim.invalid_requests == []


async def test_an_answer_sent_as_an_album_attaches_every_photo(bot: TongxinApp, sim: BotApiSimulator) -> None:
    li = sim.person("李记者")
    admin = sim.person("管理员", user_id=ADMIN_ID)
    await li.send_command("/tip")
    await li.wait_for_text("请发送现场照片")
    await li.send_text("河口镇桥头积水很深，车辆无法通行")
    await li.wait_for_text("分享位置")
    await finish_tip(li)
    card = await review_tip(admin, "T-0001")
    await admin.press("请补充", message=card)
    await admin.wait_for_text("请输入需要报送人补充的问题")
    await admin.send_text("请拍几张桥面的照片")
    await li.wait_for_text("编辑需要您补充线索 T-0001")
    await li.press("回复")
    await li.wait_for_text("请发送对 T-0001 的补充")
    await li.send_album([bytes([i]) * 40 for i in range(3)], caption="桥面三张")
    await li.wait_for_text("补充已附到 T-0001")
    await sim.settle()
    [tip] = await all_tips(bot)
    assert len(tip.media) == 3  # every photo of the album, not only the first
    # A photo after the album is no part of the answer: said so, nothing attached.
    await li.send_photo(caption="再来一张")
    await li.wait_for_text("补充已经发送过了")
    await sim.settle()
    [tip] = await all_tips(bot)
    assert len(tip.media) == 3
    assert sim.invalid_requests == []
