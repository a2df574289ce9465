"""三率 in Telegram: the monthly response, resolution and satisfaction rates of the departments, ranked, as text and
a chart. Shown by /stats (the current month) and by `/rates [YYYY-MM]` (any month), for staff."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler

from channels.telegram.context import TongxinContext
from conversations import report as report_words
from handlers.access import require
from rules.cases import CaseInputError, Rates, month_rates, parse_month, percent
from rules.charts import Panel, render_chart
from rules.staff import STAFF_ACTIONS

SHOWN = 20  # departments listed (the reply stays within Telegram's 4096 characters with /stats' figures)


def rates_text(context: TongxinContext, month: str, rates: list[Rates]) -> str:
    """The ranking, one line per department with cases."""
    lines = [
        context.t(
            "rates.line",
            rank=rank,
            name=r.name,
            sent=r.sent,
            response=percent(r.response_rate),
            resolution=percent(r.resolution_rate),
            satisfaction=percent(r.satisfaction_rate),
        )
        for rank, r in enumerate([r for r in rates if r.sent][:SHOWN], start=1)
    ]
    return context.t("rates.title", month=month) + "\n" + ("\n".join(lines) or context.t("rates.none"))


def rates_panels(context: TongxinContext, rates: list[Rates]) -> list[Panel]:
    """The three rates (in percent, on a 0–100 axis) of the departments with cases, one panel each."""
    return report_words.rates_panels(context.plain, rates)


def rates_chart(context: TongxinContext, month: str, rates: list[Rates]) -> bytes:
    """Three bar charts of the rates per department."""
    return render_chart(context.plain("rates.chart_title", month=month), rates_panels(context, rates))


async def month_report(context: TongxinContext, word: str | None = None) -> tuple[str, str, list[Rates]]:
    """The 三率 of a month (default: this month) as text, with the month's label and figures; `CaseInputError` for a
    month that cannot be read."""
    year, month = parse_month(word, context.now(), context.settings.tz)
    async with context.db.read() as conn:
        rates = await month_rates(conn, year, month, context.settings.tz)
    label = f"{year}-{month:02d}"
    return rates_text(context, label, rates), label, rates


async def send_rates(update: Update, context: TongxinContext, word: str | None = None) -> None:
    """Reply with the 三率 of a month: text, and a chart when some department had cases."""
    if (message := update.effective_message) is None:
        return
    try:
        text, label, rates = await month_report(context, word)
    except CaseInputError as error:
        await message.reply_text(context.plain(error.reason))
        return
    await message.reply_text(text, parse_mode=ParseMode.HTML)
    await send_chart(update, context, label, rates)


async def send_chart(update: Update, context: TongxinContext, label: str, rates: list[Rates]) -> None:
    """The 三率 chart, when some department had cases."""
    if (message := update.effective_message) is None or not any(r.sent for r in rates):
        return
    chart = await asyncio.to_thread(rates_chart, context, label, rates)
    await message.reply_photo(InputFile(chart, filename="rates.png"))


async def rates_command(update: Update, context: TongxinContext) -> None:
    """/rates [YYYY-MM]."""
    if not await require(update, context, *STAFF_ACTIONS["stats"]):
        return
    await send_rates(update, context, context.args[0] if context.args else None)


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """No conversations here."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/rates."""
    return [CommandHandler("rates", rates_command)]
