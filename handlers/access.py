"""Permission checks shared by every handler: the roles come from the database on each update, never
from the button that was pressed."""

from __future__ import annotations

from telegram import Update

from channels.telegram.context import TongxinContext
from rules.roles import Role


async def require(update: Update, context: TongxinContext, *roles: Role) -> bool:
    """True when the person holds one of `roles`; otherwise tell them (alert or reply) and return False."""
    if context.has_role(*roles):
        return True
    text = context.t("error.not_allowed")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
    return False
