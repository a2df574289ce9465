"""`/invite volunteer` (coordinators) and `/invite reporter` (editors): mint a team invite deep link."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from actions import invites as invite_actions
from bot.context import TongxinContext
from handlers.common import actor_of
from storage.errors import NotAllowed


async def mint_invite(update: Update, context: TongxinContext) -> None:
    """Create an invite link for the role named in the command's argument."""
    if (message := update.effective_message) is None or context.person is None:
        return
    role = (context.args or [""])[0].lower()
    if role not in invite_actions.MINTERS:
        await message.reply_text(context.t("invite.usage"))
        return
    try:
        invite = await invite_actions.mint_invite(context.env, actor_of(context), role)
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    link = f"https://t.me/{context.bot.username}?start={invite.payload}"
    expires = invite.expires_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M")
    await message.reply_text(
        context.t(
            "invite.created",
            role_name=context.t(f"role.{role}"),
            link=link,
            expires=expires,
            uses=invite.max_uses,
        )
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations here."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """The /invite command."""
    return [CommandHandler("invite", mint_invite)]
