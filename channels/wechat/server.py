"""The account's callback URL: `GET /wechat` (WeChat checks the server) and `POST /wechat` (messages and events),
plain or AES "safe mode", on `WECHAT_PORT`.

Every request is checked before anything else, and refused with 403 changing nothing: its `signature` (wechatpy), its
timestamp and its nonce (`channels.freshness`, the rules WeCom's callback shares: at most 5 minutes from the bot's
clock, a nonce not seen within that window, so a logged callback URL replays nothing). With an EncodingAESKey configured
only safe mode is accepted: the body must be `encrypt_type=aes` with a valid `msg_signature`; leaving the parameter out
does not switch safe mode off. The sender's openid is bounded (`OPENID`), and the same flood guard as Telegram's counts
each follower's messages (`rules.limits.MessageRate`): past 30 a minute a callback is answered and not handled, and the
follower is told once. A callback is stored (`storage.wechat.record_inbound`, keyed by the follower and MsgId) and
answered `success` at once — never later than `ANSWER_WITHIN` seconds, even when the database is slow, since WeChat
gives up after 5 — and the real answer goes out as customer-service messages when the callback has been handled. A
retried callback (same MsgId) is answered `success` and not handled again. Callbacks of one account are handled in
order; what a restart interrupted is handled at the next start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import math
import re
from typing import Any

import xmltodict
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from actions.env import Env
from channels.freshness import Freshness
from channels.wechat import render, steps
from channels.wechat.api import INVALID_TICKET, WeChatApi, WeChatError
from channels.wechat.conversation import WECHAT, Conversation, menu, quota_opened
from channels.wechat.render import Reply
from channels.wechat.roles import RoleMenus
from channels.wechat.uploads import PhotoBytes, Uploads
from conversations.activities import CHECKIN_SCENE
from conversations.certificate import verification
from core.clock import LoopTimer, Timer, within
from core.i18n import Catalogues
from core.keyed_locks import KeyedLocks
from rules.limits import MessageRate, RateVerdict
from storage import wechat
from storage.invites import Invite

log = logging.getLogger(__name__)

ANSWER_WITHIN = 4.0
SUCCESS = "success"
MAX_BODY = 64 * 1024
# WeChat openids are 28 characters of this alphabet; anything longer or stranger is not WeChat's.
OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class WeChatChannel:
    """The WeChat service account of one bot process: callback server, conversations, replies."""

    def __init__(
        self,
        env: Env,
        catalogues: Catalogues,
        api: WeChatApi,
        *,
        timer: Timer | None = None,
        photo_bytes: PhotoBytes | None = None,
    ) -> None:
        settings = env.settings
        self._timer = timer or LoopTimer()
        assert settings.wechat_token is not None
        assert settings.wechat_app_id
        self._env = env
        self._catalogues = catalogues
        self.api = api
        self._token = settings.wechat_token.get_secret_value()
        aes = settings.wechat_aes_key
        self._crypto = WeChatCrypto(self._token, aes.get_secret_value(), settings.wechat_app_id) if aes else None
        self.role_menus = RoleMenus(api, catalogues, settings.default_language, now=env.now)
        self.conversation = Conversation(
            env,
            catalogues,
            api.download_media,
            settings.media_dir,
            self.role_menus,
            Uploads(api, env.db, env.now),
            photo_bytes,
        )
        # One follower's messages one at a time, in order; the outbox's notices to them take the same turns.
        self.turns: KeyedLocks[str] = KeyedLocks()
        self._freshness = Freshness(env.now)
        self._rate = MessageRate()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.handled = 0

    # -- lifecycle --------------------------------------------------------------------------------------------------

    def web_app(self) -> web.Application:
        """The aiohttp application with the callback routes."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/wechat", self._verify)
        app.router.add_post("/wechat", self._callback)
        app.router.add_get("/verify/{code}", self._verify_page)
        return app

    async def start(self, host: str, port: int) -> None:
        """Listen for callbacks, handle what a restart left unhandled, and set the custom menu."""
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        async with self._env.db.read() as conn:
            left = await wechat.unhandled(conn)
        for inbound in left:
            self._schedule(inbound)
        try:
            await self.api.create_menu(menu(self._catalogues, self._env.settings.default_language))
        except WeChatError as exc:
            log.warning("could not set the WeChat menu: %s", exc)
        try:
            await self.role_menus.setup()  # after the default menu: WeChat needs it first (65303)
        except WeChatError as exc:
            log.warning("could not set the WeChat role menus (tried again later): %s", exc)
        log.info("WeChat callbacks on port %s (%s)", self.port, "AES" if self._crypto else "plain")

    async def stop(self) -> None:
        """Stop listening, let the handling in progress finish (briefly), close the API session."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tasks:
            await within(self._timer, asyncio.wait(list(self._tasks)), 10)
        await self.api.close()

    async def idle(self) -> None:
        """Until every stored callback has been handled (for tests)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    # -- HTTP -------------------------------------------------------------------------------------------------------

    def _refusal(self, query: Any) -> str | None:
        """Why a request is not WeChat's, now (None: it is): a bad signature, a stale timestamp, a nonce seen before."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        try:
            check_signature(self._token, query.get("signature", ""), timestamp, nonce)
        except InvalidSignatureException:
            return "invalid signature"
        return self._freshness.refusal(timestamp, nonce)

    async def _verify(self, request: web.Request) -> web.Response:
        if (refused := self._refusal(request.query)) is not None:
            return web.Response(status=403, text=refused)
        return web.Response(text=request.query.get("echostr", ""))

    async def _callback(self, request: web.Request) -> web.Response:
        query = request.query
        body = await request.text()
        if (refused := self._refusal(query)) is not None:
            return web.Response(status=403, text=refused)
        try:
            if self._crypto is not None:
                # Safe mode is the account's setting, not the request's: a plain body is never taken.
                if query.get("encrypt_type") != "aes":
                    return web.Response(status=403, text="safe mode: only encrypted callbacks are accepted")
                xml = self._crypto.decrypt_message(
                    body, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
                )
            elif query.get("encrypt_type") == "aes":
                return web.Response(status=400, text="safe mode is not configured")
            else:
                xml = body
        except (InvalidSignatureException, InvalidAppIdException):
            return web.Response(status=403, text="invalid signature")
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400, text="unreadable")
        try:
            data: dict[str, Any] = dict(xmltodict.parse(xml)["xml"])
            message = parse_message(xml)
        except Exception:
            return web.Response(status=400, text="unreadable")
        openid = str(message.source or "")
        if not OPENID.fullmatch(openid):
            return web.Response(status=400, text="no sender")
        if not self._admit(openid):
            return web.Response(text=SUCCESS)  # answered, not handled: the follower is sending too fast
        # Messages carry a MsgId (unique per account, not across accounts); events do not: WeChat's advice is sender +
        # CreateTime (with the event and its key).
        event = f"{data.get('Event', '')}:{data.get('EventKey', '')}"
        key = f"{openid}:{message.id}" if message.id else f"{openid}:{data.get('CreateTime', '')}:{event}"
        stored = asyncio.ensure_future(self._store(key[:128], openid, xml, opens=quota_opened(data)))
        stored.add_done_callback(_report_failure)
        # Answer within WeChat's 5 seconds whatever happens: a slow store still finishes and is handled after.
        await within(self._timer, asyncio.shield(stored), ANSWER_WITHIN)
        return web.Response(text=SUCCESS)

    def _admit(self, openid: str) -> bool:
        """Count a follower's callback; False past the limit (told once a minute, with how long to wait)."""
        now = self._env.now()
        verdict = self._rate.record(openid, now)
        if verdict is RateVerdict.SLOW_DOWN:
            seconds = max(1, math.ceil((self._rate.free_at(openid) - now).total_seconds()))
            text = render.text(
                self._catalogues, self._env.settings.default_language, "limits.slow_down", seconds=seconds
            )
            task = asyncio.create_task(self._tell(openid, Reply(text)), name="wechat-slow-down")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return verdict is RateVerdict.OK

    async def _tell(self, openid: str, reply: Reply) -> None:
        await self.say(openid, reply)

    async def _store(self, key: str, openid: str, xml: str, *, opens: str | None = wechat.MESSAGE) -> None:
        """Keep the callback; `opens`: the reply quota the person's action opens (`quota_opened`; a report, none)."""
        now = self._env.now()
        async with self._env.db.write() as conn:
            new = await wechat.record_inbound(conn, key, openid, xml, now=now)
            released = 0
            if new and opens:
                await wechat.opened(conn, openid, now=now, kind=opens)
                released = await wechat.release_held(conn, openid, now=now)
        if new:
            self._schedule(wechat.Inbound(key, openid, xml))
        if released:
            self._env.wake()  # notices that waited for this person's window

    # -- handling ---------------------------------------------------------------------------------------------------

    def _schedule(self, inbound: wechat.Inbound) -> None:
        task = asyncio.create_task(self._handle(inbound), name=f"wechat-{inbound.msg_key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, inbound: wechat.Inbound) -> None:
        async with self.turns.turn(inbound.openid):
            try:
                data = dict(xmltodict.parse(inbound.payload)["xml"])
                replies = await self.conversation.handle(inbound.openid, data)
            except Exception:
                log.exception("a WeChat callback could not be handled")
                replies = [Reply(render.text(self._catalogues, self._env.settings.default_language, "wechat.error"))]
            for reply in replies:
                await self.say(inbound.openid, reply)
            async with self._env.db.write() as conn:
                await wechat.mark_handled(conn, inbound.msg_key, now=self._env.now())
            self.handled += 1

    async def invite_qr(self, invite: Invite) -> tuple[bytes, str]:
        """A parametric QR code for a team invite (its scene the invite's payload, e.g. `vinv_<code>`), living as
        long as the invite: its image and its scene. `WeChatError` when WeChat refuses."""
        seconds = int((invite.expires_at - self._env.now()).total_seconds())
        if seconds <= 0:
            raise WeChatError(INVALID_TICKET, "the invite has expired")
        code = await self.api.create_qr(invite.payload, expire_seconds=seconds)
        return await self.api.qr_image(code.ticket), invite.payload

    async def checkin_qr(self, code: str, expires_at: dt.datetime) -> bytes:
        """A temporary parametric QR code of an activity's check-in code (scene `ck_<code>`, living as long as the
        code): its image. A volunteer's scan checks in or out (`channels.wechat.activities.scanned`).
        `WeChatError` when WeChat refuses."""
        seconds = int((expires_at - self._env.now()).total_seconds())
        if seconds <= 0:
            raise WeChatError(INVALID_TICKET, "the check-in code has expired")
        qr = await self.api.create_qr(f"{CHECKIN_SCENE}{code}", expire_seconds=seconds)
        return await self.api.qr_image(qr.ticket)

    async def _verify_page(self, request: web.Request) -> web.Response:
        """The public page a certificate sent on WeChat links to: what its verification code shows (the same words
        as the bot's 核验 and Telegram's /verify), in the account's language. Read only."""
        code = request.match_info.get("code", "")[:24]
        said = await verification(self._env, code)
        language = self._env.settings.default_language
        text = steps.words(self._catalogues, language, said)
        title = render.text(self._catalogues, language, "certificate.title")
        body = "<br>".join(html.escape(line) for line in text.splitlines())
        page = (
            f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{body}</p></body></html>"
        )
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})

    async def say(self, openid: str, reply: Reply) -> bool:
        """Send one reply as a customer-service message (its text, then its image when it carries one), within the
        account's window; False when it did not go."""
        parts = [render.custom_message(openid, reply)] if reply.text or reply.choices else []
        if reply.image is not None:
            parts.append(render.image_message(openid, reply.image))
        for part in parts:
            async with self._env.db.write() as conn:
                if not await wechat.take_window_slot(conn, openid, now=self._env.now()):
                    log.warning("a reply to a WeChat account was not sent: its window is spent")
                    return False
            try:
                await self.api.send_custom(part)
            except WeChatError as exc:
                log.warning("a reply to a WeChat account was refused: %s", exc)
                return False
        return True


def _report_failure(task: asyncio.Future[None]) -> None:
    """A store that failed after `success` was answered (WeChat will not retry it): say so in the log."""
    if not task.cancelled() and task.exception() is not None:
        log.error("a WeChat callback could not be stored", exc_info=task.exception())


__all__ = ["WECHAT", "WeChatChannel"]
