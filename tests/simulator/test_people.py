"""Story-style round trips: a PTB ``Application`` polling the simulator while people talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from simulator import BotApiSimulator

from .conftest import TOKEN


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    payload = " ".join(context.args or [])
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="confirm")]])
    await update.effective_message.reply_text(f"<b>欢迎</b> {payload}", parse_mode="HTML", reply_markup=keyboard)


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("好的")
    await query.edit_message_text("已确认 W-0001")
    assert query.message is not None
    await context.bot.send_message(
        query.message.chat.id,
        "请分享位置",
        reply_markup=ReplyKeyboardMarkup([[KeyboardButton("发送位置", request_location=True)], ["跳过"]]),
    )


async def _location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    loc = update.effective_message.location
    assert loc is not None
    await update.effective_message.reply_text(
        f"收到 {loc.latitude:.4f},{loc.longitude:.4f}", reply_markup=ReplyKeyboardRemove()
    )


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    photo = update.effective_message.photo[-1]
    data = await (await photo.get_file()).download_as_bytearray()
    await update.effective_message.reply_text(f"照片 {photo.width}x{photo.height} {len(data)} bytes")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    assert update.effective_message.text is not None
    await update.effective_message.reply_text("echo: " + update.effective_message.text)


@pytest.fixture
async def app(sim: BotApiSimulator) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    # The rate limiter retries after the simulator's 429s (1 msg/s per private chat after a burst of 3),
    # the way the production bot is expected to cope with Telegram's flood limits.
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(sim.api_url)
        .base_file_url(sim.file_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CallbackQueryHandler(_confirm, pattern="^confirm$"))
    application.add_handler(MessageHandler(filters.LOCATION, _location))
    application.add_handler(MessageHandler(filters.PHOTO, _photo))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        yield application
        await application.updater.stop()
        await application.stop()


async def test_conversation_round_trip(app: Application, sim: BotApiSimulator) -> None:  # type: ignore[type-arg]
    alice = sim.person("王阿姨", language_code="zh-hans")
    await alice.send_command("/start", "inv_abc")
    welcome = await alice.next_message()
    assert welcome.text == "欢迎 inv_abc"
    assert welcome.entities == [{"type": "bold", "offset": 0, "length": 2}]
    assert welcome.inline_buttons == [["确认"]]

    await alice.press("确认")
    edited = await alice.wait_for_text("W-0001")
    assert edited.message_id == welcome.message_id
    assert edited.edited
    await alice.wait_for(lambda: alice.callback_answers == ["好的"])
    prompt = await alice.next_message()  # next *new* message: the edit does not count
    assert prompt.text == "请分享位置"
    assert prompt.reply_buttons == [["发送位置"], ["跳过"]]

    await alice.press_reply_button("发送位置")
    assert (await alice.wait_for_text("收到")).text == "收到 31.2304,121.4737"
    # the bot removed the reply keyboard with its answer
    with pytest.raises(AssertionError, match="no reply keyboard button"):
        await alice.press_reply_button("跳过")

    await alice.send_photo()
    assert "照片 64x48" in (await alice.wait_for_text("照片")).text  # type: ignore[operator]

    await sim.settle(quiet=0.1)
    assert sim.invalid_requests == []
    assert sim.pending_updates == []


async def test_group_and_timeout_transcript(app: Application, sim: BotApiSimulator) -> None:  # type: ignore[type-arg]
    alice = sim.person("Alice")
    bob = sim.person("Bob", language_code="en")
    grp = sim.group("志愿者群").add(alice, bob)
    await bob.send_text("hello group", chat=grp)
    await sim.wait_until(lambda: grp.last_message is not None, 5)
    assert grp.last_message is not None
    assert grp.last_message.text == "echo: hello group"
    assert bob.messages == []  # group messages are not in the private chat

    await alice.send_text("ping")
    await alice.wait_for_text("echo: ping")
    with pytest.raises(TimeoutError) as info:
        await alice.wait_for_text("never said", timeout=0.3)
    transcript = str(info.value)
    assert "Alice #1: ping" in transcript
    assert "bot #2: echo: ping" in transcript
    await sim.settle(quiet=0.1)
    assert sim.invalid_requests == []
