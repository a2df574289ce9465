"""`/report [2026-11|上月|本月]` (and `/export 月报 …`): the month's work of the three centres as a PDF with charts,
for coordinators and admins, in the reader's language (Chinese first).

The figures come from `actions.report`; `conversations.report` words them (catalogue `report.po`, the same words
as the WeCom application's 月报) and this module sends the file `rules.report_pdf` draws. A month in which nothing
happened is said in one line, not sent as an empty document.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler

from actions import report as report_actions
from channels.telegram.context import TongxinContext
from conversations import report as report_words
from handlers.common import actor_of
from rules.monthly_report import ReportMonthError
from storage.errors import NotAllowed

log = logging.getLogger(__name__)

LEVELS = ("I", "II", "III", "IV")
# /export's word for the report, Chinese first (`/export 月报 2026-11`).
EXPORT_WORDS = ("月报", "月度报告", "report")


async def send_report(message: Message, context: TongxinContext, word: str | None) -> None:
    """The report of the month `word` names (None: the last full month), as a PDF in reply to `message`."""
    try:
        figures = await report_actions.month_report(context.env, actor_of(context), word)
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    except ReportMonthError as error:
        await message.reply_text(context.t(error.reason))
        return
    if figures.empty:
        await message.reply_text(context.t("report.empty", month=figures.month.label))
        return
    font = context.settings.certificate_font
    try:
        # Drawing the charts and the PDF take a moment of CPU: off the event loop.
        pdf = await asyncio.to_thread(
            report_words.pdf, context.plain, context.settings.tz, context.now(), figures, font
        )
    except OSError:
        # The font file is missing or unreadable: an operator's matter (CERTIFICATE_FONT), not the reader's.
        log.exception("cannot draw the report of %s with font %s", figures.month.label, font)
        await message.reply_text(context.t("report.error.font"))
        return
    await message.reply_document(
        InputFile(pdf, filename=report_words.filename(figures)),
        caption=report_words.summary(context.t, figures),
        parse_mode=ParseMode.HTML,
    )


async def report_command(update: Update, context: TongxinContext) -> None:
    """/report [month]: the month's report (default: the last full month)."""
    if (message := update.effective_message) is None or context.person is None:
        return
    await send_report(message, context, "".join(context.args or []) or None)


def conversations() -> list[BaseHandler[Update, TongxinContext, object]]:
    """No conversations here."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/report."""
    return [CommandHandler("report", report_command)]
