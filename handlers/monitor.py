"""Hot topics: /hot for monitors, coordinators and editors, and the daily hot-topic alert ("the centre
blows the whistle") with one tap to turn a spike into a wish draft (coordinators) or a story lead (editors).

The daily alert is `queue_hot_alerts(services, now)`, called by the scheduler's sweep; it is
idempotent (one alert per term per local day, one notice per person per alert), so the sweep may
call it every minute.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from typing import TYPE_CHECKING

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from actions.buttons import Act, Button
from bot.context import TongxinContext
from bot.notify import Notice
from handlers.access import require
from rules import wishes as wish_rules
from rules.hot import hot_report, parse_days
from rules.roles import Role
from rules.staff import STAFF_ACTIONS
from rules.tips import tip_reference
from storage import hot, tips
from storage.errors import Conflict, LimitReached, NotFound

if TYPE_CHECKING:
    from bot.context import BotData

log = logging.getLogger(__name__)

ALERT_PERIOD_DAYS = 7
HOT_LEAD_CATEGORY = "livelihood"
HOT_WISH_CATEGORY = "other"


async def show_hot(update: Update, context: TongxinContext) -> None:
    """/hot [N]: top terms of the last N days (default 7) and the rising ones flagged."""
    if (message := update.effective_message) is None:
        return
    if not await require(update, context, *STAFF_ACTIONS["hot"]):
        return
    days = parse_days(context.args[0] if context.args else None)
    now = context.now()
    async with context.db.read() as conn:
        texts = await hot.texts_since(conn, now - dt.timedelta(days=2 * days))
    report = hot_report(texts, now=now, days=days)
    if not report.top:
        await message.reply_text(context.t("hot.nothing", days=days))
        return
    rising = {r.term: r for r in report.rising}
    lines = [context.t("hot.title", days=days, texts=report.texts)]
    for rank, term in enumerate(report.top, start=1):
        key = "hot.line_rising" if term.term in rising else "hot.line"
        lines.append(context.t(key, rank=rank, term=html.escape(term.term), count=term.count))
    if report.rising:
        lines.append(context.t("hot.rising_title"))
        for item in report.rising:
            lines.append(
                context.t("hot.rising_line", term=html.escape(item.term), current=item.current, previous=item.previous)
            )
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


async def queue_hot_alerts(services: BotData, now: dt.datetime) -> int:
    """Once a day (at the editors' digest time), alert coordinators and editors to spiking terms.

    Returns how many notices were handed to the notifier. Safe to call as often as the sweep runs.
    """
    from scheduler.calendar import is_due, latest_daily

    settings = services.settings
    period = latest_daily("hot", now, settings.editor_digest_time, settings.tz)
    if not is_due(period, now):
        return 0
    day = period.local_date.isoformat()
    async with services.db.read() as conn:
        texts = await hot.texts_since(conn, now - dt.timedelta(days=2 * ALERT_PERIOD_DAYS))
    report = hot_report(texts, now=now, days=ALERT_PERIOD_DAYS)
    if not report.rising:
        return 0
    spike = report.rising[0]
    async with services.db.write() as conn:
        alert = await hot.record_alert(
            conn, day=day, term=spike.term, current=spike.current, previous=spike.previous, now=now
        )
        if alert is None:
            return 0
        recipients = await hot.alert_recipients(
            conn, (Role.COORDINATOR.value, Role.EDITOR.value), admin_ids=settings.admin_ids
        )
    sent = 0
    for user_id, roles in sorted(recipients.items()):
        buttons: list[Button] = []
        if Role.COORDINATOR.value in roles:
            buttons.append(Button("hot.to_wish_button", Act.HOT_WISH, alert.id))
        if Role.EDITOR.value in roles:
            buttons.append(Button("hot.to_lead_button", Act.HOT_LEAD, alert.id))
        notice = Notice(
            "hot.alert",
            {"term": alert.term, "current": alert.current_count, "previous": alert.previous_count},
            tuple((button,) for button in buttons),
        )
        await services.notifier.notify(user_id, notice, lane="normal", dedupe_key=f"hot:{day}:{alert.id}:{user_id}")
        sent += 1
    log.info("hot-topic alert %r sent to %d staff", alert.term, sent)
    return sent


async def turn_alert_into_work(update: Update, context: TongxinContext) -> None:
    """The alert's button: a wish draft for coordinators to review, or a story lead in the editors' queue."""
    query = update.callback_query
    if query is None or query.data is None or context.person is None:
        return
    _, kind, raw_id = [*query.data.split(":"), "", ""][:3]
    action = "hot_to_wish" if kind == "wish" else "hot_to_lead"
    if not await require(update, context, *STAFF_ACTIONS[action]) or not raw_id.isdigit():
        return
    now = context.now()
    try:
        async with context.db.write() as conn:
            alert = await hot.get_alert(conn, int(raw_id))
            made = alert.wish_id if kind == "wish" else alert.tip_id
            if made is not None:
                reply = context.t("hot.already_made")
            elif kind == "wish":
                description = context.t("hot.wish_draft_text", term=alert.term, count=alert.current_count)
                wish = await wish_rules.submit_wish(
                    conn,
                    wish_rules.WishDraft(category=HOT_WISH_CATEGORY, description=description),
                    resident_id=context.person.id,
                    now=now,
                    review=True,
                    daily_limit=context.settings.wishes_per_day,
                )
                if not await hot.link_alert(conn, alert.id, wish_id=wish.id):
                    raise Conflict("made by someone else meanwhile")  # rolls the draft back
                reply = context.t("hot.wish_drafted", ref=wish_rules.wish_ref(wish.ref_no), term=alert.term)
            else:
                description = context.t("hot.lead_text", term=alert.term, count=alert.current_count)
                tip = await tips.create_tip(
                    conn,
                    reporter_id=context.person.id,
                    by_reporter=False,
                    category=HOT_LEAD_CATEGORY,
                    description=description,
                    location=None,
                    media=[],
                    now=now,
                )
                if not await hot.link_alert(conn, alert.id, tip_id=tip.id):
                    raise Conflict("made by someone else meanwhile")
                reply = context.t("hot.lead_created", ref=tip_reference(tip.id), term=alert.term)
    except NotFound:
        await query.answer(context.t("hot.alert_gone"), show_alert=True)
        return
    except Conflict:
        reply = context.t("hot.already_made")
    except LimitReached:
        await query.answer(context.t("limits.wishes_per_day", limit=context.settings.wishes_per_day), show_alert=True)
        return
    await query.answer()
    if query.message is not None:
        await context.bot.send_message(query.message.chat.id, html.escape(reply))


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations: /hot answers at once."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/hot and the alert's buttons."""
    return [
        CommandHandler("hot", show_hot),
        CallbackQueryHandler(turn_alert_into_work, pattern=r"^hot:(wish|lead):"),
    ]
