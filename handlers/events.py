"""Public-opinion events in Telegram (issue 29).

`/event H-3` (a hot alert; also `W-0042` a wish or its whistle, `C-0001` a case, or a topic's words) offers the
four levels as buttons with the suggested one marked; a press raises the event (`/event H-3 II` raises it at
once). `/event E-1 上报 已电话报告区委` records what was done against a clock (上报, 回应, 发布 T-3, 发布会, 答复, or
记录 for a note); `/event E-1 结案 <summary>` closes it. `/events` lists the open events with the time left on each
clock. Every handler parses, calls one action and renders its outcome.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from actions import events
from actions.buttons import Act, Button
from actions.events import ClockView, EventView
from actions.messages import Notice, Value
from channels.telegram import callbacks, render
from channels.telegram.context import TongxinContext
from handlers.common import actor_of, expect_press, tell
from rules.events import (
    CloseRequest,
    EventInputError,
    Level,
    RaiseRequest,
    RecordRequest,
    Source,
    hours_minutes,
    level_choice,
    parse_command,
    parse_level_choice,
    source_ref,
)
from storage.errors import Conflict, NotAllowed, NotFound

TOPIC_DRAFT = "event_topic"  # a topic's words waiting for their level, with the draft's number, in user_data


async def reply(context: TongxinContext, notice: Notice) -> None:
    """Send a notice-shaped message to the person being answered (values escaped by the renderer)."""
    body, markup = render.render_notice(context.bot_data.catalogues, context.lang, notice)
    await context.bot.send_message(context.chat_id, body, parse_mode=ParseMode.HTML, reply_markup=markup)


async def event_command(update: Update, context: TongxinContext) -> None:
    """/event: raise (with level buttons, or the level typed), record against a clock, or close."""
    try:
        request = parse_command(context.args or [])
    except EventInputError as error:
        await input_error(update, context, error)
        return
    if isinstance(request, RecordRequest):
        await answer(update, context, events.record(context.env, actor_of(context), request.ref_no, request.record))
    elif isinstance(request, CloseRequest):
        await answer(update, context, events.close(context.env, actor_of(context), request.ref_no, request.summary))
    elif request.level is not None:
        await answer(update, context, events.raise_event(context.env, actor_of(context), request.source, request.level))
    else:
        await offer_levels(update, context, request)


async def offer_levels(update: Update, context: TongxinContext, request: RaiseRequest) -> None:
    """The four levels as buttons, the suggested one marked (a topic's words are kept until a level is chosen)."""
    try:
        proposal = await events.propose(context.env, actor_of(context), request.source)
    except (NotAllowed, NotFound, Conflict) as error:
        await refuse(update, context, error)
        return
    source = request.source
    if source.kind == "text":
        source = Source("text", keep_topic(context, source.text or ""), source.text)
    # A button's label is one message key: each level has its own, and its own "suggested" form.
    rows = tuple(
        (Button(level_label(level, level == proposal.suggested), Act.EVENT_LEVEL, arg=level_choice(source, level)),)
        for level in Level
    )
    values: dict[str, Value] = {
        "title": proposal.title,
        "level_key": f"event.level.{int(proposal.suggested)}",
        "volume": proposal.signals.volume,
        "areas": proposal.signals.areas,
        "rise": f"{proposal.signals.rise:.1f}",
    }
    await reply(context, Notice("event.ask_level", values, rows))


def level_label(level: Level, suggested: bool) -> str:
    """The message key of a level button's label."""
    return f"event.button.level_{int(level)}{'_suggested' if suggested else ''}"


def keep_topic(context: TongxinContext, text: str) -> int:
    """Keep a topic's words for the level buttons; the draft's number (an older draft's buttons stop working)."""
    if context.user_data is None:
        return 1
    kept = context.user_data.get(TOPIC_DRAFT)
    number = (kept.get("number", 0) if isinstance(kept, dict) else 0) + 1
    context.user_data[TOPIC_DRAFT] = {"number": number, "text": text}
    return int(number)


def kept_topic(context: TongxinContext, number: int | None) -> str | None:
    """The topic's words a level button belongs to (None: an older draft's button)."""
    kept = (context.user_data or {}).get(TOPIC_DRAFT)
    if not isinstance(kept, dict) or kept.get("number") != number or not isinstance(kept.get("text"), str):
        return None
    return str(kept["text"])


async def level_pressed(update: Update, context: TongxinContext) -> None:
    """A level button: the permission and the source checked again, then the event raised."""
    if (press := await expect_press(update, context, Act.EVENT_LEVEL)) is None or press.arg is None:
        return
    try:
        source, level = parse_level_choice(press.arg)
    except EventInputError:
        await tell(update, context, "error.stale_button")
        return
    if source.kind == "text":
        text = kept_topic(context, source.number)
        if text is None:
            await tell(update, context, "error.stale_button")
            return
        source = Source("text", source.number, text)
    await answer(update, context, events.raise_event(context.env, actor_of(context), source, level))


async def answer(update: Update, context: TongxinContext, doing: Awaitable[EventView]) -> None:
    """Say how it went: the refusal, or the event as it stands now (a pressed card loses its buttons)."""
    try:
        shown = await doing
    except EventInputError as error:
        await input_error(update, context, error)
        return
    except (NotAllowed, NotFound, Conflict) as error:
        await refuse(update, context, error)
        return
    if (query := update.callback_query) is not None:
        await query.answer()
        await query.edit_message_reply_markup(None)
        if context.user_data is not None and shown.event.source == "text":
            # The words are used; the number stays, so the next draft's buttons never share an older one's.
            context.user_data[TOPIC_DRAFT] = {"number": (context.user_data.get(TOPIC_DRAFT) or {}).get("number", 0)}
    await context.bot.send_message(context.chat_id, describe(context, shown), parse_mode=ParseMode.HTML)


async def input_error(update: Update, context: TongxinContext, error: EventInputError) -> None:
    """Tell staff what was wrong with what they typed."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain(error.reason, **error.values), show_alert=True)
    elif (message := update.effective_message) is not None:
        await message.reply_text(context.plain(error.reason, **error.values))


async def refuse(update: Update, context: TongxinContext, error: NotAllowed | NotFound | Conflict) -> None:
    """Why it cannot be done, in the person's words."""
    if isinstance(error, NotAllowed):
        await tell(update, context, "error.not_allowed")
    elif isinstance(error, NotFound):
        await tell(update, context, "event.not_found")
    elif (error.current or "").startswith("tip:"):
        await tell(update, context, "event.tip_not_published")
    else:
        await tell(update, context, f"event.conflict.{error.current or 'open'}")


async def list_events(update: Update, context: TongxinContext) -> None:
    """/events: the open events, gravest first, with the time left on each clock."""
    try:
        shown = await events.open_views(context.env, actor_of(context))
    except NotAllowed:
        await tell(update, context, "error.not_allowed")
        return
    if not shown:
        await tell(update, context, "event.none_open")
        return
    text = "\n\n".join([context.t("event.list_title", count=len(shown)), *(describe(context, v) for v in shown)])
    await context.bot.send_message(context.chat_id, text, parse_mode=ParseMode.HTML)


def describe(context: TongxinContext, shown: EventView) -> str:
    """An event and its clocks, one line each, as Telegram HTML."""
    event = shown.event
    head = context.t(
        f"event.card_{event.status}",
        ref=shown.ref,
        level=context.t(f"event.level.{int(shown.level)}"),
        title=html.escape(event.title),
        source=source_ref(event.source, event.source_id),
        raised=events.local(event.raised_at, context.env),
    )
    return "\n".join([head, *(clock_line(context, c) for c in shown.clocks)])


def clock_line(context: TongxinContext, view: ClockView) -> str:
    """One clock: the time left, overdue, or met (and by what)."""
    hours, minutes = hours_minutes(view.minutes_left)
    clock = view.clock
    return context.t(
        f"event.line_{view.state}{'_missed' if view.missed and view.state == 'overdue' else ''}",
        clock=context.t(f"event.clock.{clock.kind}"),
        due=events.local(clock.due_at, context.env),
        hours=hours,
        minutes=minutes,
        what=html.escape(clock.met_what or "—"),
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations: /event and /events answer at once."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/event, /events and the level buttons (stale or forged presses of them are answered too)."""
    return [
        CommandHandler("event", event_command),
        CommandHandler("events", list_events),
        CallbackQueryHandler(level_pressed, pattern=callbacks.prefix_pattern(Act.EVENT_LEVEL)),
    ]
