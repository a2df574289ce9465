"""`/invite volunteer` (coordinators) and `/invite reporter` (editors): mint a team invite deep link."""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.context import TongxinContext
from handlers.access import require
from rules.roles import Role
from storage import audit, invites

# Who may mint which invite.
MINTERS = {"volunteer": (Role.COORDINATOR,), "reporter": (Role.EDITOR,)}
INVITE_VALIDITY = dt.timedelta(days=7)
INVITE_USES = 50


async def mint_invite(update: Update, context: TongxinContext) -> None:
    """Create an invite link for the role named in the command's argument."""
    if (message := update.effective_message) is None or context.person is None:
        return
    role = (context.args or [""])[0].lower()
    if role not in MINTERS:
        await message.reply_text(context.t("invite.usage"))
        return
    if not await require(update, context, *MINTERS[role]):
        return
    now = context.now()
    async with context.db.write() as conn:
        invite = await invites.create_invite(
            conn,
            role=role,
            created_by=context.person.id,
            now=now,
            valid_for=INVITE_VALIDITY,
            max_uses=INVITE_USES,
        )
        await audit.record(conn, actor_id=context.person.id, action="invite.create", subject=role, now=now)
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
