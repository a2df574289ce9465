"""`/certificate [YEAR|all]`: a volunteer's 志愿服务记录证明 as a PDF; `/verify CODE` and the certificate QR's
deep link (`/start verify_CODE`) confirm a certificate's holder, period and hours, verified apart from self-reported.
A certificate's number alone verifies nothing."""

from __future__ import annotations

import asyncio
import html
import logging

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, filters

from actions import certificates as certificate_actions
from bot.context import TongxinContext
from handlers.common import actor_of
from rules.activities import InvalidInput
from rules.certificate_pdf import CertificateText, render
from storage.errors import NotAllowed

log = logging.getLogger(__name__)


def certificate_text(context: TongxinContext, issued: certificate_actions.Issued) -> CertificateText:
    """What the PDF says, in the holder's language."""
    cert = issued.certificate
    tz = context.settings.tz
    verified, reported = f"{cert.verified_hours or 0:g}", f"{cert.reported_hours or 0:g}"
    rows = []
    for line in issued.lines:
        what = context.plain(f"category.{line.what}") if line.ref.startswith("W-") else line.what
        if not line.verified:
            what = context.plain("certificate.self_reported_line", what=what)
        rows.append((line.day.astimezone(tz).strftime("%Y-%m-%d"), what, line.ref, f"{line.hours:g}"))
    link = f"https://t.me/{context.bot.username}?start=verify_{cert.code}"
    return CertificateText(
        title=context.plain("certificate.title"),
        body=context.plain(
            "certificate.body",
            name=cert.holder_name,
            start=cert.period_from,
            end=cert.period_to,
            verified=verified,
            reported=reported,
            count=len(rows),
            issuer=context.settings.certificate_issuer,
        ),
        facts=[
            (context.plain("certificate.name"), cert.holder_name),
            (context.plain("certificate.volunteer_no"), cert.volunteer_no),
            (context.plain("certificate.period"), f"{cert.period_from} — {cert.period_to}"),
            (
                context.plain("certificate.hours"),
                context.plain("certificate.hours_value", verified=verified, reported=reported),
            ),
            (context.plain("certificate.number"), cert.number),
        ],
        table_head=(
            context.plain("certificate.col_date"),
            context.plain("certificate.col_what"),
            context.plain("certificate.col_ref"),
            context.plain("certificate.col_hours"),
        ),
        rows=rows,
        more_rows="" if len(rows) <= 40 else context.plain("certificate.more_rows", n=len(rows) - 40),
        issuer=context.settings.certificate_issuer,
        issued=context.plain("certificate.issued", date=cert.issued_at.astimezone(tz).strftime("%Y-%m-%d")),
        verify=context.plain("certificate.verify", code=cert.code),
        verify_link=link,
    )


async def send_certificate(update: Update, context: TongxinContext) -> None:
    """/certificate: issue and send the PDF for this year so far (or the year / "all" given)."""
    if (message := update.effective_message) is None:
        return
    try:
        period = certificate_actions.period_of(
            context.args[0] if context.args else None, context.now(), context.settings.timezone
        )
        issued = await certificate_actions.issue(context.env, actor_of(context), period)
    except InvalidInput as exc:
        await message.reply_text(context.t(exc.reason))
        return
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    text = certificate_text(context, issued)
    # Drawing the PDF and subsetting the font take a moment of CPU: off the event loop.
    try:
        pdf = await asyncio.to_thread(render, text, context.settings.certificate_font)
    except OSError:
        # The font file is missing or unreadable: an operator's matter (CERTIFICATE_FONT), not the person's.
        log.exception(
            "cannot draw certificate %s with font %s", issued.certificate.number, context.settings.certificate_font
        )
        await message.reply_text(context.t("certificate.error.font", number=issued.certificate.number))
        return
    cert = issued.certificate
    await message.reply_document(
        InputFile(pdf, filename=f"{cert.number}.pdf"),
        caption=context.t(
            "certificate.caption",
            number=cert.number,
            verified=f"{cert.verified_hours or 0:g}",
            reported=f"{cert.reported_hours or 0:g}",
            code=cert.code,
        ),
        parse_mode=ParseMode.HTML,
    )


async def verify(update: Update, context: TongxinContext) -> None:
    """/verify CODE (or the QR's /start verify_CODE): what the certificate says, or that there is none."""
    if (message := update.effective_message) is None:
        return
    code = (context.args or [""])[0].removeprefix("verify_")
    if not code:
        await message.reply_text(context.t("certificate.verify_usage"))
        return
    try:
        cert = await certificate_actions.verify(context.env, code)
    except InvalidInput as exc:
        await message.reply_text(context.t(exc.reason))
        return
    if cert is None:
        await message.reply_text(context.t("certificate.not_found", code=html.escape(code[:24])))
        return
    values = {
        "number": cert.number,
        "name": html.escape(cert.holder_name),
        "start": cert.period_from,
        "end": cert.period_to,
        "issued": cert.issued_at.astimezone(context.settings.tz).strftime("%Y-%m-%d"),
        "issuer": html.escape(context.settings.certificate_issuer),
    }
    if cert.verified_hours is None or cert.reported_hours is None:  # issued before the two were told apart
        text = context.t("certificate.verified_total", hours=f"{cert.hours:g}", **values)
    else:
        text = context.t(
            "certificate.verified",
            verified=f"{cert.verified_hours:g}",
            reported=f"{cert.reported_hours:g}",
            **values,
        )
    await message.reply_text(text, parse_mode=ParseMode.HTML)


def conversations() -> list[BaseHandler[Update, TongxinContext, object]]:
    """No conversations here."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/certificate, /verify and the verification deep link."""
    return [
        CommandHandler("start", verify, filters=filters.Regex(r"^/start verify_")),
        CommandHandler("certificate", send_certificate),
        CommandHandler("verify", verify),
    ]
