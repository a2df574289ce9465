"""The application's callback URL (接收消息服务器, developer.work.weixin.qq.com/document/path/90238 "接收消息与事件"
and path/90930 "回调配置"): `GET /wecom` (WeCom checks the URL: `msg_signature`, `timestamp`, `nonce` and an
encrypted `echostr`, answered with the decrypted echostr) and `POST /wecom` (encrypted XML messages and events),
on `WECOM_PORT`. The encryption is WeChat's safe mode with the corp id as receiver (wechatpy's
`wechatpy.enterprise.crypto.WeChatCrypto`); WeCom has no plain mode.

Every request is checked before anything else, and refused with 403 changing nothing: its `msg_signature` (over
the token, timestamp, nonce and the encrypted text; a body encrypted for another corp id is refused too), then
the freshness rules WeChat's callback keeps (`channels.freshness`: a timestamp at most 5 minutes from the bot's
clock, a nonce not seen within that window). The sender's userid is bounded (`WECOM_USERID`), and the same flood
guard as Telegram's and WeChat's counts each member's callbacks (`rules.limits.MessageRate`): past 30 a minute a
callback is answered and not handled. A callback is stored before it is answered (`storage.wechat.record_inbound`,
in WeChat's table under a `wecom:` key made from its MsgId or its press's ResponseCode: `callback_key`),
then answered (an empty 200: WeCom waits 5 seconds and retries 3 times) and handled after, a member's callbacks one
at a time, in order: a retry of a stored callback is answered and not handled again, one that cannot be stored is
not answered (WeCom sends it again), and those stored but not handled when the bot stopped are handled at start.

Handled: a press on a case card's 签收 acknowledges the case through `actions.cases.acknowledge` (a member of its
department; a later press is told who took it) and sends the member the card of the case they hold (办结 / 退回).
A press on a review card (`template_card_event`, `channels.wecom.cards`): 通过 approves the wish through
`actions.wishes`; 退回 runs the layer's rejection (`conversations/rejection.py`, through
`channels.wecom.conversing`): the reason the resident will read is asked (取消 keeps the wish waiting), and the
member's next message is it. Applications, 办结 / 退回 of a case and the whistle are
`channels.wecom.work`, which also keeps the questions asked after a press in the database and updates the cards of
subjects decided elsewhere (`CardWork.sweep`). 群发 runs the broadcast written once (`conversations/broadcast.py`)
through `channels.wecom.conversing`. Any other message is answered with what the application does so far.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from typing import Any

import xmltodict
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from actions import cases as case_actions
from actions import wishes as wish_actions
from actions.env import Env
from channels.freshness import Freshness
from channels.wecom.api import WeComApi, WeComError
from channels.wecom.cards import ACKNOWLEDGE, APPROVE, KEY, REJECT, case_key, wish_key
from channels.wecom.conversing import Conversing
from channels.wecom.desk import Desk
from channels.wecom.work import RESOLVE_FORM, SWEEP_SECONDS, CardWork
from conversations.rejection import WISH
from core.clock import LoopTimer, Timer, within
from core.i18n import Catalogues
from core.keyed_locks import KeyedLocks
from core.settings import WECOM_USERID
from rules.cases import case_ref
from rules.limits import MessageRate, RateVerdict
from rules.roles import GRANTABLE_BY_ADMIN, Role, effective_roles
from rules.wishes import Actor, wish_ref
from storage import audit, cases, people, users, wishes
from storage import wechat as wechat_store
from storage import wecom as wecom_cards
from storage.errors import Conflict, NotAllowed, NotFound
from storage.people import WECOM
from storage.users import User

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
ANSWER_WITHIN = 4.0
CARD_EVENT = "template_card_event"
REVIEW_ACTIONS = ("wish.approve", "wish.reject")  # the audit entries that name who decided a wish


class WeComChannel:
    """The WeCom application of one bot process: callback server, review cards, replies."""

    def __init__(self, env: Env, catalogues: Catalogues, api: WeComApi, *, timer: Timer | None = None) -> None:
        settings = env.settings
        assert settings.wecom_token is not None
        assert settings.wecom_aes_key is not None
        assert settings.wecom_corp_id
        self._env = env
        self._catalogues = catalogues
        self.api = api
        self._timer = timer or LoopTimer()
        self._crypto = WeChatCrypto(
            settings.wecom_token.get_secret_value(), settings.wecom_aes_key.get_secret_value(), settings.wecom_corp_id
        )
        self._admins = settings.wecom_admin_userids
        self._freshness = Freshness(env.now)
        self._rate = MessageRate()
        self._turns: KeyedLocks[str] = KeyedLocks()  # one member's callbacks one at a time, in order
        self._decisions: KeyedLocks[str] = KeyedLocks()  # one wish's (or case's) presses one at a time
        self.env = env
        self.catalogues = catalogues
        self.decisions = self._decisions
        self.work = CardWork(self, settings.media_dir)
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.desk = Desk(env, catalogues, api, self.say, self.roles_of)  # the menu and the typed entries
        self.conversing = Conversing(  # the layer's conversations (群发, 退回 reasons)
            env,
            catalogues,
            self.say,
            hold=lambda subject: self._decisions.turn(self.work.key_of(subject)),
            refresh=self.work.refresh,
            save_photo=self.work.save_photo,
            conversations=(RESOLVE_FORM,),
        )
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.handled = 0

    # -- lifecycle --------------------------------------------------------------------------------------------------

    def web_app(self) -> web.Application:
        """The aiohttp application with the callback routes."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/wecom", self._verify)
        app.router.add_post("/wecom", self._callback)
        return app

    async def start(self, host: str, port: int) -> None:
        """Listen for callbacks."""
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("WeCom callbacks on port %s", self.port)
        async with self._env.db.read() as conn:
            left = await wechat_store.unhandled(conn, wecom=True)
        for inbound in left:  # stored, then the bot stopped before handling them
            self._schedule(inbound)
        await self.desk.install_menu()
        self._sweeper = asyncio.create_task(self._sweep_every(), name="wecom-card-sweep")

    async def _sweep_every(self) -> None:
        """Update the cards of subjects decided elsewhere, every `SWEEP_SECONDS` of the bot's timer."""
        while True:
            await self._timer.sleep(SWEEP_SECONDS)
            try:
                await self.work.sweep()
            except Exception:
                log.exception("the WeCom card sweep failed")

    async def stop(self) -> None:
        """Stop listening, let the handling in progress finish (briefly), close the API session."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._tasks:
            await within(self._timer, asyncio.wait(list(self._tasks)), 10)
        await self.api.close()

    async def idle(self) -> None:
        """Until every callback received has been handled (for tests)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    # -- HTTP -------------------------------------------------------------------------------------------------------

    async def _verify(self, request: web.Request) -> web.Response:
        query = request.query
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        try:
            echo = self._crypto.check_signature(
                query.get("msg_signature", ""), timestamp, nonce, query.get("echostr", "")
            )
        except (InvalidSignatureException, InvalidCorpIdException):
            return web.Response(status=403, text="invalid signature")
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400, text="unreadable")
        if (refused := self._freshness.refusal(timestamp, nonce)) is not None:
            return web.Response(status=403, text=refused)
        return web.Response(text=echo.decode() if isinstance(echo, bytes) else str(echo))

    async def _callback(self, request: web.Request) -> web.Response:
        query = request.query
        body = await request.text()
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        try:
            xml = self._crypto.decrypt_message(body, query.get("msg_signature", ""), timestamp, nonce)
        except (InvalidSignatureException, InvalidCorpIdException):
            return web.Response(status=403, text="invalid signature")
        except Exception:
            return web.Response(status=400, text="unreadable")
        if (refused := self._freshness.refusal(timestamp, nonce)) is not None:
            return web.Response(status=403, text=refused)
        try:
            data: dict[str, Any] = dict(xmltodict.parse(xml)["xml"])
        except Exception:
            return web.Response(status=400, text="unreadable")
        userid = str(data.get("FromUserName") or "")
        if not WECOM_USERID.fullmatch(userid):
            return web.Response(status=400, text="no sender")
        if self._rate.record(userid, self._env.now()) is not RateVerdict.OK:
            return web.Response(text="")  # answered, not handled: the member is sending too fast
        key = callback_key(userid, data)
        try:
            async with self._env.db.write() as conn:
                new = await wechat_store.record_inbound(conn, key, userid, xml, now=self._env.now())
        except Exception:
            log.exception("a WeCom callback could not be stored")
            return web.Response(status=500, text="not stored")  # not answered: WeCom sends it again
        if new:  # a retry of one stored before is answered, not handled again
            self._schedule(wechat_store.Inbound(key, userid, xml))
        return web.Response(text="")

    def _schedule(self, inbound: wechat_store.Inbound) -> None:
        task = asyncio.create_task(self._handle(inbound), name="wecom-callback")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- handling ---------------------------------------------------------------------------------------------------

    async def _handle(self, inbound: wechat_store.Inbound) -> None:
        userid = inbound.openid
        async with self._turns.turn(userid):
            try:
                data: dict[str, Any] = dict(xmltodict.parse(inbound.payload)["xml"])
                person = await self._person(userid)
                event = data.get("MsgType") == "event"
                if event and await self.desk.handle(userid, person, data):
                    pass  # a tap on the menu (统计, 导出 …): answered there
                elif event and data.get("Event") == CARD_EVENT:
                    await self._press(userid, person, data)
                elif event or await self.conversing.answer(userid, person.language, self.actor(userid, person), data):
                    pass  # another event, or the next step of a conversation of the layer (群发)
                elif await self.work.answer(userid, person, data):
                    pass  # the answer to a question a press asked (a reason that begins 案件…)
                elif await self.conversing.begin(userid, person.language, self.actor(userid, person), data):
                    pass  # a conversation of the layer begun (群发)
                elif not await self.desk.handle(userid, person, data):  # a typed entry (统计 30天, 导出 心愿 …)
                    await self.say(userid, self._t(person.language, "wecom.text_reply"))
                await self.work.sweep()
            except Exception:
                log.exception("a WeCom callback could not be handled")
            async with self._env.db.write() as conn:
                await wechat_store.mark_handled(conn, inbound.msg_key, now=self._env.now())
            self.handled += 1

    async def _person(self, userid: str) -> User:
        async with self._env.db.write() as conn:
            person = await people.find_person(conn, WECOM, userid)
            if person is None:
                person = await people.person_for_identity(
                    conn,
                    WECOM,
                    userid,
                    first_name=userid,
                    language=self._env.settings.default_language,
                    now=self._env.now(),
                )
        return person

    def actor(self, userid: str, person: User) -> Actor:
        """The member acting, with their roles now."""
        return Actor(person.id, self.roles_of(userid, person))

    def roles_of(self, userid: str, person: User) -> frozenset[Role]:
        """The member's roles now: what was granted, and admin when `WECOM_ADMIN_USERIDS` names them."""
        roles = set(effective_roles(person.roles, None, ()))
        if userid in self._admins:
            roles.add(Role.ADMIN)
            roles.update(GRANTABLE_BY_ADMIN)
        return frozenset(roles)

    async def _press(self, userid: str, person: User, data: dict[str, Any]) -> None:
        """A review card's button: decide the wish, update every recipient's card, or say who already decided."""
        lang = person.language
        matched = KEY.fullmatch(str(data.get("EventKey") or ""))
        if matched is None:
            return  # not a button of ours: nothing to do, nothing changed
        wish_id = int(matched[2])
        actor = self.actor(userid, person)
        if matched[1] not in (ACKNOWLEDGE, APPROVE, REJECT):
            await self.work.press(userid, person, actor, matched[1], wish_id, matched[3])
            return
        if matched[1] == ACKNOWLEDGE:
            await self._acknowledge(userid, person, actor, wish_id)
            return
        if not actor.is_coordinator:
            await self.say(userid, self._t(lang, "wecom.not_staff"))
            return
        if matched[1] != APPROVE:
            await self._ask_reason(userid, lang, actor, wish_id)
            return
        await self._approve(userid, person, actor, wish_id)

    async def _ask_reason(self, userid: str, lang: str, actor: Actor, wish_id: int) -> None:
        """退回 pressed: the layer's rejection (conversations/rejection.py) asks for the reason the resident will
        read (the wish waits meanwhile; `channels.wecom.conversing` takes the answer); a wish decided already: who."""
        started = await WISH.start(self._env, actor, wish_id)
        if started.state is not None:
            await self.conversing.show(userid, lang, started)
        else:
            await self._already(userid, lang, wish_id)

    async def _approve(self, userid: str, person: User, actor: Actor, wish_id: int) -> None:
        """通过 through the action Telegram's review uses, then every recipient's card says who."""
        lang = person.language
        async with self._decisions.turn(wish_key(wish_id)):
            try:
                changed = await wish_actions.approve(self._env, actor, wish_id)
            except (Conflict, NotFound):
                await self._already(userid, lang, wish_id)
                return
            except NotAllowed:
                await self.say(userid, self._t(lang, "wecom.not_staff"))
                return
            await self._decided(wish_key(wish_id), person, lang, "wecom.decided.approved")
        await self.say(userid, self._t(lang, "wecom.approved", ref=wish_ref(changed.wish.ref_no)))

    async def _decided(self, subject: str, person: User, lang: str, label: str) -> None:
        """Update every recipient's card to say who decided."""
        await self.update_cards(subject, self._t(lang, label, name=person.display_name))

    async def update_cards(self, subject: str, label: str) -> None:
        """Turn every recipient's card of the subject into `label` (each response code once, within 72 hours;
        a button's text is at most 10 characters, path/94888)."""
        replace = label[:10]
        async with self._env.db.write() as conn:
            taken = await wecom_cards.take_cards(conn, subject, now=self._env.now())
        for card in taken:
            try:
                await self.api.update_card_button([card.userid], card.response_code, replace)
            except WeComError as exc:
                log.warning("a WeCom card was not updated: %s", exc)

    async def _acknowledge(self, userid: str, person: User, actor: Actor, case_id: int) -> None:
        """签收 on a case card: the same action as Telegram's; every member's card then says who took it."""
        lang = person.language
        subject = case_key(case_id)
        async with self._decisions.turn(subject):
            try:
                shown = await case_actions.acknowledge(self._env, actor, case_id)
            except NotFound:
                return  # a case that is gone (erased): nothing to take
            except Conflict:
                async with self._env.db.read() as conn:
                    case = await cases.get_case(conn, case_id)
                    taker = await users.get_user(conn, case.acknowledged_by) if case.acknowledged_by else None
                ref = case_ref(case.ref_no)
                if taker is not None:
                    await self.say(userid, self._t(lang, "wecom.case.already", ref=ref, name=taker.display_name))
                else:  # handed back or resolved without a taker on record: where it stands
                    await self.work.case_moved(userid, lang, await case_actions.view(self._env, case_id))
                return
            except NotAllowed:
                await self.say(userid, self._t(lang, "wecom.case.not_member"))
                return
            await self._decided(subject, person, lang, "wecom.decided.acknowledged")
        await self.say(userid, self._t(lang, "wecom.case.acknowledged", ref=shown.ref))
        await self.work.holder_card(userid, person, case_id)

    async def _already(self, userid: str, lang: str, wish_id: int) -> None:
        """A press on a wish someone already decided: who (from the review's audit entry), or its status."""
        async with self._env.db.read() as conn:
            try:
                wish = await wishes.get_wish(conn, wish_id)
            except NotFound:
                return
            ref = wish_ref(wish.ref_no)
            decider = await audit.last_actor(conn, REVIEW_ACTIONS, ref)
            person = await users.get_user(conn, decider) if decider is not None else None
        if person is not None:
            await self.say(userid, self._t(lang, "wecom.decided.already", ref=ref, name=person.display_name))
        else:
            await self.say(userid, self._t(lang, "wecom.decided.already_unknown", ref=ref, status=wish.status))

    def _t(self, language: str, key: str, **values: object) -> str:
        return self._catalogues.text(language, key, **values)

    def text(self, language: str, key: str, **values: object) -> str:
        """A catalogue text in the member's language."""
        return self._catalogues.text(language, key, **values)

    async def send_card(self, userid: str, subject: str, content: dict[str, Any]) -> bool:
        """A template card to one member, its response code kept for the subject's update; False when refused."""
        try:
            answer = await self.api.send(userid, "template_card", content)
        except WeComError as exc:
            log.warning("a card to a WeCom member was refused: %s", exc)
            return False
        if code := str(answer.get("response_code") or ""):
            async with self._env.db.write() as conn:
                await wecom_cards.card_sent(conn, subject, userid, code, now=self._env.now())
        return True

    async def say(self, userid: str, text: str) -> bool:
        """A text message to one member; False when WeCom refused it."""
        try:
            await self.api.send(userid, "text", {"content": text})
        except WeComError as exc:
            log.warning("a reply to a WeCom member was refused: %s", exc)
            return False
        return True


def callback_key(userid: str, data: dict[str, Any]) -> str:
    """The stored callback's key, the same for WeCom's retries of it: a message by its MsgId, a card press by its
    ResponseCode (one per press, path/90240); hashed to fit the column. Another event (a menu tap) carries no id:
    its time is in seconds, so two taps within a second would look like one retried, and it gets a key of its own
    (stored and recovered, not de-duplicated: a retried tap of 待审 or 统计 answers twice, and changes nothing)."""
    if msg_id := str(data.get("MsgId") or ""):
        what = f"m{msg_id}"
    elif code := str(data.get("ResponseCode") or ""):
        what = f"r{code}"
    else:
        what = f"e{uuid.uuid4().hex}"
    digest = hashlib.sha256(f"{userid}\n{what}".encode()).hexdigest()[:40]
    return f"{wechat_store.WECOM_KEYS}{digest}"
