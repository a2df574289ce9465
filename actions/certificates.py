"""Volunteer-service certificates: issued to a volunteer for a period from their confirmed hours, verified by
anyone with the code.

Effects:
  issue (a person with confirmed service in the period): a `certificates` row with the next number and a
    random verification code; audit `certificate.issue`. The PDF itself is drawn by the channel from the outcome
    (`rules.certificate_pdf`), in the person's language.
  verify (anyone, read only): the certificate behind a verification code. Only the random code verifies: the number
    is printed on every certificate and counts up, so a number alone gets `certificate.error.number_not_code` and
    reveals nothing (nor whether such a certificate exists).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from actions.env import Env
from rules.activities import InvalidInput, volunteer_number
from rules.wishes import Actor
from storage import audit, users
from storage import certificates as store
from storage import volunteers as volunteer_store
from storage.activities import ServiceLine
from storage.certificates import Certificate
from storage.errors import NotAllowed

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# A certificate's number as printed ("TX-2026-000001"), typed where its code belongs.
NUMBER = re.compile(r"TX-?\d{4}-?\d{1,6}", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Issued:
    """A new certificate and the service it lists."""

    certificate: Certificate
    lines: list[ServiceLine]


def period_of(word: str | None, now: dt.datetime, tz_name: str) -> tuple[dt.date, dt.date]:
    """The period a /certificate argument names: a year ("2026"), "all", or (none) this year so far."""
    today = now.astimezone(ZoneInfo(tz_name)).date()
    if word is None or not word.strip():
        return dt.date(today.year, 1, 1), today
    word = word.strip().lower()
    if word in ("all", "全部"):
        return dt.date(2000, 1, 1), today
    if word.isdecimal() and len(word) == 4 and 2000 <= int(word) <= today.year:
        year = int(word)
        return dt.date(year, 1, 1), min(today, dt.date(year, 12, 31))
    raise InvalidInput("certificate.error.period")


async def issue(env: Env, actor: Actor, period: tuple[dt.date, dt.date]) -> Issued:
    """Issue a certificate for the actor's confirmed service in the period (inclusive local dates)."""
    if actor.user_id is None:
        raise NotAllowed("nobody")
    tz = env.settings.tz
    since = dt.datetime.combine(period[0], dt.time(), tzinfo=tz).astimezone(dt.UTC)
    until = dt.datetime.combine(period[1] + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    now = env.now()
    async with env.db.write() as conn:
        lines = await store.service_lines(conn, actor.user_id, since=since, until=until)
        if not lines:
            raise InvalidInput("certificate.error.nothing")
        volunteer = await volunteer_store.find_volunteer(conn, actor.user_id)
        name = volunteer.name if volunteer is not None else (await users.get_user(conn, actor.user_id)).display_name
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        certificate = await store.issue(
            conn,
            code=code,
            holder_id=actor.user_id,
            holder_name=name,
            volunteer_no=volunteer_number(actor.user_id),
            period_from=period[0].isoformat(),
            period_to=period[1].isoformat(),
            verified_hours=round(sum(line.hours for line in lines if line.verified), 2),
            reported_hours=round(sum(line.hours for line in lines if not line.verified), 2),
            now=now,
        )
        await audit.record(
            conn, actor_id=actor.user_id, action="certificate.issue", subject=certificate.number, now=now
        )
    return Issued(certificate, lines)


async def verify(env: Env, code: str) -> Certificate | None:
    """The certificate behind a verification code (None: no such certificate); `InvalidInput` for a certificate's
    number, which verifies nothing."""
    code = code.strip()
    if NUMBER.fullmatch(code):
        raise InvalidInput("certificate.error.number_not_code")
    if len(code) != CODE_LENGTH:
        return None
    async with env.db.read() as conn:
        return await store.find_by_code(conn, code)
