"""The coordinator's whistle: `/whistle W-0042`, and the one-tap 📣 button of the scheduler's "open and
unclaimed" notice (`whistle:<wish id>`).

The matching volunteers get an urgent notice carrying the volunteers' own claim buttons
(`task:claim:<id>:<when>`, handled by `handlers.volunteers.claim_pressed`: there is one claim path).
The coordinator gets one summary message ("called N volunteers"); when the wish is claimed — from
the whistle or from /tasks — the claim handler calls `note_claim`, which edits that summary to say
who took it after how long and sends the coordinator a short notice.
"""

from __future__ import annotations

import contextlib
import functools
import html
import re

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from actions.buttons import Act, Button
from bot.context import TongxinContext
from bot.notify import Notice
from handlers import wish_cards
from handlers.access import require
from rules.staff import STAFF_ACTIONS
from rules.whistles import WhistleError, blow_whistle, parse_whistle_args
from rules.wishes import wish_ref
from storage import people, users, whistles
from storage import wishes as store
from storage.errors import NotFound
from storage.whistles import Whistle
from storage.wishes import Wish

# The volunteers' claim buttons (same callback data as /tasks, see handlers/volunteers.py).
CLAIM_CHOICES = ("today", "tomorrow", "week")
DESCRIPTION_SHOWN = 200


def summary_text(t: wish_cards.Translate, whistle: Whistle, wish: Wish, claimer: str | None = None) -> str:
    """The coordinator's running summary: how many were called, then who claimed after how long."""
    text = t(
        "whistle.summary",
        ref=wish_ref(wish.ref_no),
        category=t(f"category.{wish.category}"),
        area=wish_cards.area_of(t, wish),
        count=whistle.sent_count,
    )
    if whistle.claimed_at is None:
        return text + "\n" + t("whistle.summary_waiting")
    after = wish_cards.waited(t, whistle.created_at, whistle.claimed_at)
    return text + "\n" + t("whistle.summary_claimed", name=html.escape(claimer or "—"), after=after)


async def tell(update: Update, context: TongxinContext, text: str) -> None:
    """Answer the coordinator: an alert on the button, or a reply to the command."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def error_text(context: TongxinContext, error: WhistleError) -> str:
    """The refusal in the coordinator's language (values named `*_key` are message keys)."""
    values = {
        name.removesuffix("_key"): context.t(str(value)) if name.endswith("_key") else value
        for name, value in error.values.items()
    }
    return context.t(error.reason, **values)


async def whistle_command(update: Update, context: TongxinContext) -> None:
    """/whistle W-0042: call the matching volunteers to an open wish at once."""
    if (message := update.effective_message) is None:
        return
    if not await require(update, context, *STAFF_ACTIONS["whistle"]):
        return
    try:
        ref_no = parse_whistle_args(context.args or [])
        async with context.db.read() as conn:
            wish = await store.get_wish_by_ref(conn, ref_no)
    except WhistleError as error:
        await message.reply_text(error_text(context, error))
        return
    except NotFound:
        await message.reply_text(context.t("whistle.unknown", ref=wish_ref(ref_no)))
        return
    await dispatch(update, context, wish.id)


async def whistle_pressed(update: Update, context: TongxinContext) -> None:
    """📣 on the scheduler's "open and unclaimed" notice (`whistle:<wish id>`): the same as /whistle."""
    query = update.callback_query
    if query is None or not await require(update, context, *STAFF_ACTIONS["whistle"]):
        return
    match = re.fullmatch(r"whistle:(\d{1,9})", query.data or "")
    if match is None:
        await query.answer()
        return
    await dispatch(update, context, int(match.group(1)))


async def dispatch(update: Update, context: TongxinContext, wish_id: int) -> None:
    """Record the whistle, show the coordinator the summary, then queue the urgent notices."""
    assert context.person is not None
    now = context.now()
    try:
        async with context.db.write() as conn:
            sent = await blow_whistle(
                conn,
                wish_id,
                coordinator_id=context.person.id,
                now=now,
                radius_km=context.settings.whistle_radius_km,
            )
            whistle = await whistles.get_whistle(conn, sent.whistle_id)
    except WhistleError as error:
        await tell(update, context, error_text(context, error))
        return
    except NotFound:
        await tell(update, context, context.t("whistle.unknown", ref=f"#{wish_id}"))
        return
    assert whistle is not None
    wish = sent.wish
    if update.callback_query is not None:
        await update.callback_query.answer(context.t("whistle.sent_short", count=whistle.sent_count))
    # The summary goes out before the notices, so a claim a second later finds a message to edit.
    summary = await context.bot.send_message(
        context.chat_id, summary_text(context.t, whistle, wish), parse_mode=ParseMode.HTML
    )
    async with context.db.write() as conn:
        await whistles.set_summary_message(conn, whistle.id, summary.message_id)
    notice = Notice(
        "whistle.notice",
        {
            "ref": wish_ref(wish.ref_no),
            "category_key": f"category.{wish.category}",
            "area": wish.area or "—",
            "description": wish.description[:DESCRIPTION_SHOWN],
        },
        (tuple(Button(f"task.button.claim_{when}", Act.TASK_CLAIM, wish.id, when) for when in CLAIM_CHOICES),),
    )
    for volunteer in sent.recipients:
        await context.notifier.notify(
            volunteer.user_id, notice, lane="urgent", dedupe_key=f"whistle:{whistle.id}:{volunteer.user_id}"
        )


async def note_claim(context: TongxinContext, wish: Wish) -> None:
    """A wish was just claimed (by the person being answered): close its unanswered whistles, edit each
    coordinator's summary to say who took it after how long, and tell the coordinator."""
    if wish.claimed_by is None or context.person is None:
        return
    claimed_at = wish.claimed_at or context.now()
    async with context.db.write() as conn:
        closed = await whistles.mark_claimed(conn, wish.id, claimed_by=wish.claimed_by, now=claimed_at)
        languages: dict[int, str] = {}
        chats = {w.coordinator_id: await people.telegram_id_of(conn, w.coordinator_id) for w in closed}
        for whistle in closed:
            try:
                languages[whistle.coordinator_id] = (await users.get_user(conn, whistle.coordinator_id)).language
            except NotFound:
                languages[whistle.coordinator_id] = context.settings.default_language
    name = context.person.first_name or context.person.display_name
    for whistle in closed:
        t = functools.partial(context.bot_data.catalogues.text, languages[whistle.coordinator_id])
        if whistle.summary_message_id is not None and chats[whistle.coordinator_id] is not None:
            with contextlib.suppress(TelegramError):  # the summary may be gone; the notice below still says it
                await context.bot.edit_message_text(
                    summary_text(t, whistle, wish, name),
                    chat_id=chats[whistle.coordinator_id],
                    message_id=whistle.summary_message_id,
                    parse_mode=ParseMode.HTML,
                )
        await context.notifier.notify(
            whistle.coordinator_id,
            Notice(
                "whistle.notice_claimed",
                {
                    "ref": wish_ref(wish.ref_no),
                    "name": name,
                    "after": wish_cards.waited(t, whistle.created_at, claimed_at),
                },
            ),
            lane="normal",
            dedupe_key=f"whistle-claimed:{whistle.id}",
        )


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/whistle and the 📣 button."""
    return [
        CommandHandler("whistle", whistle_command),
        CallbackQueryHandler(whistle_pressed, pattern=r"^whistle:"),
    ]
