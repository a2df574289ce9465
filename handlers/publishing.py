"""Publishing an accepted tip to the district's Telegram channel (CHANNEL_ID) from /review (issue 15).

📢 on an accepted tip's card posts its photos and videos to the channel as ONE album whose first item carries the
caption (the tip's text and category; a text post when it has no media), then records the tip as published with
the post's link (`actions.tips.publish`: status, event, audit, the reporter's notice, in one transaction); the card
shows the link from then on. The post goes straight to Telegram, not through the outbox: the outbox delivers to
people, and the editor is waiting for the link. If recording fails after the post went out, the editor is told and
can mark it published with the link by hand.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from actions import tips as tip_actions
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from channels.telegram.media import send_visuals
from handlers import editors
from handlers.common import actor_of, expect_press, tell
from rules.tips import TipAction, TipStatus, category_key, tip_reference
from storage import tips
from storage.errors import Conflict, NotAllowed, NotFound

CAPTION_MAX = 1024  # Telegram's caption limit
ALBUM_MAX = 10


def post_link(channel_id: str, message: Message) -> str:
    """The public address of a channel post: t.me/<name>/<id>, or t.me/c/<internal id>/<id> for a private one."""
    username = message.chat.username or (channel_id[1:] if channel_id.startswith("@") else None)
    if username:
        return f"https://t.me/{username}/{message.message_id}"
    return f"https://t.me/c/{str(message.chat.id).removeprefix('-100')}/{message.message_id}"


def caption_of(context: TongxinContext, tip: tips.Tip) -> str:
    """The post's caption, in the deployment's language, within Telegram's limit."""
    language = context.settings.default_language
    catalogues = context.bot_data.catalogues
    category = catalogues.text(language, category_key(tip.category))
    text = catalogues.text(language, "publish.caption", description=tip.description, category=category)
    return text if len(text) <= CAPTION_MAX else text[: CAPTION_MAX - 1] + "…"


async def post(context: TongxinContext, tip: tips.Tip) -> Message:
    """Post the tip to the channel as one message or one album; the first message of the post."""
    channel = context.settings.channel_id
    caption = caption_of(context, tip)
    visual = [m for m in tip.media if m.kind in ("photo", "video")][:ALBUM_MAX]
    if not visual:
        return await context.bot.send_message(channel, caption)
    sent = await send_visuals(context.bot, context.db, context.settings.media_dir, channel, visual, caption=caption)
    return sent[0] if sent else await context.bot.send_message(channel, caption)


async def publish_pressed(update: Update, context: TongxinContext) -> None:
    """📢: post the accepted tip to the channel and record the link."""
    if (press := await expect_press(update, context, Act.TIP_TO_CHANNEL)) is None:
        return
    if not context.settings.channel_id:
        await tell(update, context, "publish.no_channel")
        return
    actor = actor_of(context)
    try:
        tip = await tip_actions.check_decision(context.env, actor, press.id, TipAction.PUBLISH, seen=TipStatus.ACCEPTED)
    except NotAllowed:
        await tell(update, context, "error.not_allowed")
        return
    except (NotFound, Conflict):
        await tell(update, context, "publish.not_accepted")
        return
    if (query := update.callback_query) is not None:
        await query.answer(context.plain("publish.posting"))
    try:
        first = await post(context, tip)
    except TelegramError as error:
        await context.bot.send_message(context.chat_id, context.t("publish.failed", error=str(error)[:200]))
        return
    link = post_link(context.settings.channel_id, first)
    try:
        published = await tip_actions.publish(context.env, actor, tip.id, link, seen=TipStatus.ACCEPTED)
    except (Conflict, NotAllowed, NotFound):
        await context.bot.send_message(context.chat_id, context.t("publish.posted_unrecorded", link=link))
        return
    if query is not None and isinstance(query.message, Message):
        # The card now says published, with the link (the same card /review shows).
        await query.message.edit_text(
            await editors.render_card(context, published),
            parse_mode=ParseMode.HTML,
            reply_markup=editors.card_buttons(context, published),
            disable_web_page_preview=True,
        )
    await context.bot.send_message(
        context.chat_id, context.t("publish.done", reference=tip_reference(tip.id), link=link)
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations here."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """The 📢 button (a malformed one is answered, not ignored)."""
    return [CallbackQueryHandler(publish_pressed, pattern=callbacks.prefix_pattern(Act.TIP_TO_CHANNEL))]
