"""Staff tools: roles (/grant, /revoke, /staff), blocking (/block, /unblock), the audit log (/audit),
/stats, /export, /broadcast, and /whistle (in `handlers.whistles`, registered here).

Every command checks the caller's role against `rules.staff` first; roles and blocks change through
`actions.staff` (one transaction with the audit entry and the person's notice).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Message, MessageOriginUser, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
)

from actions import activities as activity_actions
from actions import departments as department_actions
from actions import exports
from actions import staff as staff_actions
from actions.buttons import Act
from channels.telegram import callbacks, render
from channels.telegram.context import TongxinContext
from channels.telegram.media import upload_write_timeout
from conversations import figures as figures_text
from conversations.base import Outcome
from conversations.broadcast import BroadcastConversation
from handlers import rates, report, whistles
from handlers.access import require
from handlers.common import actor_of, person_of, refresh_menu_of
from handlers.conversing import written_once
from rules import stats
from rules.exports import KINDS, ExportError, columns_for, kind_choice, local_range, parse_export
from rules.staff import (
    STAFF_ACTIONS,
    RoleChangeError,
    Target,
    clamp_audit_count,
    may,
    parse_role_change,
    parse_target,
    person_ref,
)
from rules.stats import Figures, parse_period, period_start
from storage import people, staff
from storage.errors import NotAllowed, NotFound


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


async def target_of(context: TongxinContext, message: Message, typed: Target | None) -> tuple[int, str] | None:
    """The person a staff command names, and how it was named: the typed target (`P-12`, or a Telegram user id,
    resolved through the identities), else the author of the forwarded message it replies to; None when it names
    nobody. `NotFound` (with what was named) when that Telegram user never wrote to the bot."""
    if typed is None:
        telegram_id = forwarded_sender(message)
        if telegram_id is None:
            return None
        typed = Target(telegram_id=telegram_id)
    return await person_of(context, typed), str(typed)


async def grant_role(update: Update, context: TongxinContext) -> None:
    """/grant <role> <id> (or replying to a forwarded message): give a staff role."""
    await change_role(update, context, grant=True)


async def revoke_role(update: Update, context: TongxinContext) -> None:
    """/revoke <role> <id> (or replying to a forwarded message): take a staff role away."""
    await change_role(update, context, grant=False)


async def change_role(update: Update, context: TongxinContext, *, grant: bool) -> None:
    """Shared body of /grant and /revoke: parse, call the action, answer, refresh the person's menu."""
    if (message := update.effective_message) is None or context.person is None:
        return
    if not grant and context.args and context.args[0].lower() in DEPARTMENT_WORDS:
        await revoke_department(update, context, message)
        return
    if not await allowed_to(update, context, "grant" if grant else "revoke"):
        return
    try:
        change = parse_role_change(context.args or [])
        named = await target_of(context, message, change.target)
        if named is None:
            raise RoleChangeError("staff.need_target")
    except RoleChangeError as error:
        await message.reply_text(context.t(error.reason))
        return
    except NotFound as unknown:  # a Telegram user who never wrote to the bot
        await message.reply_text(context.t("staff.unknown_person", user_id=str(unknown)))
        return
    target_id, said = named
    action = staff_actions.grant_role if grant else staff_actions.revoke_role
    try:
        outcome = await action(context.env, actor_of(context), target_id, change.role)
    except NotFound:
        await message.reply_text(context.t("staff.unknown_person", user_id=said))
        return
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    if outcome.changed:
        key = "staff.granted" if grant else "staff.revoked"
        with contextlib.suppress(TelegramError):  # the menu is a convenience; the role itself changed
            await refresh_menu_of(context, outcome.person)
    else:
        key = "staff.already_has" if grant else "staff.did_not_have"
    name = html.escape(outcome.person.display_name)
    role = context.t(f"staff.role.{outcome.role.value}")
    await message.reply_text(
        context.t(key, name=name, role=role, person=person_ref(outcome.person.id)), parse_mode=ParseMode.HTML
    )


# `/revoke department <who>`: a department member's access taken back (coordinators decide membership).
DEPARTMENT_WORDS = ("department", "部门")


async def named_person(context: TongxinContext, message: Message, said: str, missing: str) -> tuple[int, str] | None:
    """The person a staff command names (typed `said`, else the forwarded message it replies to) and how they were
    named; None after telling the staff member what was wrong (`missing`: the message key when nobody was named)."""
    try:
        named = await target_of(context, message, parse_target(said) if said else None)
    except RoleChangeError as error:
        await message.reply_text(context.t(error.reason))
        return None
    except NotFound as unknown:
        await message.reply_text(context.t("staff.unknown_person", user_id=str(unknown) or said))
        return None
    if named is None:
        await message.reply_text(context.t(missing))
    return named


async def revoke_department(update: Update, context: TongxinContext, message: Message) -> None:
    """/revoke department <who>: take the person out of every department (their case cards taken back)."""
    said = context.args[1] if context.args and len(context.args) > 1 else ""
    if (named := await named_person(context, message, said, "staff.need_target")) is None:
        return
    person_id, said = named
    try:
        left = await department_actions.remove_member(context.env, actor_of(context), None, person_id)
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    if not left:
        await message.reply_text(context.t("staff.not_in_a_department", person=said))
        return
    names = "、".join(department.name for department in left)
    await message.reply_text(context.t("staff.removed_from_departments", person=said, departments=names))


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
    lines += [context.t("staff.list_admin", person=person_ref(admin_id)) for admin_id in admins]
    for member in members:
        roles = "、".join(context.t(f"staff.role.{role}") for role in member.roles)
        lines.append(
            context.t("staff.list_line", name=html.escape(member.name), person=person_ref(member.user_id), roles=roles)
        )
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
    action = staff_actions.block if blocked else staff_actions.unblock
    if (
        named := await named_person(context, message, context.args[0] if context.args else "", "staff.usage_block")
    ) is None:
        return
    target_id, said = named
    try:
        outcome = await action(context.env, actor_of(context), target_id)
    except RoleChangeError as error:
        await message.reply_text(context.t(error.reason))
        return
    except NotFound:
        await message.reply_text(context.t("staff.unknown_person", user_id=said))
        return
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    if blocked:
        key = "staff.blocked" if outcome.changed else "staff.already_blocked"
    else:
        key = "staff.unblocked" if outcome.changed else "staff.not_blocked"
    name = html.escape(outcome.person.display_name)
    await message.reply_text(context.t(key, name=name, person=person_ref(outcome.person.id)), parse_mode=ParseMode.HTML)


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
    shown = render.whole_lines(lines, render.MESSAGE_MAX, lambda n: context.t("audit.more", count=n))
    await message.reply_text(shown, parse_mode=ParseMode.HTML)


def stats_text(context: TongxinContext, figures: Figures) -> str:
    """The /stats reply: one block per question staff ask (`conversations.figures`, as Telegram HTML), and how to
    ask for another period."""
    figures_shown = figures_text.stats_text(context.t, context.bot_data.catalogues.keys(context.lang), figures)
    return figures_shown + "\n\n" + context.t("stats.other_periods")


def stats_chart(context: TongxinContext, figures: Figures) -> bytes:
    """The /stats chart: wishes by status and by category, tips by outcome."""
    known = context.bot_data.catalogues.keys(context.lang)
    return figures_text.stats_chart(context.t, context.plain, known, figures)


async def show_stats(update: Update, context: TongxinContext) -> None:
    """/stats [7d|30d|all]: the figures of a period as text and as a chart image."""
    if (message := update.effective_message) is None:
        return
    if not await allowed_to(update, context, "stats"):
        return
    period = parse_period(context.args[0] if context.args else None)
    async with context.db.read() as conn:
        figures = await stats.figures(conn, period, period_start(period, context.now()))
    # Projects, activities, verified vs self-reported hours (issue 14); the departments' 三率 of this month close
    # the figures, and their chart follows the stats chart (issue 15).
    centre = await activity_actions.figures_for(context.env, period_start(period, context.now()))
    month_text, month, month_rates = await rates.month_report(context)
    text = stats_text(context, figures) + "\n" + context.t("activity.figures", **centre.values())
    await message.reply_text(text + "\n\n" + month_text, parse_mode=ParseMode.HTML)
    chart = await asyncio.to_thread(stats_chart, context, figures)
    await message.reply_photo(InputFile(chart, filename="stats.png"))
    await rates.send_chart(update, context, month, month_rates)


async def export_csv(update: Update, context: TongxinContext) -> None:
    """/export 心愿|报料|时长|案件 [FROM [TO]] (or wishes|tips|hours|cases): a CSV document for a date range that
    Excel opens in Chinese; without a kind, the kinds as buttons. `/export 月报 [MONTH]`: the monthly report's PDF."""
    if (message := update.effective_message) is None:
        return
    if not await allowed_to(update, context, "export"):
        return
    if context.args and context.args[0].lower() in report.EXPORT_WORDS:  # `/export 月报 2026-11`: the monthly PDF
        await report.send_report(message, context, "".join(context.args[1:]) or None)
        return
    tz = context.settings.tz
    try:
        kind, since, until = parse_export(context.args or [], context.now(), tz)
    except ExportError as error:
        await message.reply_text(context.t(error.reason))
        return
    if kind is None:
        first, last = local_range(since, until, tz)
        rows = [
            [callbacks.button(context.plain(f"export.kind.{k}"), Act.EXPORT_KIND, arg=kind_choice(k, first, last))]
            for k in KINDS
        ]
        await message.reply_text(
            context.t("export.ask_kind", first=first.isoformat(), last=last.isoformat()),
            reply_markup=InlineKeyboardMarkup(rows),
        )
        return
    await send_export(message, context, kind, since, until)


async def export_kind_pressed(update: Update, context: TongxinContext) -> None:
    """A kind button of /export: the permission and the range checked again, then the file."""
    query = update.callback_query
    if query is None or not await allowed_to(update, context, "export"):
        return
    press = callbacks.decode(query.data)
    if press is None or press.act is not Act.EXPORT_KIND or press.arg is None or update.effective_message is None:
        await query.answer(context.plain("error.stale_button"), show_alert=True)
        return
    try:
        kind, since, until = parse_export(press.arg.split("_"), context.now(), context.settings.tz)
    except ExportError as error:
        await query.answer(context.plain(error.reason), show_alert=True)
        return
    await query.answer()
    if kind is not None:
        await send_export(update.effective_message, context, kind, since, until)


async def send_export(
    message: Message, context: TongxinContext, kind: str, since: dt.datetime, until: dt.datetime
) -> None:
    """The CSV of one kind for [since, until), as a document in reply to `message`."""
    tz = context.settings.tz
    # Only coordinators export at all; the rule is spelled out so a wider export never leaks phones.
    columns = columns_for(kind, with_phones=may(context.roles, "export"))
    first_day, last_day = local_range(since, until, tz)
    first, last = first_day.isoformat(), last_day.isoformat()
    export = await exports.export_file(context.env, kind, since, until, columns, f"tongxin-{kind}-{first}-{last}.csv")
    try:
        if export.path is None:
            await message.reply_text(
                context.t("export.too_large", rows=export.rows, size=round(export.size / 1024 / 1024))
            )
            return
        with export.path.open("rb") as file:
            await message.reply_document(
                # Streamed from disk in chunks (channels/telegram/request.py), not read whole into memory.
                InputFile(file, filename=export.filename, read_file_handle=False),
                caption=context.t(
                    "export.caption", kind=context.t(f"export.kind.{kind}"), rows=export.rows, first=first, last=last
                )
                + ("\n" + context.t("export.zipped") if export.zipped else ""),
                write_timeout=upload_write_timeout(export.size),
            )
    finally:
        export.cleanup()


DRAFT = "broadcast"  # the conversation's draft in user_data (the key it had before it was on the layer)


async def start_broadcast(update: Update, context: TongxinContext) -> Outcome | None:
    """/broadcast: the layer's broadcast (conversations/broadcast.py) asks who should receive the message."""
    if not await allowed_to(update, context, "broadcast"):
        return None
    return BroadcastConversation().start(actor_of(context))


async def stale_broadcast_button(update: Update, context: TongxinContext) -> None:
    """A broadcast button pressed after its conversation ended (or crafted): refuse or say it is over."""
    query = update.callback_query
    if query is None or not await allowed_to(update, context, "broadcast"):
        return
    await query.answer(context.plain("broadcast.expired"), show_alert=True)


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """The /broadcast conversation, written once in conversations/broadcast.py: audience → message → preview →
    confirm."""
    talk = BroadcastConversation()
    command = CommandHandler("broadcast", stale_broadcast_button)  # its callback becomes start_broadcast
    return [written_once(talk, lambda context: talk, key=DRAFT, entry_points=[(command, start_broadcast)])]


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
        CallbackQueryHandler(export_kind_pressed, pattern=callbacks.prefix_pattern(Act.EXPORT_KIND)),
        CallbackQueryHandler(
            stale_broadcast_button,
            pattern=callbacks.prefix_pattern(Act.BROADCAST_AUDIENCE, Act.BROADCAST_SEND, Act.BROADCAST_CANCEL),
        ),
        *whistles.handlers(),
    ]
