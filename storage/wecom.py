"""WeCom cards waiting for an update (`wecom_cards`): the response code `message/send` gave for each recipient's
card updates it once, within 72 hours (developer.work.weixin.qq.com/document/path/94888). And the question a member
was asked after pressing a card's button (`wecom_questions`: why 退回, 办结's note or photo), one per member until
answered, cancelled or expired, so whichever instance receives the answer takes it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import wecom_cards, wecom_questions

CODE_LIFETIME = dt.timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class Card:
    """One recipient's card: their userid and the code that updates it."""

    userid: str
    response_code: str


@dataclass(frozen=True, slots=True)
class Question:
    """What a member was asked: its kind (`wish_reject`, `case_note`, …), about which record, and what they
    answered so far (`note`: 办结's note while its photo is asked for)."""

    kind: str
    subject_id: int
    note: str | None
    expires_at: dt.datetime


async def card_sent(conn: AsyncConnection, subject: str, userid: str, response_code: str, *, now: dt.datetime) -> None:
    """Keep a card's response code (and forget the codes that can no longer update anything)."""
    await conn.execute(delete(wecom_cards).where(wecom_cards.c.sent_at <= now - CODE_LIFETIME))
    await conn.execute(
        insert(wecom_cards).values(subject=subject, userid=userid, response_code=response_code, sent_at=now)
    )


async def take_cards(conn: AsyncConnection, subject: str, *, now: dt.datetime) -> list[Card]:
    """The subject's cards that can still be updated, taken (each code is used once): their rows are deleted, by
    whichever caller deletes them first (two instances never both take one)."""
    rows = (
        await conn.execute(
            delete(wecom_cards)
            .where(wecom_cards.c.subject == subject)
            .returning(wecom_cards.c.id, wecom_cards.c.userid, wecom_cards.c.response_code, wecom_cards.c.sent_at)
        )
    ).all()
    return [Card(row.userid, row.response_code) for row in sorted(rows) if now - row.sent_at < CODE_LIFETIME]


async def waiting_subjects(conn: AsyncConnection, *, now: dt.datetime) -> list[str]:
    """The subjects with cards that can still be updated (a sweep checks whether each was decided meanwhile)."""
    rows = await conn.execute(
        select(wecom_cards.c.subject).where(wecom_cards.c.sent_at > now - CODE_LIFETIME).distinct()
    )
    return sorted(str(subject) for subject in rows.scalars())


async def ask(
    conn: AsyncConnection,
    userid: str,
    kind: str,
    subject_id: int,
    *,
    now: dt.datetime,
    wait: dt.timedelta,
    note: str | None = None,
) -> None:
    """Ask the member a question (any earlier one of theirs is dropped: the newest press is the one answered)."""
    await conn.execute(delete(wecom_questions).where(wecom_questions.c.userid == userid))
    await conn.execute(
        insert(wecom_questions).values(
            userid=userid, kind=kind, subject_id=subject_id, note=note, asked_at=now, expires_at=now + wait
        )
    )


async def question(conn: AsyncConnection, userid: str) -> Question | None:
    """The member's open question, or None (an expired one included: the caller says it expired and forgets it)."""
    row = (
        await conn.execute(
            select(
                wecom_questions.c.kind,
                wecom_questions.c.subject_id,
                wecom_questions.c.note,
                wecom_questions.c.expires_at,
            ).where(wecom_questions.c.userid == userid)
        )
    ).first()
    return None if row is None else Question(str(row.kind), int(row.subject_id), row.note, row.expires_at)


async def forget_question(conn: AsyncConnection, userid: str) -> bool:
    """Drop the member's question; False when there was none (another instance took the answer first)."""
    result = await conn.execute(delete(wecom_questions).where(wecom_questions.c.userid == userid))
    return bool(result.rowcount)
