"""WeCom cards waiting for an update (`wecom_cards`): the response code `message/send` gave for each recipient's
card updates it once, within 72 hours (developer.work.weixin.qq.com/document/path/94888)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import wecom_cards

CODE_LIFETIME = dt.timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class Card:
    """One recipient's card: their userid and the code that updates it."""

    userid: str
    response_code: str


async def card_sent(conn: AsyncConnection, subject: str, userid: str, response_code: str, *, now: dt.datetime) -> None:
    """Keep a card's response code (and forget the codes that can no longer update anything)."""
    await conn.execute(delete(wecom_cards).where(wecom_cards.c.sent_at <= now - CODE_LIFETIME))
    await conn.execute(
        insert(wecom_cards).values(subject=subject, userid=userid, response_code=response_code, sent_at=now)
    )


async def take_cards(conn: AsyncConnection, subject: str, *, now: dt.datetime) -> list[Card]:
    """The subject's cards that can still be updated, taken (each code is used once): their rows are deleted."""
    rows = (
        await conn.execute(
            select(wecom_cards.c.userid, wecom_cards.c.response_code, wecom_cards.c.sent_at)
            .where(wecom_cards.c.subject == subject)
            .order_by(wecom_cards.c.id)
        )
    ).all()
    await conn.execute(delete(wecom_cards).where(wecom_cards.c.subject == subject))
    return [Card(row.userid, row.response_code) for row in rows if now - row.sent_at < CODE_LIFETIME]
