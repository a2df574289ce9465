"""The volunteer-service certificate, written once: what it says (`text_of`, drawn by each channel: Telegram as a
PDF document, WeChat as an image, since customer-service messages carry no files), its caption, and what a
verification code shows (`verification`: the same words in the bot, on Telegram's `/verify` and on the public
verification page the WeChat image links to).

Telegram renders it in `handlers/certificates.py`, WeChat in `channels/wechat/activities.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from actions import certificates as certificate_actions
from actions.env import Env
from conversations.base import Param, Say
from rules.activities import InvalidInput
from rules.certificate_pdf import MAX_ROWS, CertificateText

Plain = Callable[..., str]  # a catalogue key and values → plain text in the holder's language


def text_of(
    plain: Plain,
    issued: certificate_actions.Issued,
    *,
    tz: dt.tzinfo,
    issuer: str,
    link: str,
    rows_shown: int = MAX_ROWS,
) -> CertificateText:
    """What the certificate says, in the holder's language; `link` is where its QR code leads to verify it;
    `rows_shown`: the service lines its table has room for (the rest are counted)."""
    cert = issued.certificate
    verified, reported = f"{cert.verified_hours or 0:g}", f"{cert.reported_hours or 0:g}"
    rows = []
    for line in issued.lines:
        what = plain(f"category.{line.what}") if line.ref.startswith("W-") else line.what
        if not line.verified:
            what = plain("certificate.self_reported_line", what=what)
        rows.append((line.day.astimezone(tz).strftime("%Y-%m-%d"), what, line.ref, f"{line.hours:g}"))
    return CertificateText(
        title=plain("certificate.title"),
        body=plain(
            "certificate.body",
            name=cert.holder_name,
            start=cert.period_from,
            end=cert.period_to,
            verified=verified,
            reported=reported,
            count=len(rows),
            issuer=issuer,
        ),
        facts=[
            (plain("certificate.name"), cert.holder_name),
            (plain("certificate.volunteer_no"), cert.volunteer_no),
            (plain("certificate.period"), f"{cert.period_from} — {cert.period_to}"),
            (plain("certificate.hours"), plain("certificate.hours_value", verified=verified, reported=reported)),
            (plain("certificate.number"), cert.number),
        ],
        table_head=(
            plain("certificate.col_date"),
            plain("certificate.col_what"),
            plain("certificate.col_ref"),
            plain("certificate.col_hours"),
        ),
        rows=rows,
        more_rows="" if len(rows) <= rows_shown else plain("certificate.more_rows", n=len(rows) - rows_shown),
        issuer=issuer,
        issued=plain("certificate.issued", date=cert.issued_at.astimezone(tz).strftime("%Y-%m-%d")),
        verify=plain("certificate.verify", code=cert.code),
        verify_link=link,
    )


def caption(issued: certificate_actions.Issued) -> Say:
    """The words sent with the certificate: its number, the two kinds of hours, its verification code."""
    cert = issued.certificate
    return Say(
        "certificate.caption",
        {
            "number": cert.number,
            "verified": f"{cert.verified_hours or 0:g}",
            "reported": f"{cert.reported_hours or 0:g}",
            "code": cert.code,
        },
    )


async def verification(env: Env, code: str) -> Say:
    """What a verification code shows: the certificate's holder, period and hours (verified apart from
    self-reported), or that there is none; a certificate's number verifies nothing."""
    code = code.strip()
    if not code:
        return Say("certificate.verify_usage")
    try:
        cert = await certificate_actions.verify(env, code)
    except InvalidInput as exc:
        return Say(exc.reason)
    if cert is None:
        return Say("certificate.not_found", {"code": code[:24]})
    values: dict[str, Param] = {
        "number": cert.number,
        "name": cert.holder_name,
        "start": cert.period_from,
        "end": cert.period_to,
        "issued": cert.issued_at.astimezone(env.settings.tz).strftime("%Y-%m-%d"),
        "issuer": env.settings.certificate_issuer,
    }
    if cert.verified_hours is None or cert.reported_hours is None:  # issued before the two were told apart
        return Say("certificate.verified_total", {"hours": f"{cert.hours:g}", **values})
    return Say(
        "certificate.verified",
        {"verified": f"{cert.verified_hours:g}", "reported": f"{cert.reported_hours:g}", **values},
    )
