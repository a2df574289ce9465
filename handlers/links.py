"""/link on Telegram: a one-time code that joins the person's WeChat account to them (`actions.links`), so their
roles and history are shared on both channels. The code is sent to the WeChat service account as 绑定 123456."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler

from actions import links
from bot.context import TongxinContext
from handlers.common import actor_of


async def link(update: Update, context: TongxinContext) -> None:
    """/link: a code valid for a few minutes, or why there is none."""
    if (message := update.effective_message) is None or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    if not context.settings.wechat_enabled:
        await message.reply_text(context.t("link.no_wechat"))
        return
    code = await links.issue(context.env, actor_of(context))
    await message.reply_text(context.t("link.code", code=code, minutes=links.CODE_MINUTES), parse_mode=ParseMode.HTML)


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/link."""
    return [CommandHandler("link", link)]
