"""The coordinator's whistle in Telegram: `/whistle W-0042` (`/whistle W-0042 城管 urgent` also sends the wish to a
department as a case, like `/case`), and the one-tap 📣 button of the scheduler's
"open and unclaimed" notice (`Act.WHISTLE`).

The handler parses, calls `actions.whistles.whistle` (which records the whistle and queues the urgent
notices, with the volunteers' own claim buttons: there is one claim path) and answers the coordinator
with the running summary ("called N volunteers"), whose message id it hands back to
`actions.whistles.remember_summary`. When the wish is claimed, the claim action edits that summary
through the outbox and tells the coordinator.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from actions import whistles
from actions.buttons import Act
from channels import wish_cards
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from handlers import departments
from handlers.access import require
from handlers.common import actor_of
from rules.staff import STAFF_ACTIONS
from rules.whistles import WhistleError, parse_whistle_args
from rules.wishes import wish_ref
from storage.errors import NotAllowed, NotFound


def summary_text(context: TongxinContext, outcome: whistles.Whistled) -> str:
    """The coordinator's summary as the whistle is blown: how many were called, waiting for a claim."""
    wish = outcome.wish
    text = context.t(
        "whistle.summary",
        ref=wish_ref(wish.ref_no),
        category=context.t(f"category.{wish.category}"),
        area=wish_cards.area_of(context.t, wish),
        count=outcome.whistle.sent_count,
    )
    return text + "\n" + context.t("whistle.summary_waiting")


async def tell(update: Update, context: TongxinContext, text: str) -> None:
    """Answer the coordinator: an alert on the button, or a reply to the command."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def error_text(context: TongxinContext, error: WhistleError) -> str:
    """The refusal in the coordinator's language (values named `*_key` are message keys)."""
    values = {
        name.removesuffix("_key"): context.plain(str(value)) if name.endswith("_key") else value
        for name, value in error.values.items()
    }
    return context.plain(error.reason, **values)


async def whistle_command(update: Update, context: TongxinContext) -> None:
    """/whistle W-0042: call the matching volunteers to an open wish at once."""
    if (message := update.effective_message) is None:
        return
    if not await require(update, context, *STAFF_ACTIONS["whistle"]):
        return
    try:
        ref_no = parse_whistle_args(context.args or [])
    except WhistleError as error:
        await message.reply_text(error_text(context, error))
        return
    await blow(update, context, ref_no=ref_no)
    if len(context.args or []) > 1:  # `/whistle W-0042 城管 urgent`: the department is called too (issue 15)
        await departments.send_case(update, context)


async def whistle_pressed(update: Update, context: TongxinContext) -> None:
    """📣 on the scheduler's "open and unclaimed" notice: the same as /whistle."""
    query = update.callback_query
    if query is None or not await require(update, context, *STAFF_ACTIONS["whistle"]):
        return
    press = callbacks.decode(query.data)
    if press is None or press.act is not Act.WHISTLE:
        await query.answer(context.plain("task.stale_button"), show_alert=True)
        return
    await blow(update, context, wish_id=press.id)


async def blow(
    update: Update, context: TongxinContext, *, wish_id: int | None = None, ref_no: int | None = None
) -> None:
    """Blow the whistle, then show the coordinator the summary and remember it for the claim's edit."""
    if (chat := update.effective_chat) is None:
        return
    try:
        outcome = await whistles.whistle(context.env, actor_of(context), wish_id, ref_no=ref_no)
    except WhistleError as error:
        await tell(update, context, error_text(context, error))
        return
    except NotFound:
        ref = wish_ref(ref_no) if ref_no is not None else f"#{wish_id}"
        await tell(update, context, context.plain("whistle.unknown", ref=ref))
        return
    except NotAllowed:
        await tell(update, context, context.plain("error.not_allowed"))
        return
    if update.callback_query is not None:
        await update.callback_query.answer(context.plain("whistle.sent_short", count=outcome.whistle.sent_count))
    summary = await context.bot.send_message(chat.id, summary_text(context, outcome), parse_mode=ParseMode.HTML)
    await whistles.remember_summary(context.env, outcome.whistle.id, summary.message_id)


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/whistle and the 📣 button (a malformed one is answered, not ignored)."""
    return [
        CommandHandler("whistle", whistle_command),
        CallbackQueryHandler(whistle_pressed, pattern=callbacks.prefix_pattern(Act.WHISTLE)),
    ]
