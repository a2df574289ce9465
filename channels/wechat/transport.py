"""The outbox sender's WeChat side: a notice goes out as a customer-service message while the person's window is
open (a quota the person opened: `storage.wechat`), otherwise (urgent and normal lanes) as the subscription notice
of its kind when `WECHAT_SUBSCRIBE_TEMPLATES` names one and the person accepted it (`channels.wechat.subscriptions`),
else as a template notice (when `WECHAT_TEMPLATE_NOTICE` is set), or it waits for the person to write again (bulk,
or neither) — for at most `HELD_FOR` (7 days) after it was queued: a digest or broadcast older than a week is no
longer news, so the sender drops it then, marked "expired: outside the WeChat customer-service window…".

A notice's photo (e.g. the volunteer's proof photo, taken on Telegram) follows its text as an image message when
the window has a slot left: its bytes come from `photo_bytes` (the saved file, or Telegram's copy), are uploaded
to WeChat's temporary media (a fresh media id each time: they expire after 3 days) and sent. Outside the window
the photo cannot come along (neither notice carries one): the notice's fields say where to see it (the catalogue's
`<key>.photo_hint`: the proof photo is sent when she opens that wish in 我的心愿, `conversation.show_wish`). A map
pin cannot be sent: the renderer adds the coordinates to the text.

WeChat's answers become the channel-neutral failures of `channels.delivery`: 45015/45047 (window over, although
we counted otherwise) close our window and fall back as above; unfollowed/unknown accounts are unreachable; a
busy WeChat or a network failure is retried; 45009 slows down; anything else is refused.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from actions.messages import Lane, Notice
from channels.delivery import Held, Sent
from channels.tencent_api import failure as tencent_failure
from channels.wechat import render, subscriptions
from channels.wechat.api import (
    FIELD_REFUSED,
    NOT_ACCEPTED,
    NOT_SUBSCRIBED,
    OUT_OF_COUNT,
    OUT_OF_WINDOW,
    RATE_LIMITED,
    TEMPLATE_UNKNOWN,
    WeChatApi,
    WeChatError,
)
from channels.wechat.roles import RoleMenus
from channels.wechat.uploads import INVALID_MEDIA, PhotoBytes, Uploads
from core.i18n import Catalogues
from core.keyed_locks import KeyedLocks
from core.settings import Settings
from storage import people, wechat
from storage.db import Database

log = logging.getLogger(__name__)

WECHAT = "wechat"
HOLD = dt.timedelta(minutes=10)
# A photo uploaded to WeChat is temporary media, valid 3 days: its id is reused (`channels.wechat.uploads`).
HELD_FOR = dt.timedelta(days=7)

# The catalogue key (the notice's key and this) of the words telling where to see a notice's photo that could not
# come along outside the window (`wish.notice_done.photo_hint`).
PHOTO_HINT = ".photo_hint"


def failure(exc: WeChatError) -> Exception:
    """WeChat's error as the sender understands it."""
    return tencent_failure(exc, api="wechat", unreachable=NOT_SUBSCRIBED, rate_limited=RATE_LIMITED)


class WeChatTransport:
    """Sends outbox notices to WeChat accounts (an address is the person's openid)."""

    channel = WECHAT
    name = "WeChat"

    def __init__(
        self,
        api: WeChatApi,
        catalogues: Catalogues,
        db: Database,
        settings: Settings,
        now: Callable[[], dt.datetime],
        photo_bytes: PhotoBytes | None = None,
        role_menus: RoleMenus | None = None,
        turns: KeyedLocks[str] | None = None,
    ) -> None:
        self._role_menus = role_menus
        # The channel's turns (`WeChatChannel.turns`): a notice goes out between a follower's messages, never while
        # one is handled, so the notice's numbered choices and the reply's step are written one after the other.
        self._turns = turns if turns is not None else KeyedLocks()
        self._api = api
        self._catalogues = catalogues
        self._db = db
        self._settings = settings
        self._now = now
        self._photo_bytes = photo_bytes
        self._uploads = Uploads(api, db, now)
        self._subscription_templates: dict[str, subscriptions.Template] | None = None

    async def take_turn(self, address: str, lane: Lane, *, adds_message: bool = True) -> None:
        """WeChat's customer-service API has no per-chat pace to keep; the window is checked in `send`."""

    async def withdraw(self, address: str, sent: Sent) -> bool:
        """WeChat's customer-service messages cannot be taken back."""
        return False

    async def send(self, address: str, language: str, notice: Notice, lane: Lane) -> None:
        """Deliver inside the window, as a template outside it, or hold it back (see the module docstring), in the
        follower's turn."""
        async with self._turns.turn(address):
            await self._send(address, language, notice, lane)

    async def _send(self, address: str, language: str, notice: Notice, lane: Lane) -> None:
        if notice.delete:
            return  # WeChat cannot take a message back; nothing is sent in its place
        if self._role_menus is not None:
            # A role given or taken on Telegram (an approval, a reporter invite): their menu follows before the news.
            async with self._db.read() as conn:
                person = await people.find_person(conn, WECHAT, address)
            if person is not None:
                await self._role_menus.sync(self._db, address, person.roles)
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
                if notice.media is not None:
                    await self._send_photo(address, notice.media)
                return
        template = self._settings.wechat_template_notice
        subscription = subscriptions.template_for(self._settings.wechat_subscribe_templates, notice.key)
        if lane == "bulk" or not (template or subscription):
            raise Held(f"{wechat.HELD_PREFIX}: waiting for the person to write", retry_in=HOLD, expire_after=HELD_FOR)
        # A photo cannot come along: the fields say where she sees it (the proof photo: her wish, in 我的心愿).
        hint_key = notice.key + PHOTO_HINT
        has_hint = notice.media is not None and self._catalogues.has(language, hint_key)
        hint = render.text(self._catalogues, language, hint_key) if has_hint else None
        fields = render.template_fields(rendered, notice, now=now, tz=self._settings.tz, photo_hint=hint)
        if subscription and await self._subscribed(address, subscription, fields, now):
            return
        if not template:
            raise Held(f"{wechat.HELD_PREFIX}: waiting for the person to write", retry_in=HOLD, expire_after=HELD_FOR)
        try:
            await self._api.send_template(address, template, self._settings.wechat_template_url, fields)
        except WeChatError as exc:
            raise failure(exc) from exc

    async def _subscribed(self, address: str, template_id: str, fields: dict[str, str], now: dt.datetime) -> bool:
        """Send the notice as a subscription notice when the person accepted its template; False when they did not
        (or withdrew, which WeChat tells by 43101: forgotten here too) and it goes another way. A one-time
        acceptance is used up by the notice."""
        async with self._db.read() as conn:
            accepted = template_id in await wechat.subscriptions_of(conn, address)
        if not accepted:
            return False
        try:
            template = (await self._templates()).get(template_id)
        except WeChatError as exc:
            log.warning("the account's subscription templates could not be read: %s", exc)
            return False
        if template is None:
            log.warning("WECHAT_SUBSCRIBE_TEMPLATES names a template the account does not have")
            return False
        when = now.astimezone(self._settings.tz)
        try:
            await self._api.send_subscription(
                address, template_id, render.subscription_fields(fields, template.keywords, when=when)
            )
        except WeChatError as exc:
            if exc.errcode == NOT_ACCEPTED:
                async with self._db.write() as conn:
                    await wechat.record_consent(conn, address, accepted=[], withdrawn=[template_id], now=now)
                return False
            if exc.errcode in (TEMPLATE_UNKNOWN, FIELD_REFUSED):
                # Deleted in the console since we asked, or a value its keyword does not take: the template
                # notice goes instead (the list is asked again next time).
                log.warning("a subscription notice was refused, the template notice goes instead: %s", exc)
                self._subscription_templates = None
                return False
            raise failure(exc) from exc
        if not template.long_term:
            async with self._db.write() as conn:
                await wechat.record_consent(conn, address, accepted=[], withdrawn=[template_id], now=now)
        return True

    async def _templates(self) -> dict[str, subscriptions.Template]:
        """The account's subscription templates, asked once (they change only in the account's console)."""
        if self._subscription_templates is None:
            self._subscription_templates = subscriptions.templates_of(await self._api.subscription_templates())
        return self._subscription_templates

    async def _uploaded(self, media_id: int, content: bytes, *, refused: str | None = None) -> str:
        """WeChat's id of the photo, uploaded once within its life (`channels.wechat.uploads`)."""
        return await self._uploads.media_id(media_id, content, refused=refused)

    async def _send_photo(self, address: str, media_id: int) -> None:
        """The notice's photo as an image message after its text (the text went: a photo that cannot follow is
        left out, never retried as the whole notice)."""
        if self._photo_bytes is None:
            return
        try:
            content = await self._photo_bytes(media_id)
        except Exception:
            log.warning("the photo of a notice could not be read for WeChat", exc_info=True)
            return
        if not content:
            return  # erased, or never saved
        async with self._db.write() as conn:
            if not await wechat.take_window_slot(conn, address, now=self._now()):
                log.info("a notice's photo was left out: the WeChat window has no message left")
                return
        try:
            uploaded = await self._uploaded(media_id, content)
            try:
                await self._api.send_custom(render.image_message(address, uploaded))
            except WeChatError as exc:
                if exc.errcode != INVALID_MEDIA:
                    raise
                # WeChat no longer knows the id we kept (it lives 3 days): upload once more.
                uploaded = await self._uploaded(media_id, content, refused=uploaded)
                await self._api.send_custom(render.image_message(address, uploaded))
        except WeChatError as exc:
            log.warning("a notice's photo was not sent to WeChat: %s", exc)
            async with self._db.write() as conn:
                await wechat.give_back_slot(conn, address)
