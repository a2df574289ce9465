"""`/certificate [YEAR|all]`: a volunteer's 志愿服务记录证明 as a PDF; `/verify CODE` and the certificate QR's
deep link (`/start verify_CODE`) confirm a certificate's holder, period and hours, verified apart from self-reported.
A certificate's number alone verifies nothing."""

from __future__ import annotations

import asyncio
import logging

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, filters

from actions import certificates as certificate_actions
from channels.telegram.context import TongxinContext
from conversations.certificate import caption, text_of, verification
from handlers.common import actor_of
from handlers.conversing import words
from rules.activities import InvalidInput
from rules.certificate_pdf import CertificateText, render
from storage.errors import NotAllowed

log = logging.getLogger(__name__)


def certificate_text(context: TongxinContext, issued: certificate_actions.Issued) -> CertificateText:
    """What the PDF says, in the holder's language (`conversations.certificate.text_of`), its QR the deep link."""
    link = f"https://t.me/{context.bot.username}?start=verify_{issued.certificate.code}"
    settings = context.settings
    return text_of(context.plain, issued, tz=settings.tz, issuer=settings.certificate_issuer, link=link)


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
    await message.reply_document(
        InputFile(pdf, filename=f"{issued.certificate.number}.pdf"),
        caption=words(context, caption(issued)),
        parse_mode=ParseMode.HTML,
    )


async def verify(update: Update, context: TongxinContext) -> None:
    """/verify CODE (or the QR's /start verify_CODE): what the certificate says, or that there is none."""
    if (message := update.effective_message) is None:
        return
    code = (context.args or [""])[0].removeprefix("verify_")
    said = await verification(context.env, code)
    await message.reply_text(words(context, said), parse_mode=ParseMode.HTML)


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
