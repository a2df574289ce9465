"""/digest: a volunteer, coordinator or editor turns their own digest off and on."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from actions import digests
from channels.telegram.context import TongxinContext
from rules.wishes import Actor
from storage.errors import NotAllowed


async def toggle_digest(update: Update, context: TongxinContext) -> None:
    """Switch the person's digest and say which way it is now."""
    if (message := update.effective_message) is None or context.person is None:
        return
    try:
        enabled = await digests.toggle(context.env, Actor(context.person.id, context.roles))
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    await message.reply_text(context.t("digest.now_on" if enabled else "digest.now_off"))


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """The /digest command."""
    return [CommandHandler("digest", toggle_digest)]
