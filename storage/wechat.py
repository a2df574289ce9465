"""What the WeChat channel keeps: callbacks received (de-duplicated, handled once, recovered after a restart), each
account's customer-service window, the conversation of each account, and one-time /link codes.

WeChat retries a callback it got no answer to within 5 seconds (three times, same MsgId); `record_inbound` stores
it before `success` is answered and says whether it was new, so a retry is answered and not handled again. WeCom's
callbacks (`channels.wecom.server`) are kept the same way in the same table, their keys starting with `WECOM_KEYS`.

The window: customer-service messages may reach a person only within a quota their own action opened. WeChat's
rules since 2023-06-12 (the 客服消息 page of the official-account docs and the platform's announcement): a message
they send opens 5 messages within 48 hours; a menu click, a follow, a QR-code scan or a tap on a menu-message item
opens 3 within 1 minute, and no 48-hour quota. Quotas do not add up: a message sent counts against every quota
still running. `opened(kind=…)` resets one quota; `take_window_slot` counts one message out in the caller's
transaction, or refuses when no quota has a message left — the channel then sends a template notice or waits.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import conversation_states, identities, outbox, wechat_inbound, wechat_windows

# How `channels.wechat.transport` marks a notice it holds back until the person writes (outbox.last_error).
HELD_PREFIX = "outside the WeChat customer-service window"
WECOM_KEYS = "wecom:"  # the keys of WeCom's callbacks in `wechat_inbound` (the column `openid` holds the userid)
WINDOW = dt.timedelta(hours=48)
WINDOW_MESSAGES = 5
CLICK_WINDOW = dt.timedelta(minutes=1)
CLICK_MESSAGES = 3
MESSAGE, CLICK = "message", "click"  # what opened a quota
CONVERSATION = "wechat"


@dataclass(frozen=True, slots=True)
class Inbound:
    """A stored callback waiting to be handled."""

    msg_key: str
    openid: str
    payload: str


async def record_inbound(conn: AsyncConnection, msg_key: str, openid: str, payload: str, *, now: dt.datetime) -> bool:
    """Store a callback; False when one with this key was stored before (WeChat's retry)."""
    found = await conn.execute(select(wechat_inbound.c.msg_key).where(wechat_inbound.c.msg_key == msg_key))
    if found.first() is not None:
        return False
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(wechat_inbound).values(msg_key=msg_key, openid=openid, payload=payload, received_at=now)
            )
    except IntegrityError:
        return False  # the same retry raced us here
    return True


async def mark_handled(conn: AsyncConnection, msg_key: str, *, now: dt.datetime) -> None:
    """The callback was handled: its text is no longer kept."""
    await conn.execute(
        update(wechat_inbound).where(wechat_inbound.c.msg_key == msg_key).values(handled_at=now, payload="")
    )


async def unhandled(conn: AsyncConnection, limit: int = 500, *, wecom: bool = False) -> list[Inbound]:
    """Callbacks stored but not handled (the bot stopped in between), oldest first: WeChat's, or with `wecom`
    WeCom's."""
    of_wecom = wechat_inbound.c.msg_key.startswith(WECOM_KEYS, autoescape=True)
    result = await conn.execute(
        select(wechat_inbound.c.msg_key, wechat_inbound.c.openid, wechat_inbound.c.payload)
        .where(wechat_inbound.c.handled_at.is_(None), of_wecom if wecom else ~of_wecom)
        .order_by(wechat_inbound.c.received_at, wechat_inbound.c.msg_key)
        .limit(limit)
    )
    return [Inbound(row.msg_key, row.openid, row.payload) for row in result]


# --- the customer-service window --------------------------------------------------------------------------------


async def opened(conn: AsyncConnection, openid: str, *, now: dt.datetime, kind: str = MESSAGE) -> None:
    """The person acted: a message they sent (`MESSAGE`) opens a fresh 5-in-48-hours quota; a menu click, follow, QR
    scan or menu-item tap (`CLICK`) a fresh 3-in-1-minute quota, leaving the other as it is."""
    values = {"last_inbound_at": now, "sent": 0} if kind == MESSAGE else {"click_at": now, "click_sent": 0}
    result = await conn.execute(update(wechat_windows).where(wechat_windows.c.openid == openid).values(**values))
    if not result.rowcount:
        await conn.execute(insert(wechat_windows).values(openid=openid, **values))


async def release_held(conn: AsyncConnection, openid: str, *, now: dt.datetime) -> int:
    """The person wrote: notices held back for their window are due now; how many."""
    person = select(identities.c.person_id).where(identities.c.channel == "wechat", identities.c.external_id == openid)
    result = await conn.execute(
        update(outbox)
        .where(
            outbox.c.recipient_id.in_(person.scalar_subquery()),
            outbox.c.status == "pending",
            outbox.c.not_before > now,
            outbox.c.last_error.startswith(HELD_PREFIX),
        )
        .values(not_before=now)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class Window:
    """An account's quotas as stored: when the person last wrote and last clicked, and what went out since each."""

    last_inbound_at: dt.datetime | None
    sent: int
    click_at: dt.datetime | None = None
    click_sent: int = 0

    def open_at(self, now: dt.datetime) -> bool:
        """Whether one more customer-service message may go out now."""
        writing = self.last_inbound_at is not None and now - self.last_inbound_at < WINDOW
        clicking = self.click_at is not None and now - self.click_at < CLICK_WINDOW
        return (writing and self.sent < WINDOW_MESSAGES) or (clicking and self.click_sent < CLICK_MESSAGES)


async def window_of(conn: AsyncConnection, openid: str) -> Window:
    """The account's window (never written: closed)."""
    row = (
        await conn.execute(
            select(
                wechat_windows.c.last_inbound_at,
                wechat_windows.c.sent,
                wechat_windows.c.click_at,
                wechat_windows.c.click_sent,
            ).where(wechat_windows.c.openid == openid)
        )
    ).first()
    if row is None:
        return Window(None, 0)
    return Window(row.last_inbound_at, int(row.sent), row.click_at, int(row.click_sent))


async def take_window_slot(conn: AsyncConnection, openid: str, *, now: dt.datetime) -> bool:
    """Count one customer-service message out against every quota still running (they do not add up); False
    (nothing counted) when no quota has a message left."""
    windows = wechat_windows.c
    writing = windows.last_inbound_at > now - WINDOW
    clicking = windows.click_at > now - CLICK_WINDOW
    result = await conn.execute(
        update(wechat_windows)
        .where(
            windows.openid == openid,
            or_(and_(writing, windows.sent < WINDOW_MESSAGES), and_(clicking, windows.click_sent < CLICK_MESSAGES)),
        )
        .values(
            sent=case((writing, windows.sent + 1), else_=windows.sent),
            click_sent=case((clicking, windows.click_sent + 1), else_=windows.click_sent),
        )
    )
    return bool(result.rowcount)


async def give_back_slot(conn: AsyncConnection, openid: str) -> None:
    """A counted message was not sent after all (WeChat refused it): its place in the window is free again."""
    windows = wechat_windows.c
    await conn.execute(
        update(wechat_windows)
        .where(windows.openid == openid)
        .values(
            sent=case((windows.sent > 0, windows.sent - 1), else_=0),
            click_sent=case((windows.click_sent > 0, windows.click_sent - 1), else_=0),
        )
    )


async def close_window(conn: AsyncConnection, openid: str) -> None:
    """WeChat said the window is over (45015/45047) although we counted otherwise: believe it."""
    await conn.execute(
        update(wechat_windows)
        .where(wechat_windows.c.openid == openid)
        .values(sent=WINDOW_MESSAGES, click_sent=CLICK_MESSAGES)
    )


# --- conversations ------------------------------------------------------------------------------------------------


def _key(openid: str) -> str:
    return json.dumps([openid])


async def conversation_of(conn: AsyncConnection, openid: str) -> dict[str, Any] | None:
    """The account's conversation in progress (step and draft), or None."""
    row = (
        await conn.execute(
            select(conversation_states.c.state).where(
                conversation_states.c.name == CONVERSATION, conversation_states.c.key == _key(openid)
            )
        )
    ).first()
    return dict(row.state) if row is not None and isinstance(row.state, dict) else None


async def save_conversation(conn: AsyncConnection, openid: str, state: dict[str, Any] | None) -> None:
    """Store the account's conversation (None: it ended)."""
    await _keep(conn, CONVERSATION, openid, state)


async def remember_choices(conn: AsyncConnection, openid: str, choices: dict[str, str]) -> None:
    """The numbered choices of the menu the account was sent last (a notice's), so a typed number picks from it."""
    state = await conversation_of(conn, openid) or {}
    state["choices"] = dict(choices)
    await save_conversation(conn, openid, state)


# --- what is kept per follower besides the conversation -------------------------------------------------------------

MENU_TAG = "wechat_menu"  # `conversation_states.name` of the role-menu tag each follower was given
INVITE = "wechat_invite"  # `conversation_states.name` of the volunteer invite a follower scanned


async def _kept(conn: AsyncConnection, name: str, openid: str) -> dict[str, Any]:
    row = (
        await conn.execute(
            select(conversation_states.c.state).where(
                conversation_states.c.name == name, conversation_states.c.key == _key(openid)
            )
        )
    ).first()
    return dict(row.state) if row is not None and isinstance(row.state, dict) else {}


async def _keep(conn: AsyncConnection, name: str, openid: str, state: dict[str, Any] | None) -> None:
    """Write (or with None delete) one of the follower's kept states in one statement: an upsert, so two writers
    at once (a reply's step and a notice's choices) never collide on the key as a delete-then-insert did on
    PostgreSQL ("duplicate key … pk_conversation_states")."""
    if state is None:
        where = (conversation_states.c.name == name, conversation_states.c.key == _key(openid))
        await conn.execute(delete(conversation_states).where(*where))
        return
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = upsert(conversation_states).values(name=name, key=_key(openid), state=state)
    await conn.execute(
        statement.on_conflict_do_update(index_elements=["name", "key"], set_={"state": statement.excluded.state})
    )


async def menu_tag_of(conn: AsyncConnection, openid: str) -> int | None:
    """The id of the role-menu tag the follower was given (`channels.wechat.roles`), or None."""
    tag = (await _kept(conn, MENU_TAG, openid)).get("tag")
    return tag if isinstance(tag, int) else None


async def set_menu_tag(conn: AsyncConnection, openid: str, tag: int | None) -> None:
    """Remember the role-menu tag the follower now carries (None: none of ours)."""
    await _keep(conn, MENU_TAG, openid, None if tag is None else {"tag": tag})


async def invite_of(conn: AsyncConnection, openid: str) -> str | None:
    """The code of the volunteer invite the follower scanned last and has not used yet, or None."""
    code = (await _kept(conn, INVITE, openid)).get("code")
    return code if isinstance(code, str) else None


async def keep_invite(conn: AsyncConnection, openid: str, code: str | None) -> None:
    """Keep the volunteer invite a follower scanned for their registration (None: forget it)."""
    await _keep(conn, INVITE, openid, None if code is None else {"code": code})


# --- subscription notices (订阅通知) --------------------------------------------------------------------------------

SUBSCRIPTIONS = "wechat_subscriptions"  # `conversation_states.name` of the templates a follower accepted


async def subscriptions_of(conn: AsyncConnection, openid: str) -> dict[str, str]:
    """The subscription templates the follower accepted and has not withdrawn: template id → when (ISO time)."""
    kept = (await _kept(conn, SUBSCRIPTIONS, openid)).get("accepted")
    return {str(k): str(v) for k, v in kept.items()} if isinstance(kept, dict) else {}


async def record_consent(
    conn: AsyncConnection, openid: str, *, accepted: list[str], withdrawn: list[str], now: dt.datetime
) -> None:
    """What the follower decided in a subscription popup or the 服务通知 settings: `accepted` templates may be sent
    (from `now`), `withdrawn` ones no longer."""
    current = await subscriptions_of(conn, openid)
    current.update({template: now.isoformat() for template in accepted})
    for template in withdrawn:
        current.pop(template, None)
    await _keep(conn, SUBSCRIPTIONS, openid, {"accepted": current} if current else None)
