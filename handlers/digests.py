"""/digest: a volunteer, coordinator or editor turns their own digest off and on."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import TongxinContext
from handlers.access import require
from rules.roles import Role
from storage import digests


async def toggle_digest(update: Update, context: TongxinContext) -> None:
    """Switch the person's digest and say which way it is now."""
    if (message := update.effective_message) is None or context.person is None:
        return
    if not await require(update, context, Role.VOLUNTEER, Role.COORDINATOR, Role.EDITOR):
        return
    async with context.db.write() as conn:
        enabled = await digests.toggle_digest(conn, context.person.id)
    await message.reply_text(context.t("digest.now_on" if enabled else "digest.now_off"))


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """The /digest command."""
    return [CommandHandler("digest", toggle_digest)]
