"""The simulator driven by a real python-telegram-bot ``Bot`` over HTTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
)
from telegram.error import BadRequest, Forbidden, RetryAfter

from core.clock import Timer
from simulator import BotApiSimulator, FloodLimits
from simulator.state import sample_png

from .conftest import TOKEN, SimFactory


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def test_get_me(bot: Bot, sim: BotApiSimulator) -> None:
    me = await bot.get_me()
    assert me.username == "tongxin_bot"
    assert me.is_bot
    assert sim.records[0].method == "getMe"


async def test_long_poll_delivers_and_offset_confirms(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨", language_code="zh-hans")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()  # held by the long poll
    await alice.send_text("你好")
    updates = await asyncio.wait_for(poll, 3)
    assert len(updates) == 1
    msg = updates[0].message
    assert msg is not None
    assert msg.text == "你好"
    assert msg.from_user is not None
    assert msg.from_user.language_code == "zh-hans"
    assert sim.pending_updates  # delivered but not confirmed yet
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    assert sim.pending_updates == []
    await sim.settle(quiet=0.05)


async def test_send_message_html_appears_in_chat(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    sent = await bot.send_message(alice.chat_id, "<b>你好</b> &lt;ok&gt;", parse_mode="HTML")
    assert sent.text == "你好 <ok>"
    last = alice.last_message
    assert last is not None
    assert last.text == "你好 <ok>"
    assert last.kind == "text"
    assert last.entities == [{"type": "bold", "offset": 0, "length": 2}]
    assert sim.sent_to(alice.chat_id) == [last]
    assert (await alice.next_message()).message_id == sent.message_id


async def test_text_limits_and_bad_html(bot: Bot, make_sim: SimFactory) -> None:
    sim = await make_sim(flood_limits=FloodLimits(enabled=False))
    alice = sim.person("Alice")
    async with Bot(TOKEN, base_url=sim.api_url, base_file_url=sim.file_url) as b:
        await b.send_message(alice.chat_id, "字" * 4096)
        with pytest.raises(BadRequest, match=r"(?i)too long"):
            await b.send_message(alice.chat_id, "字" * 4097)
        # 4096 after entity parsing: markup does not count
        await b.send_message(alice.chat_id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await b.send_message(alice.chat_id, "1 < 2", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)text is empty"):
            await b.send_message(alice.chat_id, "<b> </b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await b.send_message(999, "hi")
    assert len(alice.messages) == 2
    assert len(sim.invalid_requests) == 4


async def test_unknown_method_is_bad_request_not_invalid_token(bot: Bot, sim: BotApiSimulator) -> None:
    with pytest.raises(BadRequest, match=r"(?i)fooBar"):
        await bot.do_api_request("fooBar", api_kwargs={"x": 1})
    # in the spec but not implemented by the simulator
    with pytest.raises(BadRequest, match=r"(?i)not supported by the simulator"):
        await bot.do_api_request(
            "answerChatJoinRequestQuery", api_kwargs={"chat_join_request_query_id": "q", "result": "x"}
        )
    assert [r.category for r in sim.invalid_requests] == ["spec", "unsupported"]


async def test_unknown_and_missing_parameters_are_recorded(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter 'foo' for method sendMessage"):
        await bot.send_message(alice.chat_id, "hi", api_kwargs={"foo": "bar"})
    # raw HTTP: PTB itself never omits a required argument; JSON bodies are accepted too
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sim.api_url}{TOKEN}/sendMessage", json={"chat_id": alice.chat_id}) as resp:
            body = await resp.json()
            assert resp.status == 400
        assert body == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: parameter 'text' is required",
        }
        async with http.post(f"{sim.api_url}{TOKEN}/sendMessage", json={"chat_id": alice.chat_id, "text": "j"}) as r:
            assert (await r.json())["result"]["text"] == "j"
        async with http.post(f"{sim.api_url}wrong:token/getMe") as r:
            assert r.status == 401
    assert [r.description for r in sim.invalid_requests] == [
        "Bad Request: unknown parameter 'foo' for method sendMessage",
        "Bad Request: parameter 'text' is required",
    ]
    assert sim.invalid_requests[1].params == {"chat_id": alice.chat_id}
    assert [m.text for m in alice.messages] == ["j"]


async def test_inline_keyboard_rules(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(alice.chat_id, "hi", reply_markup=too_long)
    two_actions = {"inline_keyboard": [[{"text": "x", "callback_data": "a", "url": "https://a.b"}]]}
    with pytest.raises(BadRequest, match=r"(?i)exactly one"):
        await bot.send_message(alice.chat_id, "hi", api_kwargs={"reply_markup": two_actions})
    # 64 bytes of UTF-8 is fine (21 Chinese chars = 63 bytes)
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="确" * 21)]])
    await bot.send_message(alice.chat_id, "hi", reply_markup=ok)
    assert alice.messages[-1].inline_buttons == [["确认"]]
    assert len(sim.invalid_requests) == 2


async def test_press_produces_callback_query(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("王阿姨")
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("确认", callback_data="ok:1"),
                InlineKeyboardButton("取消", callback_data="no:1"),
            ]
        ]
    )
    sent = await bot.send_message(alice.chat_id, "确认报名？", reply_markup=markup)
    with pytest.raises(AssertionError, match=r"(?i)visible buttons:\n.*确认"):
        await alice.press("不存在")
    query_id = await alice.press("确认")
    updates = await bot.get_updates(timeout=1)
    cq = updates[-1].callback_query
    assert cq is not None
    assert cq.id == query_id
    assert cq.data == "ok:1"
    assert cq.message is not None
    assert cq.message.message_id == sent.message_id
    await bot.answer_callback_query(cq.id, text="已确认")
    assert alice.callback_answers == ["已确认"]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(cq.id)
    # editing: the person sees the new state; identical edit is rejected like Telegram does
    await bot.edit_message_text("已报名 ✅", chat_id=alice.chat_id, message_id=sent.message_id)
    found = await alice.wait_for_text("已报名")
    assert found.edited
    assert found.inline_buttons == []  # editing without reply_markup drops the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("已报名 ✅", chat_id=alice.chat_id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.chat_id, message_id=999)
    assert await bot.delete_message(alice.chat_id, sent.message_id)
    assert alice.messages == []


async def test_albums_share_media_group_id(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    sent = await alice.send_album([sample_png(), sample_png(color=(0, 0, 255))], caption="现场照片")
    updates = await bot.get_updates(timeout=1)
    assert len(updates) == 2
    groups = {u.message.media_group_id for u in updates if u.message}
    assert len(groups) == 1
    assert updates[0].message is not None
    assert updates[0].message.caption == "现场照片"
    assert sent[1].get("caption") is None
    # the bot forwards them as an album: one by file_id, one fresh upload
    file_id = updates[0].message.photo[-1].file_id
    msgs = await bot.send_media_group(
        alice.chat_id, [InputMediaPhoto(file_id, caption="转发"), InputMediaPhoto(sample_png(8, 8))]
    )
    assert len({m.media_group_id for m in msgs}) == 1
    assert [m.kind for m in alice.messages] == ["photo", "photo"]
    assert alice.messages[1].photo_bytes == sample_png(8, 8)
    assert alice.messages[0].text == "转发"
    assert sim.invalid_requests == []


async def test_photo_upload_and_download_round_trip(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    png = sample_png(30, 20)
    msg = await bot.send_photo(alice.chat_id, png, caption="<i>chart</i>", parse_mode="HTML")
    assert (msg.photo[-1].width, msg.photo[-1].height) == (30, 20)
    seen = alice.last_message
    assert seen is not None
    assert seen.kind == "photo"
    assert seen.photo_bytes == png
    assert seen.text == "chart"
    f = await bot.get_file(msg.photo[-1].file_id)
    assert bytes(await f.download_as_bytearray()) == png
    doc = await bot.send_document(alice.chat_id, b"a,b\n1,2\n", filename="report.csv")
    assert doc.document is not None
    assert doc.document.file_name == "report.csv"
    assert alice.messages[-1].document_bytes == b"a,b\n1,2\n"
    assert alice.messages[-1].document_name == "report.csv"
    # a person's document can be fetched by the bot
    await alice.send_document(b"%PDF-1.4", filename="a.pdf")
    (update,) = await bot.get_updates(timeout=1)
    assert update.message is not None
    assert update.message.document is not None
    pdf = await bot.get_file(update.message.document.file_id)
    assert bytes(await pdf.download_as_bytearray()) == b"%PDF-1.4"


async def test_oversize_get_file(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    await alice.send_video(caption="big", declared_size=25 * 1024 * 1024)
    (update,) = await bot.get_updates(timeout=1)
    assert update.message is not None
    assert update.message.video is not None
    assert update.message.video.file_size == 25 * 1024 * 1024
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(update.message.video.file_id)


async def test_flood_global_limit(bot: Bot, sim: BotApiSimulator) -> None:
    # The limiter's clock stands still, so the outcome does not depend on how fast this machine sends:
    # a burst of 30 passes and the other 10 of 40 are refused.
    sim.flood.clock = lambda: 1_000.0
    people = [sim.person(f"P{i}") for i in range(40)]
    results = await asyncio.gather(*(bot.send_message(p.chat_id, "通知") for p in people), return_exceptions=True)
    limited = [r for r in results if isinstance(r, RetryAfter)]
    assert len(limited) == 10
    assert all(_seconds(r.retry_after) >= 1 for r in limited)
    assert sim.flood_429_count == len(limited)
    assert sum(1 for r in sim.records if r.error_code == 429) == len(limited)
    assert sim.invalid_requests == []


async def test_flood_private_chat_burst(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    outcomes: list[str] = []
    waits: list[float] = []
    for i in range(5):
        try:
            await bot.send_message(alice.chat_id, f"m{i}")
            outcomes.append("ok")
        except RetryAfter as exc:
            waits.append(_seconds(exc.retry_after))
            outcomes.append("429")
    assert all(w >= 1 for w in waits)
    assert outcomes == ["ok", "ok", "ok", "429", "429"]
    assert sim.flood_429_count == 2


async def test_a_send_before_a_429s_retry_after_is_recorded_as_early(make_sim: SimFactory, timer: Timer) -> None:
    sim = await make_sim(flood_limits=FloodLimits(shape="window"), timer=timer)
    alice = sim.person("Alice")
    async with Bot(TOKEN, base_url=sim.api_url, base_file_url=sim.file_url) as bot:
        for i in range(3):
            await bot.send_message(alice.chat_id, f"m{i}")
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(alice.chat_id, "m3")
        assert _seconds(refused.value.retry_after) == 3
        await timer.sleep(2.5)  # too soon: refused again, and noted as a request Telegram said not to make yet
        with pytest.raises(RetryAfter):
            await bot.send_message(alice.chat_id, "m4")
        await timer.sleep(1.1)
        await bot.send_message(alice.chat_id, "m5")
    assert [(r.method, r.params.get("text")) for r in sim.early_requests] == [("sendMessage", "m4")]


async def test_stalled_writes_are_refused_with_429_until_resumed(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    first = await bot.send_message(alice.chat_id, "before")
    sim.stall_writes(retry_after=42)
    for attempt in (
        bot.send_message(alice.chat_id, "during"),
        bot.edit_message_text("edited", chat_id=alice.chat_id, message_id=first.message_id),
        bot.delete_message(alice.chat_id, first.message_id),
    ):
        with pytest.raises(RetryAfter) as refused:
            await attempt
        assert _seconds(refused.value.retry_after) == 42
    await bot.send_chat_action(alice.chat_id, "typing")  # not a write: still answered
    assert [m.text for m in sim.sent_to(alice.user_id)] == ["before"]
    assert sim.stalled_count == 3

    sim.resume_writes()
    await bot.send_message(alice.chat_id, "after")
    assert [m.text for m in sim.sent_to(alice.user_id)] == ["before", "after"]
    assert sim.invalid_requests == []


async def test_blocked_user_is_forbidden(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    sim.block(alice.user_id)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(alice.chat_id, "hi")
    sim.unblock(alice.user_id)
    await bot.send_message(alice.chat_id, "hi")
    assert [r.error_code for r in sim.records if r.method == "sendMessage"] == [403, None]


async def test_commands_per_scope_and_language(bot: Bot, sim: BotApiSimulator) -> None:
    await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("help", "帮助")], language_code="zh")
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands([BotCommand("report", "Report")], scope=BotCommandScopeAllGroupChats())
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(42))
    assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["start", "help"]
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(42))] == ["admin"]
    assert sim.commands({"type": "all_group_chats"}) == [{"command": "report", "description": "Report"}]
    assert sim.commands(language_code="zh")[1] == {"command": "help", "description": "帮助"}
    await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_webhook_and_misc_methods(bot: Bot, sim: BotApiSimulator) -> None:
    alice = sim.person("Alice")
    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.send_chat_action(alice.chat_id, "typing")
    loc = await bot.send_location(alice.chat_id, 31.23, 121.47)
    assert loc.location is not None
    assert alice.messages[-1].location == (31.23, 121.47)
    assert sim.invalid_requests == []
