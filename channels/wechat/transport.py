"""The outbox sender's WeChat side: a notice goes out as a customer-service message while the person's window is
open (48 hours after their last message, at most 5 messages), otherwise as a template notice (urgent and normal
lanes, when `WECHAT_TEMPLATE_NOTICE` is set) or it waits for the person to write again (bulk, or no template).

WeChat's answers become the channel-neutral failures of `channels.delivery`: 45015/45047 (window over, although
we counted otherwise) close our window and fall back as above; unfollowed/unknown accounts are unreachable; a
busy WeChat or a network failure is retried; 45009 slows down; anything else is refused.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from actions.messages import Lane, Notice
from bot.i18n import Catalogues
from bot.settings import Settings
from channels.delivery import Held, Refused, SlowDown, Unavailable, Unreachable
from channels.wechat import render
from channels.wechat.api import BUSY, NOT_SUBSCRIBED, OUT_OF_COUNT, OUT_OF_WINDOW, RATE_LIMITED, WeChatApi, WeChatError
from storage import wechat
from storage.db import Database

log = logging.getLogger(__name__)

WECHAT = "wechat"
HOLD = dt.timedelta(minutes=10)


def failure(exc: WeChatError) -> Exception:
    """WeChat's error as the sender understands it."""
    reason = f"wechat {exc.errcode}: {exc.errmsg}"[:300]
    if exc.errcode in NOT_SUBSCRIBED:
        return Unreachable(reason)
    if exc.errcode in RATE_LIMITED:
        return SlowDown(reason)
    if exc.errcode == BUSY:
        return Unavailable(reason)
    return Refused(reason)


class WeChatTransport:
    """Sends outbox notices to WeChat accounts (an address is the person's openid)."""

    channel = WECHAT
    name = "WeChat"

    def __init__(
        self, api: WeChatApi, catalogues: Catalogues, db: Database, settings: Settings, now: Callable[[], dt.datetime]
    ) -> None:
        self._api = api
        self._catalogues = catalogues
        self._db = db
        self._settings = settings
        self._now = now

    async def take_turn(self, address: str, lane: Lane) -> None:
        """WeChat's customer-service API has no per-chat pace to keep; the window is checked in `send`."""

    async def send(self, address: str, language: str, notice: Notice, lane: Lane) -> None:
        """Deliver inside the window, as a template outside it, or hold it back (see the module docstring)."""
        rendered = render.render_notice(self._catalogues, language, notice)
        now = self._now()
        async with self._db.write() as conn:
            inside = await wechat.take_window_slot(conn, address, now=now)
        if inside:
            reply = render.Reply(rendered.text, tuple(rendered.choices))
            try:
                await self._api.send_custom(render.custom_message(address, reply))
            except WeChatError as exc:
                async with self._db.write() as conn:
                    if exc.errcode in (OUT_OF_WINDOW, OUT_OF_COUNT):
                        await wechat.close_window(conn, address)
                    else:
                        await wechat.give_back_slot(conn, address)
                if exc.errcode not in (OUT_OF_WINDOW, OUT_OF_COUNT):
                    raise failure(exc) from exc
            else:
                if reply.choices:
                    # Typing "1" now means this notice's first choice, not an older menu's.
                    numbered = {str(n): c.press for n, c in enumerate(reply.choices, start=1)}
                    async with self._db.write() as conn:
                        await wechat.remember_choices(conn, address, numbered)
                return
        template = self._settings.wechat_template_notice
        if lane == "bulk" or not template:
            raise Held(f"{wechat.HELD_PREFIX}: waiting for the person to write", retry_in=HOLD)
        fields = render.template_fields(rendered, notice, now=now, tz=self._settings.tz)
        try:
            await self._api.send_template(address, template, self._settings.wechat_template_url, fields)
        except WeChatError as exc:
            raise failure(exc) from exc
