"""Hot topics for staff: /hot shows the topics people write about, the fastest-rising first, and the buttons of
the daily hot-topic alert turn a spike into a wish draft (coordinators) or a story lead (editors).

The alert itself is written by the sweep (`actions.hot.alert_spike`); here only the Telegram side:
parse, call the action, render its outcome.
"""

from __future__ import annotations

import html

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from actions import hot
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from handlers.common import actor_of
from rules.hot import BASELINE_PERIODS, MIN_TOPIC_TEXTS, Topic, parse_days
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound
from storage.hot import HotAlert


async def show_hot(update: Update, context: TongxinContext) -> None:
    """/hot [N]: the topics of the last N days (default 7), the fastest-rising against their baseline first."""
    if (message := update.effective_message) is None:
        return
    days = parse_days(context.args[0] if context.args else None)
    try:
        topics = await hot.shown_topics(context.env, actor_of(context), days)
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    if not topics:
        await message.reply_text(context.t("hot.nothing", days=days, least=MIN_TOPIC_TEXTS))
        return
    lines = [context.t("hot.topics_title", days=days, baseline=BASELINE_PERIODS * days)]
    for rank, topic in enumerate(topics, start=1):
        lines.append(render_topic(context, rank, topic))
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


def render_topic(context: TongxinContext, rank: int, topic: Topic) -> str:
    """One topic of /hot: its leading terms, count, rise and areas, then its first example."""
    line = context.t(
        "hot.topic_line_rising" if topic.rising else "hot.topic_line",
        rank=rank,
        terms=html.escape("、".join(topic.terms)),
        count=topic.count,
        rise=f"{topic.rise:g}",
        areas=html.escape("、".join(topic.areas)) if topic.areas else context.t("hot.no_area"),
    )
    if topic.examples:
        line += "\n" + context.t("hot.topic_example", example=html.escape(topic.examples[0]))
    return line


async def turn_alert_into_work(update: Update, context: TongxinContext) -> None:
    """The alert's button: a wish draft for coordinators to review, or a story lead in the editors' queue."""
    if (query := update.callback_query) is None:
        return
    press = callbacks.decode(query.data)
    if press is None or press.act not in (Act.HOT_WISH, Act.HOT_LEAD):
        await query.answer(context.plain("hot.alert_gone"), show_alert=True)
        return
    to_wish = press.act is Act.HOT_WISH

    def describe(alert: HotAlert) -> str:
        key = "hot.wish_draft_text" if to_wish else "hot.lead_text"
        return context.plain(key, term=alert.term, count=alert.current_count)

    try:
        if to_wish:
            made = await hot.to_wish(context.env, actor_of(context), press.id, describe)
        else:
            made = await hot.to_lead(context.env, actor_of(context), press.id, describe)
    except NotAllowed:
        await query.answer(context.plain("error.not_allowed"), show_alert=True)
        return
    except NotFound:
        await query.answer(context.plain("hot.alert_gone"), show_alert=True)
        return
    except LimitReached:
        await query.answer(
            context.plain("limits.wishes_per_day", limit=context.settings.wishes_per_day), show_alert=True
        )
        return
    except Conflict:
        reply = context.t("hot.already_made")
    else:
        key = "hot.wish_drafted" if to_wish else "hot.lead_created"
        reply = context.t(key, ref=made.ref, term=html.escape(made.term))
    await query.answer()
    if query.message is not None:
        await context.bot.send_message(query.message.chat.id, reply, parse_mode=ParseMode.HTML)


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations: /hot answers at once."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/hot and the alert's buttons (stale or forged presses of them are answered too)."""
    return [
        CommandHandler("hot", show_hot),
        CallbackQueryHandler(turn_alert_into_work, pattern=callbacks.prefix_pattern(Act.HOT_WISH, Act.HOT_LEAD)),
    ]
