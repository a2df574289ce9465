"""/link on Telegram: a one-time code that asks to join the person's WeChat or WeCom account to them
(`actions.links`), and the yes / no the person then answers on the notice, so their roles and history are shared on
both channels only when they say so. The code is sent to the WeChat service account or the WeCom application as
绑定 123456."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from actions import links
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from handlers.common import actor_of, conflict_reply, expect_press, tell
from storage.errors import Conflict, NotAllowed, NotFound


async def link(update: Update, context: TongxinContext) -> None:
    """/link: a code valid for a few minutes, or why there is none."""
    if (message := update.effective_message) is None or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    if not (context.settings.wechat_enabled or context.settings.wecom_enabled):
        await message.reply_text(context.t("link.no_wechat"))
        return
    code = await links.issue(context.env, actor_of(context))
    await message.reply_text(context.t("link.code", code=code, minutes=links.CODE_MINUTES), parse_mode=ParseMode.HTML)


async def decided(update: Update, context: TongxinContext) -> None:
    """是我 / 不是我 on a link request: join the account, or not; the notice then says which, without buttons."""
    if (press := await expect_press(update, context, Act.LINK_YES, Act.LINK_NO)) is None or press.id is None:
        return
    try:
        outcome = await links.decide(context.env, actor_of(context), press.id, join=press.act is Act.LINK_YES)
    except Conflict:
        await tell(update, context, "link.decided_already")
        return
    except (NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    if (query := update.callback_query) is not None:
        await query.answer()
        await query.edit_message_text(context.t(f"link.{outcome}"), parse_mode=ParseMode.HTML)


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/link and the answer to a link request."""
    return [
        CommandHandler("link", link),
        CallbackQueryHandler(decided, pattern=callbacks.prefix_pattern(Act.LINK_YES, Act.LINK_NO)),
    ]
