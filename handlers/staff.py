"""Staff tools: roles (/grant, /revoke, /staff), blocking (/block, /unblock), the audit log (/audit),
/stats, /export, /broadcast, and /whistle (in `handlers.whistles`, registered here).

Every command checks the caller's role against `rules.staff` first; every change goes through
`storage.staff`, which writes the audit entry in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, MessageOriginUser, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import TongxinContext
from bot.notify import Notice
from handlers import whistles
from handlers.access import require
from handlers.basics import refresh_menu_of
from rules.charts import Panel, render_chart
from rules.exports import ExportError, columns_for, parse_export, to_csv
from rules.staff import (
    STAFF_ACTIONS,
    RoleChangeError,
    check_block,
    clamp_audit_count,
    may,
    parse_role_change,
    parse_user_id,
)
from rules.stats import Figures, parse_period, period_start
from storage import audit, broadcasts, exports, people, staff, stats, users
from storage.errors import NotFound


async def allowed_to(update: Update, context: TongxinContext, action: str) -> bool:
    """The permission check every staff command and button starts with (see `rules.staff.STAFF_ACTIONS`)."""
    return await require(update, context, *STAFF_ACTIONS[action])


def forwarded_sender(message: Message) -> int | None:
    """The TELEGRAM id of the original author of the forwarded message this command replies to, when Telegram
    reveals them (map it to a person with `forwarded_person`)."""
    replied = message.reply_to_message
    if replied is None or not isinstance(replied.forward_origin, MessageOriginUser):
        return None
    return replied.forward_origin.sender_user.id


async def forwarded_person(context: TongxinContext, message: Message) -> int | None:
    """The person id of the author of the forwarded message this command replies to; ids typed after a
    command are person ids (what cards and /staff show), a forwarded message names a Telegram user.

    `NotFound` when that Telegram user never wrote to the bot.
    """
    telegram_id = forwarded_sender(message)
    if telegram_id is None:
        return None
    async with context.db.read() as conn:
        found = await people.person_ids_for(conn, people.TELEGRAM, [telegram_id])
    if not found:
        raise NotFound(f"telegram user {telegram_id}")
    return found[0]


async def grant_role(update: Update, context: TongxinContext) -> None:
    """/grant <role> <id> (or replying to a forwarded message): give a staff role."""
    await change_role(update, context, grant=True)


async def revoke_role(update: Update, context: TongxinContext) -> None:
    """/revoke <role> <id> (or replying to a forwarded message): take a staff role away."""
    await change_role(update, context, grant=False)


async def change_role(update: Update, context: TongxinContext, *, grant: bool) -> None:
    """Shared body of /grant and /revoke: parse, change, audit, refresh the person's menu, tell them."""
    if (message := update.effective_message) is None or context.person is None:
        return
    if not await allowed_to(update, context, "grant" if grant else "revoke"):
        return
    try:
        change = parse_role_change(context.args or [])
        target_id = change.target_id or await forwarded_person(context, message)
        if target_id is None:
            raise RoleChangeError("staff.need_target")
    except RoleChangeError as error:
        await message.reply_text(context.t(error.reason))
        return
    except NotFound:
        await message.reply_text(context.t("staff.unknown_person", user_id=forwarded_sender(message)))
        return
    role_key = f"staff.role.{change.role.value}"
    try:
        async with context.db.write() as conn:
            action = staff.grant if grant else staff.revoke
            changed = await action(
                conn, actor_id=context.person.id, user_id=target_id, role=change.role.value, now=context.now()
            )
            target = await users.get_user(conn, target_id)
    except NotFound:
        await message.reply_text(context.t("staff.unknown_person", user_id=target_id))
        return
    name = html.escape(target.display_name)
    if not changed:
        key = "staff.already_has" if grant else "staff.did_not_have"
        await message.reply_text(context.t(key, name=name, role=context.t(role_key)), parse_mode=ParseMode.HTML)
        return
    with contextlib.suppress(TelegramError):  # the menu is a convenience; the role itself is granted
        await refresh_menu_of(context, target)
    key = "staff.granted" if grant else "staff.revoked"
    await message.reply_text(context.t(key, name=name, role=context.t(role_key)), parse_mode=ParseMode.HTML)
    notice_key = "staff.you_were_granted" if grant else "staff.you_were_revoked"
    await context.notifier.notify(target_id, Notice(notice_key, {"role_key": role_key}))


async def list_staff(update: Update, context: TongxinContext) -> None:
    """/staff: who holds which staff role, with the admins from the settings."""
    if (message := update.effective_message) is None:
        return
    if not await allowed_to(update, context, "staff"):
        return
    async with context.db.read() as conn:
        members = await staff.list_staff(conn)
        # By person id, the id /block and /grant take (ADMIN_IDS are Telegram ids); admins who never wrote are not
        # people yet.
        admins = sorted(await people.admin_person_ids(conn, context.settings.admin_ids))
    lines = [context.t("staff.list_title")]
    lines += [context.t("staff.list_admin", user_id=admin_id) for admin_id in admins]
    for member in members:
        roles = "、".join(context.t(f"staff.role.{role}") for role in member.roles)
        lines.append(context.t("staff.list_line", name=html.escape(member.name), user_id=member.user_id, roles=roles))
    if not members:
        lines.append(context.t("staff.list_empty"))
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


async def block_person(update: Update, context: TongxinContext) -> None:
    """/block <id> (or replying to a forwarded message): stop a person from using the bot."""
    await change_block(update, context, blocked=True)


async def unblock_person(update: Update, context: TongxinContext) -> None:
    """/unblock <id> (or replying to a forwarded message): let a blocked person use the bot again."""
    await change_block(update, context, blocked=False)


async def change_block(update: Update, context: TongxinContext, *, blocked: bool) -> None:
    """Shared body of /block and /unblock."""
    if (message := update.effective_message) is None or context.person is None:
        return
    if not await allowed_to(update, context, "block" if blocked else "unblock"):
        return
    try:
        target_id = parse_user_id(context.args[0]) if context.args else await forwarded_person(context, message)
        if target_id is None:
            raise RoleChangeError("staff.usage_block")
        async with context.db.write() as conn:
            target = await users.get_user(conn, target_id)
            if blocked:
                admins = await people.admin_person_ids(conn, context.settings.admin_ids)
                check_block(context.person.id, context.roles, target_id, target.roles, admins)
            changed = await staff.set_blocked(
                conn, actor_id=context.person.id, user_id=target_id, blocked=blocked, now=context.now()
            )
    except RoleChangeError as error:
        await message.reply_text(context.t(error.reason))
        return
    except NotFound:
        await message.reply_text(context.t("staff.unknown_person", user_id=context.args[0] if context.args else ""))
        return
    name = html.escape(target.display_name)
    if blocked:
        key = "staff.blocked" if changed else "staff.already_blocked"
    else:
        key = "staff.unblocked" if changed else "staff.not_blocked"
    await message.reply_text(context.t(key, name=name, user_id=target_id), parse_mode=ParseMode.HTML)


async def show_audit(update: Update, context: TongxinContext) -> None:
    """/audit [N]: the newest N staff actions."""
    if (message := update.effective_message) is None:
        return
    if not await allowed_to(update, context, "audit"):
        return
    count = clamp_audit_count(context.args[0] if context.args else None)
    async with context.db.read() as conn:
        entries = await staff.recent_audit(conn, count)
    if not entries:
        await message.reply_text(context.t("audit.empty"))
        return
    tz = context.settings.tz
    lines = [context.t("audit.title", count=len(entries))]
    for entry in entries:
        lines.append(
            context.t(
                "audit.line",
                at=entry.at.astimezone(tz).strftime("%m-%d %H:%M"),
                actor=entry.actor_id if entry.actor_id is not None else "—",
                action=html.escape(entry.action),
                subject=html.escape(entry.subject or ""),
                detail=html.escape(entry.detail or ""),
            )
        )
    await message.reply_text("\n".join(lines)[:4096], parse_mode=ParseMode.HTML)


def label(context: TongxinContext, key: str, raw: str) -> str:
    """A translated label for a stored value, or the value itself when there is no message for it."""
    return context.t(key) if key in context.bot_data.catalogues.keys(context.lang) else (raw or context.t("stats.none"))


def stats_text(context: TongxinContext, figures: Figures) -> str:
    """The /stats reply: one block per question staff ask."""

    def breakdown(counts: dict[str, int], prefix: str) -> str:
        if not counts:
            return context.t("stats.none")
        return "、".join(f"{label(context, prefix + key, key)} {count}" for key, count in counts.items())

    def hours(value: float | None) -> str:
        return context.t("stats.none") if value is None else context.t("stats.hours", hours=value)

    return context.t(
        "stats.text",
        period=context.t(f"stats.period.{figures.period}"),
        wishes=figures.wishes,
        by_status=breakdown(figures.wishes_by_status, "stats.wish_status."),
        by_category=breakdown(figures.wishes_by_category, "stats.category."),
        by_area=breakdown(figures.wishes_by_area, "stats.area."),
        to_claim=hours(figures.median_hours_to_claim),
        to_done=hours(figures.median_hours_to_done),
        volunteer_hours=figures.volunteer_hours,
        tasks=figures.volunteer_tasks,
        tips=figures.tips,
        tips_by_status=breakdown(figures.tips_by_status, "tip.status."),
    )


def stats_chart(context: TongxinContext, figures: Figures) -> bytes:
    """The /stats chart: wishes by status and by category, tips by outcome."""

    def panel(title_key: str, counts: dict[str, int], prefix: str) -> Panel:
        return Panel(context.t(title_key), [label(context, prefix + k, k) for k in counts], list(counts.values()))

    return render_chart(
        context.t("stats.chart_title", period=context.t(f"stats.period.{figures.period}")),
        [
            panel("stats.chart_status", figures.wishes_by_status, "stats.wish_status."),
            panel("stats.chart_category", figures.wishes_by_category, "stats.category."),
            panel("stats.chart_tips", figures.tips_by_status, "tip.status."),
        ],
    )


async def show_stats(update: Update, context: TongxinContext) -> None:
    """/stats [7d|30d|all]: the figures of a period as text and as a chart image."""
    if (message := update.effective_message) is None:
        return
    if not await allowed_to(update, context, "stats"):
        return
    period = parse_period(context.args[0] if context.args else None)
    async with context.db.read() as conn:
        figures = await stats.figures(conn, period, period_start(period, context.now()))
    await message.reply_text(stats_text(context, figures), parse_mode=ParseMode.HTML)
    chart = await asyncio.to_thread(stats_chart, context, figures)
    await message.reply_photo(InputFile(chart, filename="stats.png"))


async def export_csv(update: Update, context: TongxinContext) -> None:
    """/export wishes|tips|hours [FROM [TO]]: a CSV document for a date range that Excel opens in Chinese."""
    if (message := update.effective_message) is None:
        return
    if not await allowed_to(update, context, "export"):
        return
    tz = context.settings.tz
    try:
        kind, since, until = parse_export(context.args or [], context.now(), tz)
    except ExportError as error:
        await message.reply_text(context.t(error.reason))
        return
    queries = {"wishes": exports.wish_rows, "tips": exports.tip_rows, "hours": exports.hours_rows}
    async with context.db.read() as conn:
        rows = await queries[kind](conn, since, until)
    # Only coordinators export at all; the rule is spelled out so a wider export never leaks phones.
    columns = columns_for(kind, with_phones=may(context.roles, "export"))
    first = since.astimezone(tz).date().isoformat()
    last = (until.astimezone(tz).date() - dt.timedelta(days=1)).isoformat()
    await message.reply_document(
        InputFile(to_csv(columns, rows, tz), filename=f"tongxin-{kind}-{first}-{last}.csv"),
        caption=context.t(
            "export.caption", kind=context.t(f"export.kind.{kind}"), rows=len(rows), first=first, last=last
        ),
    )


AUDIENCE, MESSAGE, PREVIEW = range(3)
BROADCAST_TEXT_MAX = 3500
BROADCAST_CAPTION_MAX = 1000
PROGRESS_EVERY = 1.0  # seconds between looks at the outbox while a broadcast goes out
PROGRESS_GIVE_UP = 6 * 3600  # stop updating the progress message after this many seconds


async def start_broadcast(update: Update, context: TongxinContext) -> int:
    """/broadcast: ask who should receive the message."""
    if (message := update.effective_message) is None or not await allowed_to(update, context, "broadcast"):
        return ConversationHandler.END
    buttons = [
        [InlineKeyboardButton(context.t(f"broadcast.audience.{audience}"), callback_data=f"bc:aud:{audience}")]
        for audience in broadcasts.AUDIENCES
    ]
    buttons.append([InlineKeyboardButton(context.t("broadcast.cancel_button"), callback_data="bc:cancel")])
    await message.reply_text(context.t("broadcast.ask_audience"), reply_markup=InlineKeyboardMarkup(buttons))
    return AUDIENCE


async def audience_chosen(update: Update, context: TongxinContext) -> int:
    """An audience button: remember it and ask for the message."""
    query = update.callback_query
    if query is None or query.data is None or not await allowed_to(update, context, "broadcast"):
        return ConversationHandler.END
    audience = query.data.removeprefix("bc:aud:")
    if audience not in broadcasts.AUDIENCES:
        await query.answer()
        return AUDIENCE
    assert context.user_data is not None
    context.user_data["broadcast"] = {"audience": audience}
    await query.answer()
    await query.edit_message_text(
        context.t("broadcast.ask_message", audience=context.t(f"broadcast.audience.{audience}"))
    )
    return MESSAGE


async def text_typed(update: Update, context: TongxinContext) -> int:
    """The message as text: check its length and show the preview."""
    if (message := update.effective_message) is None or message.text is None:
        return MESSAGE
    if len(message.text) > BROADCAST_TEXT_MAX:
        await message.reply_text(context.t("broadcast.too_long", limit=BROADCAST_TEXT_MAX))
        return MESSAGE
    return await show_preview(update, context, text=message.text, photo=None)


async def photo_sent(update: Update, context: TongxinContext) -> int:
    """The message as a photo with an optional caption: show the preview."""
    if (message := update.effective_message) is None or not message.photo:
        return MESSAGE
    caption = message.caption or ""
    if len(caption) > BROADCAST_CAPTION_MAX:
        await message.reply_text(context.t("broadcast.too_long", limit=BROADCAST_CAPTION_MAX))
        return MESSAGE
    return await show_preview(update, context, text=caption, photo=message.photo[-1].file_id)


async def something_else_sent(update: Update, context: TongxinContext) -> int:
    """Neither text nor a photo: say what is expected."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t("broadcast.text_or_photo"))
    return MESSAGE


async def show_preview(update: Update, context: TongxinContext, *, text: str, photo: str | None) -> int:
    """Show the message exactly as recipients will see it, with the audience size and Confirm / Cancel."""
    message = update.effective_message
    assert message is not None
    assert context.user_data is not None
    draft = context.user_data.get("broadcast") or {}
    audience = str(draft.get("audience", "everyone"))
    draft.update(text=text, photo=photo)
    context.user_data["broadcast"] = draft
    async with context.db.read() as conn:
        count = len(await broadcasts.audience_ids(conn, audience, admin_ids=context.settings.admin_ids))
    body = context.t("broadcast.message", text=html.escape(text))
    if photo:
        await message.reply_photo(photo, caption=body, parse_mode=ParseMode.HTML)
    else:
        await message.reply_text(body, parse_mode=ParseMode.HTML)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(context.t("broadcast.confirm_button"), callback_data="bc:send")],
            [InlineKeyboardButton(context.t("broadcast.cancel_button"), callback_data="bc:cancel")],
        ]
    )
    await message.reply_text(
        context.t("broadcast.preview", audience=context.t(f"broadcast.audience.{audience}"), count=count),
        reply_markup=keyboard,
    )
    return PREVIEW


async def confirm_pressed(update: Update, context: TongxinContext) -> int:
    """Confirm: queue one message per recipient in the bulk lane and follow the delivery on one message."""
    query = update.callback_query
    if query is None or context.person is None or not await allowed_to(update, context, "broadcast"):
        return ConversationHandler.END
    assert context.user_data is not None
    draft = context.user_data.pop("broadcast", None)
    if not draft or "text" not in draft:
        await query.answer(context.t("broadcast.expired"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    await query.edit_message_reply_markup(None)
    now = context.now()
    async with context.db.write() as conn:
        recipients = await broadcasts.audience_ids(conn, draft["audience"], admin_ids=context.settings.admin_ids)
        broadcast_id = await broadcasts.create_broadcast(
            conn,
            created_by=context.person.id,
            audience=draft["audience"],
            text=draft["text"],
            photo_file_id=draft["photo"],
            total=len(recipients),
            now=now,
        )
        await audit.record(
            conn,
            actor_id=context.person.id,
            action="broadcast.send",
            subject=f"broadcast:{broadcast_id}",
            now=now,
            detail=f"{draft['audience']}: {len(recipients)}",
        )
    progress = await context.bot.send_message(
        context.chat_id, context.t("broadcast.progress", sent=0, total=len(recipients))
    )
    async with context.db.write() as conn:
        await broadcasts.set_progress_message(conn, broadcast_id, progress.message_id)
    notice = Notice("broadcast.message", {"text": draft["text"]}, photo=draft["photo"])
    prefix = broadcasts.dedupe_prefix(broadcast_id)
    for user_id in recipients:
        await context.notifier.notify(user_id, notice, lane="bulk", dedupe_key=f"{prefix}{user_id}")
    context.application.create_task(
        follow_broadcast(context, broadcast_id, progress.chat.id, progress.message_id), update=update
    )
    return ConversationHandler.END


async def follow_broadcast(context: TongxinContext, broadcast_id: int, chat_id: int, message_id: int) -> None:
    """Edit the progress message as the outbox delivers, then show the final tally."""
    shown: broadcasts.Tally | None = None
    started = asyncio.get_running_loop().time()
    while context.application.running:
        async with context.db.read() as conn:
            tally = await broadcasts.tally(conn, broadcast_id)
        if tally.finished:
            async with context.db.write() as conn:
                await broadcasts.finish(conn, broadcast_id, tally, now=context.now())
            await context.bot.edit_message_text(
                context.t(
                    "broadcast.done", delivered=tally.delivered, unreachable=tally.unreachable, total=tally.total
                ),
                chat_id=chat_id,
                message_id=message_id,
            )
            return
        if tally != shown:
            shown = tally
            with contextlib.suppress(TelegramError):
                await context.bot.edit_message_text(
                    context.t("broadcast.progress", sent=tally.delivered + tally.unreachable, total=tally.total),
                    chat_id=chat_id,
                    message_id=message_id,
                )
        if asyncio.get_running_loop().time() - started > PROGRESS_GIVE_UP:
            return
        await asyncio.sleep(PROGRESS_EVERY)


async def stale_broadcast_button(update: Update, context: TongxinContext) -> None:
    """A broadcast button pressed after its conversation ended (or crafted): refuse or say it is over."""
    query = update.callback_query
    if query is None or not await allowed_to(update, context, "broadcast"):
        return
    await query.answer(context.t("broadcast.expired"), show_alert=True)


async def cancel_broadcast(update: Update, context: TongxinContext) -> int:
    """Cancel (button or /cancel): nothing is sent."""
    if context.user_data is not None:
        context.user_data.pop("broadcast", None)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(context.t("cancel.done"))
    elif update.effective_message is not None:
        await update.effective_message.reply_text(context.t("cancel.done"))
    return ConversationHandler.END


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """The /broadcast conversation: audience → message → preview → confirm."""
    not_command = ~filters.COMMAND
    return [
        ConversationHandler(
            entry_points=[CommandHandler("broadcast", start_broadcast)],
            states={
                AUDIENCE: [CallbackQueryHandler(audience_chosen, pattern=r"^bc:aud:")],
                MESSAGE: [
                    MessageHandler(filters.TEXT & not_command, text_typed),
                    MessageHandler(filters.PHOTO, photo_sent),
                    MessageHandler(filters.ALL & not_command, something_else_sent),
                ],
                PREVIEW: [CallbackQueryHandler(confirm_pressed, pattern=r"^bc:send$")],
            },
            fallbacks=[
                CallbackQueryHandler(cancel_broadcast, pattern=r"^bc:cancel$"),
                CommandHandler("cancel", cancel_broadcast),
            ],
            allow_reentry=True,
            persistent=True,
            name="broadcast",
        )
    ]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Plain command and button handlers of the staff tools."""
    return [
        CommandHandler("grant", grant_role),
        CommandHandler("revoke", revoke_role),
        CommandHandler("staff", list_staff),
        CommandHandler("block", block_person),
        CommandHandler("unblock", unblock_person),
        CommandHandler("audit", show_audit),
        CommandHandler("stats", show_stats),
        CommandHandler("export", export_csv),
        CallbackQueryHandler(stale_broadcast_button, pattern=r"^bc:"),
        *whistles.handlers(),
    ]
