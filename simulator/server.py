"""The Bot API simulator: an aiohttp server speaking Telegram's Bot API, and the implementations of its
methods.

A real ``telegram.Bot`` / ``Application`` is pointed at :attr:`BotApiSimulator.api_url` and talks HTTP to it
exactly as to api.telegram.org: form-encoded or multipart POSTs to ``/bot<token>/<method>`` and file
downloads from ``/file/bot<token>/<path>``. Each request is validated against the documented API
(:mod:`simulator.spec`), then checked the way Telegram checks content (text length, HTML entities, button
data, flood limits, blocked users) and finally applied to the in-memory world (:mod:`simulator.state`).
Every request is recorded so a test can assert a whole conversation stayed within what Telegram accepts.

Unknown methods answer 400, not Telegram's 404: PTB maps 404 to ``InvalidToken``, which would hide the real
mistake.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from core.clock import LoopTimer, Timer

from .flood import FloodControl, FloodLimits
from .html import EntityParseError, parse_html, utf16_len
from .people import Group, Person
from .spec import BotApiSpec, SpecError, UploadedFile, load_spec
from .state import (
    ApiError,
    BotMessage,
    ChatState,
    FileStore,
    RequestRecord,
    StoredFile,
    bad_request,
)
from .webhook import ALLOWED_PORTS, WebhookDelivery

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOWNLOAD = 20 * 1024 * 1024  # Bot API getFile limit
# How long Telegram keeps an update nobody fetched: the open-source Bot API server (github.com/tdlib/telegram-bot-api,
# telegram-bot-api/Client.cpp) stores a callback query for 150 s and any other update for a day (issue 30).
KEEP_UPDATE = 24 * 3600.0
KEEP_CALLBACK_QUERY = 150.0
_CONFLICT_POLLER = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_SENDING_METHODS_RE = re.compile(r"^(send[A-Z]\w*|copyMessages?|forwardMessages?)$")
# What `stall_writes` holds back: every method that puts something into a chat or changes what is there.
_WRITING_METHODS_RE = re.compile(
    r"^(send(?!ChatAction)[A-Z]\w*|copyMessages?|forwardMessages?|edit[A-Z]\w*|deleteMessages?)$"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_BOT_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Awaitable[Any]]


class _Pulse:
    """A broadcast wake-up: every ``fire()`` releases all current waiters (unlike a latched Event)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


@dataclass
class HeldAnswer:
    """One request Telegram has carried out but not answered yet (`BotApiSimulator.hold_answer`)."""

    method: str
    chat_id: int
    taken: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class _CallbackQuery:
    person: Person
    message: BotMessage
    data: str = ""
    answered: bool = False
    pressed_at: float = 0.0


class BotApiSimulator:
    """A local Telegram Bot API server plus the people and groups that use it."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "tongxin_bot",
        *,
        bot_name: str = "Tongxin",
        flood_limits: FloodLimits | None = None,
        clock: Callable[[], float] = time.time,
        timer: Timer | None = None,
        spec: BotApiSpec | None = None,
        answer_within: float = 10.0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        bot_id = token.split(":", 1)[0]
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id) if bot_id.isdigit() else 123456,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.spec = spec or load_spec()
        self.clock = clock  # message dates; tests may replace it to move time
        # Flood windows, the age of a press and `settle` run on the timer the bot paces by (virtual time in tests).
        self.timer = timer or LoopTimer()
        self.flood = FloodControl(flood_limits or FloodLimits(), self.timer.monotonic)
        # Telegram takes answerCallbackQuery only for a short while after the press (reports say 10-15 s; the
        # simulator takes the short end) and then answers "query is too old".
        self.answer_within = answer_within
        self.files = FileStore()
        self.voice_durations: dict[str, int] = {}  # file_id → seconds, of voice notes people recorded
        self.chats: dict[int, ChatState] = {}
        self.people: dict[int, Person] = {}
        self.groups: dict[int, Group] = {}
        self.records: list[RequestRecord] = []
        self.flood_429_count = 0
        self.stalled_count = 0  # requests answered 429 by `stall_writes`
        # A 429's retry_after, by chat: a request that puts something into that chat (or changes it) before then is
        # recorded in `early_requests` (Telegram said to wait; a bot that does not is penalised with longer waits).
        self._retry_at: dict[int | str, float] = {}
        self.early_requests: list[RequestRecord] = []
        self._stalled_for: int | None = None
        self._garbled: dict[str, int] = {}
        self._held: list[HeldAnswer] = []
        self._failing: tuple[int, str] | None = None
        self.failed_count = 0  # requests answered with an error by `fail_writes`
        self.webhook: dict[str, Any] = {}
        self.blocked: set[int] = set()
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._updates: list[dict[str, Any]] = []  # delivered-or-pending, not yet confirmed by an offset
        self._expires: dict[int, float] = {}  # update id → when Telegram forgets it (the timer's seconds)
        self._polls = 0  # getUpdates calls so far: a newer one ends the one in progress (409)
        self.webhook_delivery = WebhookDelivery(self)
        # Telegram's update ids only grow (https://core.telegram.org/bots/api#update: "identifiers start from a
        # certain positive number and increase sequentially"); the bot forgets handled ids after 25 h, so a
        # simulator started again (the demo's restart) must go on from the last id it gave (`simulator.keep` saves it).
        self.last_update_id = 0
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(1)
        self._media_groups = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._seq = 0
        self._updates_pulse = _Pulse()  # wakes getUpdates long polls
        self._activity_pulse = _Pulse()  # wakes wait_for() whenever the bot makes a request
        self._last_activity = float("-inf")
        self._stopping = False
        self._runner: web.AppRunner | None = None
        # Called with a chat id whenever something in that chat changes (a message sent, edited or deleted by
        # either side, a callback answered), so a live view such as the demo's web chat can refresh at once.
        self.listeners: list[Callable[[int], None]] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVideo": self._send_video,
            "sendVoice": self._send_voice,
            "sendMediaGroup": self._send_media_group,
            "sendLocation": self._send_location,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "close": self._ok,
            "logOut": self._ok,
        }

    # == faults =====================================================================================

    def stall_writes(self, retry_after: int = 60) -> None:
        """Put the bot in a flood wait: from now on every request that would put something into a chat or
        change it (send*, copy, forward, edit*, delete) is answered 429 "retry after `retry_after`", as
        Telegram does, and nothing reaches anyone until `resume_writes()`. Polling, button presses and
        callback answers keep working, so a bot can be caught (and killed) with its messages unsent."""
        self._stalled_for = retry_after

    def resume_writes(self) -> None:
        """End the flood wait of `stall_writes` (Telegram lifts it: the retry_after it gave no longer holds) and the
        outage of `fail_writes`."""
        self._stalled_for = None
        self._failing = None
        self._retry_at.clear()

    def fail_writes(self, code: int = 502, description: str = "Bad Gateway") -> None:
        """A Telegram outage: from now on every request that would put something into a chat or change it is
        answered `code` (a 5xx), and nothing reaches anyone until `resume_writes()`. Polling and button presses
        keep working."""
        self._failing = (code, description)

    def garble(self, method: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with a malformed HTTP response (a broken proxy before the
        Bot API): the client's error then names the URL it called, token included."""
        self._garbled[method] = self._garbled.get(method, 0) + times

    def hold_answer(self, method: str, chat_id: int) -> HeldAnswer:
        """Telegram takes the next `method` call to `chat_id` (the message is in the chat) but its answer waits until
        `release()`: the bot's request is in flight, e.g. while something else commits meanwhile."""
        held = HeldAnswer(method, chat_id)
        self._held.append(held)
        return held

    # == lifecycle ==================================================================================

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # Uploads up to Telegram's 50 MB bot upload limit must not trip aiohttp's 1 MB default body limit.
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._stopping = False
        self._last_activity = self.timer.monotonic()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        self._stopping = True
        await self.webhook_delivery.stop()
        self._updates_pulse.fire()  # release long polls so shutdown does not wait for their timeout
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """PTB ``base_url`` (PTB appends the token)."""
        return f"{self.base}/bot"

    @property
    def file_url(self) -> str:
        """PTB ``base_file_url``."""
        return f"{self.base}/file/bot"

    # == world building =============================================================================

    def person(
        self,
        first_name: str,
        *,
        language_code: str | None = None,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        phone: str | None = None,
    ) -> Person:
        uid = user_id if user_id is not None else next(self._user_ids)
        if uid in self.people:
            raise ValueError(f"user id {uid} already exists")
        user: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first_name}
        chat: dict[str, Any] = {"id": uid, "type": "private", "first_name": first_name}
        for key, value in (("last_name", last_name), ("username", username)):
            if value is not None:
                user[key] = chat[key] = value
        if language_code is not None:
            user["language_code"] = language_code
        state = ChatState(chat=chat)
        self.chats[uid] = state
        p = Person(self, user, state, phone or f"+86 138 {uid % 10000:04d} {uid // 10000 % 10000:04d}")
        self.people[uid] = p
        return p

    def group(self, title: str, *, chat_id: int | None = None) -> Group:
        cid = chat_id if chat_id is not None else -(4_000_000_000 + next(self._group_ids))
        state = ChatState(chat={"id": cid, "type": "group", "title": title})
        self.chats[cid] = state
        g = Group(self, state)
        self.groups[cid] = g
        return g

    def channel(self, title: str, *, username: str | None = None, chat_id: int | None = None) -> ChatState:
        """A channel the bot is an administrator of (it may post there); `@username` addresses it too."""
        cid = chat_id if chat_id is not None else -(1_000_000_000_000 + next(self._group_ids))
        chat: dict[str, Any] = {"id": cid, "type": "channel", "title": title}
        if username:
            chat["username"] = username
        state = ChatState(chat=chat)
        self.chats[cid] = state
        return state

    def block(self, user_id: int) -> None:
        """The person blocked the bot: sends to them answer 403."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    # == observation ================================================================================

    @property
    def seq(self) -> int:
        return self._seq

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _changed(self, chat_id: int) -> None:
        for listener in list(self.listeners):
            listener(chat_id)

    @property
    def invalid_requests(self) -> list[RequestRecord]:
        """Every request answered 400 (spec violations, unsupported methods, rejected content)."""
        return [r for r in self.records if r.error_code == 400]

    @property
    def spec_violations(self) -> list[RequestRecord]:
        """Only the 400s about the request's shape (unknown method/parameter, types) or unsupported methods"""
        return [r for r in self.invalid_requests if r.category in {"spec", "unsupported"}]

    def unanswered_callback_queries(self) -> list[str]:
        """Presses the bot has not answered with answerCallbackQuery (the person's spinner still runs):
        "who pressed what" for each."""
        return [
            f"{query.person.first_name} on #{query.message.message_id}: {query.data}"
            for query in self._callback_queries.values()
            if not query.answered
        ]

    def sent_to(self, chat_id: int) -> list[BotMessage]:
        chat = self.chats.get(chat_id)
        return [] if chat is None else [m for m in chat.bot_messages if not m.deleted]

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        return list(self._commands.get(self._command_key(scope, language_code), []))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        self.expire_updates()
        return list(self._updates)

    @property
    def polls(self) -> int:
        """getUpdates calls so far."""
        return self._polls

    def expire_updates(self) -> None:
        """Forget the updates kept longer than Telegram keeps them (`KEEP_UPDATE`, `KEEP_CALLBACK_QUERY`)."""
        now = self.timer.monotonic()
        if any(self._expires.get(u["update_id"], now + 1) <= now for u in self._updates):
            self._updates = [u for u in self._updates if self._expires.get(u["update_id"], now + 1) > now]
            self._expires = {u["update_id"]: self._expires[u["update_id"]] for u in self._updates}

    def drop_update(self, update_id: int) -> None:
        """The update is gone from Telegram's queue (delivered to the webhook, or of a kind not asked for)."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._expires.pop(update_id, None)

    def _drop_all_updates(self) -> None:
        self._updates.clear()
        self._expires.clear()

    def activity(self) -> None:
        """Something happened that a `wait_until` predicate may be waiting for."""
        self._last_activity = self.timer.monotonic()
        self._activity_pulse.fire()

    def transcript(self, chat: ChatState, last: int = 30) -> str:
        lines = list(chat.transcript) + [(m.seq_created, m.describe()) for m in chat.bot_messages]
        lines.sort(key=lambda x: x[0])
        title = chat.chat.get("title") or chat.chat.get("first_name")
        body = "\n".join(f"  {line}" for _, line in lines[-last:]) or "  (empty)"
        return f"chat {chat.id} ({title}):\n{body}"

    async def wait_until(
        self,
        predicate: Callable[[], object],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        chat: ChatState | None = None,
        what: str = "",
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                extra = "\n" + self.transcript(chat) if chat is not None else ""
                raise TimeoutError(f"timed out after {timeout}s waiting for {what or 'the condition'}{extra}")
            # Woken by any bot request; the short cap also re-checks predicates on state outside the sim.
            await self._activity_pulse.wait(min(remaining, 0.05))

    async def settle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every update was confirmed by the bot and it made no request for ``quiet`` seconds.

        Seconds of the simulator's timer: on virtual time, the bot was idle throughout (virtual time passes only
        then). ``timeout`` holds on that timer and on the event loop's."""
        loop = asyncio.get_running_loop()
        deadline, real_deadline = self.timer.monotonic() + timeout, loop.time() + timeout
        while True:
            idle = self.timer.monotonic() - self._last_activity
            if not self._updates and idle >= quiet:
                return
            if self.timer.monotonic() >= deadline or loop.time() >= real_deadline:
                raise TimeoutError(
                    f"simulator did not settle within {timeout}s: {len(self._updates)} unconfirmed updates, "
                    f"last bot request {idle:.2f}s ago"
                )
            await self.timer.sleep(0.02)

    # == person-side helpers (used by simulator.people) =============================================

    def new_media_group_id(self) -> str:
        return f"1{next(self._media_groups):017d}"

    def photo_size(self, stored: StoredFile) -> dict[str, Any]:
        return {**stored.file_dict(), "width": stored.width or 100, "height": stored.height or 100}

    def _enqueue(self, payload: dict[str, Any]) -> None:
        self.last_update_id += 1
        update_id = self.last_update_id
        keep = KEEP_CALLBACK_QUERY if "callback_query" in payload else KEEP_UPDATE
        self._expires[update_id] = self.timer.monotonic() + keep
        self._updates.append({"update_id": update_id, **payload})
        self._updates_pulse.fire()
        self.webhook_delivery.wake()

    def user_message(self, person: Person, chat: ChatState, fields: dict[str, Any]) -> dict[str, Any]:
        msg = {
            "message_id": chat.take_message_id(),
            "from": dict(person.user),
            "chat": dict(chat.chat),
            "date": int(self.clock()),
            **fields,
        }
        chat.user_messages[msg["message_id"]] = msg
        seq = self._next_seq()
        summary = fields.get("text") or fields.get("caption") or ""
        kind = next((k for k in fields if k not in {"text", "entities", "caption", "media_group_id"}), "text")
        label = summary if kind == "text" else f"[{kind}] {summary}".rstrip()
        chat.transcript.append((seq, f"{person.first_name} #{msg['message_id']}: {label}"))
        self._enqueue({"message": msg})
        self._changed(chat.id)
        return msg

    def callback_query(self, person: Person, message: BotMessage, data: str) -> str:
        query_id = f"{person.user_id}{next(self._query_ids):08d}"
        self._callback_queries[query_id] = _CallbackQuery(person, message, data, pressed_at=self.timer.monotonic())
        seq = self._next_seq()
        label = next(
            (
                b.get("text")
                for row in (message.reply_markup or {}).get("inline_keyboard", [])
                for b in row
                if b.get("callback_data") == data
            ),
            data,
        )
        self.chats[message.chat_id].transcript.append((seq, f"{person.first_name} pressed [{label}]"))
        self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": dict(person.user),
                    "message": message.raw,
                    "chat_instance": str(abs(message.chat_id) * 7 + 13),
                    "data": data,
                }
            }
        )
        return query_id

    # == HTTP =======================================================================================

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError as exc:
                    raise bad_request("can't parse JSON body", "spec") from exc
                if not isinstance(data, dict):
                    raise bad_request("JSON body must be an object", "spec")
                params.update(data)
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(key, value.filename, value.content_type, value.file.read())
                else:
                    params[key] = value
        return params, files

    def _respond(self, record: RequestRecord, exc: ApiError | None, result: Any) -> web.Response:
        self.records.append(record)
        if exc is None:
            return web.json_response({"ok": True, "result": result}, dumps=_dumps)
        body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.parameters:
            body["parameters"] = exc.parameters
        return web.json_response(body, status=exc.code, dumps=_dumps)

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self._garbled.get(method, 0) > 0 and request.transport is not None:
            self._garbled[method] -= 1
            request.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: not-a-number\r\n\r\n")
            request.transport.close()
            return web.Response()  # never reaches the client: the connection is closed
        params: dict[str, Any] = {}
        chat_id: Any = None
        result: Any = None
        error: ApiError | None = None
        quiet_poll = False
        arrived = self._last_activity = self.timer.monotonic()
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized", category="auth")
            params, files = await self._read_params(request)
            if self.flood.limits.jitter > 0:
                # The network: requests sent evenly arrive bunched.
                await self.timer.sleep(random.uniform(0, self.flood.limits.jitter))
            arrived = self.timer.monotonic()
            chat_id = params.get("chat_id")
            canonical = self.spec.canonical_method(method)
            if canonical is None:
                raise bad_request(f"method '{method}' not found in {self.spec.version}", "spec")
            method = canonical
            handler = self._methods.get(method)
            if handler is None:
                raise bad_request(f"method {method} is not supported by the simulator", "unsupported")
            try:
                decoded = self.spec.validate(method, params, files)
            except SpecError as exc:
                raise bad_request(str(exc), "spec") from exc
            params = decoded
            chat_id = decoded.get("chat_id")
            if self._failing is not None and _WRITING_METHODS_RE.match(method):
                self.failed_count += 1
                raise ApiError(self._failing[0], self._failing[1], category="outage")
            if self._stalled_for is not None and _WRITING_METHODS_RE.match(method):
                self.stalled_count += 1
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {self._stalled_for}",
                    parameters={"retry_after": self._stalled_for},
                    category="stalled",
                )
            result = await handler(decoded, files)
            held = next((h for h in self._held if h.method == method and h.chat_id == chat_id), None)
            if held is not None:
                self._held.remove(held)
                held.taken.set()
                await held.released.wait()
            quiet_poll = method == "getUpdates" and not result
        except ApiError as exc:
            error = exc
        now_wall, now_mono = time.time(), self.timer.monotonic()
        if not quiet_poll:
            # Empty getUpdates polls are background noise; settle() waits for real activity to stop.
            self._last_activity = now_mono
        record = RequestRecord(
            method=method,
            params=_loggable(params),
            chat_id=chat_id if isinstance(chat_id, int | str) else None,
            ok=error is None,
            time=now_wall,
            monotonic=now_mono,
            error_code=error.code if error else None,
            description=error.description if error else None,
            category=error.category if error else None,
            result=result,
        )
        self._note_retry_after(record, arrived, error)
        response = self._respond(record, error, result)
        self._activity_pulse.fire()
        return response

    def _note_retry_after(self, record: RequestRecord, arrived: float, error: ApiError | None) -> None:
        """Record a request that came before the retry_after of a 429 to its chat; remember a new 429's."""
        chat = record.chat_id
        if chat is None or not _WRITING_METHODS_RE.match(record.method):
            return
        if arrived < self._retry_at.get(chat, float("-inf")):
            self.early_requests.append(record)
        retry_after = (error.parameters or {}).get("retry_after") if error is not None and error.code == 429 else None
        if isinstance(retry_after, int | float):
            self._retry_at[chat] = max(self._retry_at.get(chat, float("-inf")), arrived + retry_after)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        stored = self.files.by_path.get(request.match_info["path"])
        if stored is None or stored.size > MAX_DOWNLOAD:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    # == shared checks ==============================================================================

    def _chat(self, chat_id: Any) -> ChatState:
        chat: ChatState | None = None
        if isinstance(chat_id, int):
            chat = self.chats.get(chat_id)
        elif isinstance(chat_id, str):
            if chat_id.startswith("@"):
                name = chat_id[1:].lower()
                chat = next((c for c in self.chats.values() if str(c.chat.get("username", "")).lower() == name), None)
            elif re.fullmatch(r"-?\d+", chat_id):
                chat = self.chats.get(int(chat_id))
        if chat is None:
            raise bad_request("chat not found", "state")
        return chat

    def _sendable_chat(self, method: str, chat_id: Any, *, count: bool = True) -> ChatState:
        chat = self._chat(chat_id)
        if chat.is_private and chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user", category="forbidden")
        if count and _SENDING_METHODS_RE.match(method):
            retry = self.flood.acquire(chat.id, chat.is_private)
            if retry:
                self.flood_429_count += 1
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry}",
                    parameters={"retry_after": retry},
                    category="flood",
                )
        return chat

    def _formatted(
        self, text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
    ) -> tuple[str, list[dict[str, Any]]]:
        if entities is not None:
            return text, entities
        if parse_mode is None or parse_mode == "":
            return text, []
        if parse_mode.lower() == "html":
            try:
                return parse_html(text)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from exc
        if parse_mode.lower() in {"markdown", "markdownv2"}:
            return text, []  # not parsed by the simulator: text passes through unchanged
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")

    def _text(self, p: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text, entities = self._formatted(p["text"], p.get("parse_mode"), p.get("entities"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities

    def _caption(
        self, caption: str | None, parse_mode: str | None, entities: list[dict[str, Any]] | None
    ) -> tuple[str | None, list[dict[str, Any]]]:
        if caption is None:
            return None, []
        text, ents = self._formatted(caption, parse_mode, entities)
        if utf16_len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return (text if text else None), ents

    def _markup(self, markup: dict[str, Any] | None) -> dict[str, Any] | None:
        """Check what the spec cannot express: exactly one action per inline button, callback_data size."""
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                actions = set(button) - {"text", "icon_custom_emoji_id", "style"}
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if len(actions) > 1:
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "exactly one of the optional fields must be used, "
                        f"got {sorted(actions)}"
                    )
                if "callback_data" in button and not 1 <= len(button["callback_data"].encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"^(https?|tg)://\S+$", button["url"]):
                    raise bad_request("BUTTON_URL_INVALID")
                if not str(button.get("text", "")).strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
        for row in markup.get("keyboard", []):
            for button in row:
                if not str(button.get("text", "") if isinstance(button, dict) else button).strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
        return markup

    def _new_message(
        self,
        chat: ChatState,
        kind: str,
        fields: dict[str, Any],
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        markup: dict[str, Any] | None = None,
        **extra: Any,
    ) -> BotMessage:
        raw: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": dict(self.bot_user),
            "chat": dict(chat.chat),
            "date": int(self.clock()),
            **fields,
        }
        if chat.chat["type"] == "channel":
            # Channel posts have no sender user; the channel itself is the sender.
            del raw["from"]
            raw["sender_chat"] = dict(chat.chat)
        text_key, ent_key = ("text", "entities") if kind == "text" else ("caption", "caption_entities")
        if text is not None:
            raw[text_key] = text
            if entities:
                raw[ent_key] = entities
        # Telegram echoes only inline keyboards in the returned Message; reply keyboards are client state.
        if markup is not None and "inline_keyboard" in markup:
            raw["reply_markup"] = markup
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        seq = self._next_seq()
        msg = BotMessage(
            message_id=raw["message_id"],
            chat_id=chat.id,
            date=raw["date"],
            text=text,
            entities=list(entities or []),
            kind=kind,
            raw=raw,
            reply_markup=markup,
            media_group_id=fields.get("media_group_id"),
            seq_created=seq,
            seq_updated=seq,
            **extra,
        )
        chat.bot_messages.append(msg)
        self._changed(chat.id)
        return msg

    def _file(self, value: Any, files: dict[str, UploadedFile], kind: str, default_mime: str | None) -> StoredFile:
        """Resolve an InputFile upload, an ``attach://`` reference, a known file_id or an HTTP URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            part = files.get(value.removeprefix("attach://"))
            if part is None:
                raise bad_request(f"wrong file identifier/HTTP URL specified: {value} is not in the request")
            value = part
        if isinstance(value, UploadedFile):
            return self.files.add(
                value.data, kind=kind, mime_type=value.content_type or default_mime, file_name=value.filename
            )
        if isinstance(value, str):
            known = self.files.by_id.get(value)
            if known is not None:
                return known
            if re.match(r"^https?://", value):
                # The simulator does not fetch URLs; it keeps an empty placeholder the bot can refer to later.
                return self.files.add(b"", kind=kind, mime_type=default_mime, file_name=value.rsplit("/", 1)[-1])
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _media_fields(self, kind: str, stored: StoredFile, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Message fields for a sent file, and the BotMessage byte attributes."""
        if kind == "photo":
            return {"photo": [self.photo_size(stored)]}, {"photo_bytes": stored.data}
        if kind == "video":
            video = {
                **stored.file_dict(),
                "width": p.get("width", 640),
                "height": p.get("height", 360),
                "duration": p.get("duration", 1),
            }
            if stored.mime_type:
                video["mime_type"] = stored.mime_type
            return {"video": video}, {"video_bytes": stored.data}
        if kind == "voice":
            known = self.voice_durations.get(stored.file_id)
            duration = int(p.get("duration") or known or 1)
            voice = {**stored.file_dict(), "duration": duration, "mime_type": stored.mime_type or "audio/ogg"}
            return {"voice": voice}, {"voice_bytes": stored.data, "voice_duration": duration}
        document = stored.file_dict()
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return {"document": document}, {"document_bytes": stored.data, "document_name": stored.file_name}

    # == methods ====================================================================================

    async def _ok(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(409, _CONFLICT_WEBHOOK, category="state")
        # The newest poller wins: this call ends any other in progress with 409 (Bot API server behaviour, issue 30).
        self._polls += 1
        poll = self._polls
        self._updates_pulse.fire()
        self.expire_updates()
        offset: int | None = p.get("offset")
        limit = max(1, min(100, int(p.get("limit", 100))))
        timeout = max(0, int(p.get("timeout", 0)))
        if offset is not None:
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._expires = {u["update_id"]: self._expires[u["update_id"]] for u in self._updates}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if poll != self._polls:
                raise ApiError(409, _CONFLICT_POLLER, category="state")
            if self.webhook.get("url"):
                raise ApiError(409, _CONFLICT_WEBHOOK, category="state")
            self.expire_updates()
            if self._updates or self._stopping:
                return self._updates[:limit]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._updates_pulse.wait(remaining)

    async def _delete_webhook(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self.webhook = {}
        if p.get("drop_pending_updates"):
            self._drop_all_updates()
        self.webhook_delivery.restart()
        return True

    async def _set_webhook(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        """core.telegram.org/bots/api#setwebhook: an empty url removes the webhook; otherwise HTTPS on 443, 80, 88 or
        8443, a secret of 1-256 of A-Z a-z 0-9 _ -, max_connections 1-100. The same settings again change nothing
        ("Webhook is already set"); a changed URL, secret or limit restarts delivery with a fresh back-off."""
        url = p["url"]
        if not url:
            return await self._delete_webhook(p, files)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise bad_request("bad webhook: HTTPS url must be provided for webhook")
        try:
            port = parts.port or 443
        except ValueError as exc:
            raise bad_request("bad webhook: Wrong port number specified in the URL") from exc
        if port not in ALLOWED_PORTS:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_RE.match(secret):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        max_connections = p.get("max_connections", 40)
        if not 1 <= int(max_connections) <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = p.get("allowed_updates", self.webhook.get("allowed_updates"))
        wanted: dict[str, Any] = {"url": url, "max_connections": int(max_connections)}
        if secret is not None:
            wanted["secret_token"] = secret
        if p.get("ip_address"):
            wanted["ip_address"] = p["ip_address"]
        if allowed is not None:
            wanted["allowed_updates"] = list(allowed)
        if p.get("drop_pending_updates"):
            self._drop_all_updates()
        changed = {k: v for k, v in wanted.items() if k != "allowed_updates"} != {
            k: v for k, v in self.webhook.items() if k != "allowed_updates"
        }
        self.webhook = wanted
        self._updates_pulse.fire()  # a long poll in progress ends with 409
        if changed:
            self.webhook_delivery.restart()
        else:
            self.webhook_delivery.wake()
        return True

    async def _get_webhook_info(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }
        for key in ("max_connections", "allowed_updates", "ip_address"):
            if key in self.webhook:
                info[key] = self.webhook[key]
        delivery = self.webhook_delivery
        if self.webhook.get("url") and delivery.last_error_date is not None:
            info["last_error_date"] = delivery.last_error_date
            info["last_error_message"] = delivery.last_error_message
        return info

    @staticmethod
    def _command_key(scope: dict[str, Any] | None, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    async def _set_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        commands: list[dict[str, Any]] = p["commands"]
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for cmd in commands:
            if not _BOT_COMMAND_RE.match(cmd["command"]):
                raise bad_request(f"BOT_COMMAND_INVALID: {cmd['command']!r}")
            if not 1 <= len(cmd["description"]) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(p.get("scope"), p.get("language_code"))
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    async def _get_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> list[dict[str, Any]]:
        return self.commands(p.get("scope"), p.get("language_code") or "")

    async def _delete_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._command_key(p.get("scope"), p.get("language_code")), None)
        return True

    async def _send_message(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        text, entities = self._text(p)
        markup = self._markup(p.get("reply_markup"))
        chat = self._sendable_chat("sendMessage", p["chat_id"])
        return self._new_message(chat, "text", {}, text=text, entities=entities, markup=markup).raw

    async def _send_file(
        self,
        method: str,
        kind: str,
        param: str,
        default_mime: str | None,
        p: dict[str, Any],
        files: dict[str, UploadedFile],
    ) -> dict[str, Any]:
        caption, entities = self._caption(p.get("caption"), p.get("parse_mode"), p.get("caption_entities"))
        markup = self._markup(p.get("reply_markup"))
        chat = self._chat(p["chat_id"])
        stored = self._file(p[param], files, kind, default_mime)
        self._sendable_chat(method, p["chat_id"])
        fields, extra = self._media_fields(kind, stored, p)
        return self._new_message(chat, kind, fields, text=caption, entities=entities, markup=markup, **extra).raw

    async def _send_photo(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return await self._send_file("sendPhoto", "photo", "photo", "image/jpeg", p, files)

    async def _send_document(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return await self._send_file("sendDocument", "document", "document", "application/octet-stream", p, files)

    async def _send_video(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return await self._send_file("sendVideo", "video", "video", "video/mp4", p, files)

    async def _send_voice(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return await self._send_file("sendVoice", "voice", "voice", "audio/ogg", p, files)

    async def _send_media_group(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> list[dict[str, Any]]:
        media: list[dict[str, Any]] = p["media"]
        if not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media specified: an album must have 2-10 items")
        kinds = {m["type"] for m in media}
        if len(kinds) > 1 and ({"document", "audio"} & kinds):
            raise bad_request(f"{sorted(kinds & {'document', 'audio'})[0]} can't be mixed with other media types")
        prepared = []
        for item in media:
            caption, entities = self._caption(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
            kind = item["type"] if item["type"] in {"photo", "video"} else "document"
            stored = self._file(item["media"], files, kind, {"photo": "image/jpeg", "video": "video/mp4"}.get(kind))
            prepared.append((kind, stored, caption, entities, item))
        chat = self._sendable_chat("sendMediaGroup", p["chat_id"])
        group_id = self.new_media_group_id()
        out = []
        for kind, stored, caption, entities, item in prepared:
            fields, extra = self._media_fields(kind, stored, item)
            fields["media_group_id"] = group_id
            out.append(self._new_message(chat, kind, fields, text=caption, entities=entities, **extra).raw)
        return out

    async def _send_location(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        lat, lon = float(p["latitude"]), float(p["longitude"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad_request("wrong coordinates")
        markup = self._markup(p.get("reply_markup"))
        chat = self._sendable_chat("sendLocation", p["chat_id"])
        fields = {"location": {"latitude": lat, "longitude": lon}}
        return self._new_message(chat, "location", fields, markup=markup, location=(lat, lon)).raw

    async def _send_chat_action(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        valid = {
            "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
            "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
        }  # fmt: skip
        if p["action"] not in valid:
            raise bad_request("wrong parameter action in request")
        self._sendable_chat("sendChatAction", p["chat_id"], count=False)
        return True

    def _editable(self, p: dict[str, Any]) -> BotMessage:
        if "inline_message_id" in p or "chat_id" not in p or "message_id" not in p:
            raise bad_request(
                "message to edit not found" if "inline_message_id" in p else "message identifier is not specified"
            )
        chat = self._chat(p["chat_id"])
        msg = chat.bot_message(p["message_id"])
        if msg is None:
            if p["message_id"] in chat.user_messages:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return msg

    def _apply_edit(
        self, msg: BotMessage, text: str | None, entities: list[dict[str, Any]], markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        if text == msg.text and entities == msg.entities and markup == msg.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        text_key, ent_key = ("text", "entities") if msg.kind == "text" else ("caption", "caption_entities")
        raw = msg.raw
        for key in (text_key, ent_key, "reply_markup"):
            raw.pop(key, None)
        if text is not None:
            raw[text_key] = text
            if entities:
                raw[ent_key] = entities
        if markup is not None:
            raw["reply_markup"] = markup
        raw["edit_date"] = int(self.clock())
        msg.text, msg.entities, msg.reply_markup = text, list(entities), markup
        msg.edited = True
        msg.seq_updated = self._next_seq()
        self._changed(msg.chat_id)
        return raw

    def _inline_only(self, markup: dict[str, Any] | None) -> dict[str, Any] | None:
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("only inline keyboards can be used when editing messages")
        return self._markup(markup)

    async def _edit_message_text(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        msg = self._editable(p)
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text, entities = self._text(p)
        return self._apply_edit(msg, text, entities, self._inline_only(p.get("reply_markup")))

    async def _edit_message_caption(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        msg = self._editable(p)
        if msg.kind in {"text", "location"}:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(p.get("caption"), p.get("parse_mode"), p.get("caption_entities"))
        return self._apply_edit(msg, caption, entities, self._inline_only(p.get("reply_markup")))

    async def _edit_message_reply_markup(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        msg = self._editable(p)
        return self._apply_edit(msg, msg.text, msg.entities, self._inline_only(p.get("reply_markup")))

    async def _delete_message(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._chat(p["chat_id"])
        msg = chat.bot_message(p["message_id"])
        if msg is not None:
            msg.deleted = True
            msg.seq_updated = self._next_seq()
            self._changed(chat.id)
            return True
        user_msg = chat.user_messages.pop(p["message_id"], None)
        if user_msg is None:
            raise bad_request("message to delete not found")
        self._changed(chat.id)
        return True

    async def _answer_callback_query(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        query = self._callback_queries.get(p["callback_query_id"])
        late = query is not None and self.timer.monotonic() - query.pressed_at > self.answer_within
        if query is None or query.answered or late:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.get("text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.person.callback_answers.append(text)
        if text:
            chat = self.chats[query.message.chat_id]
            alert = "alert" if p.get("show_alert") else "toast"
            chat.transcript.append((self._next_seq(), f"bot {alert} to {query.person.first_name}: {text}"))
        self._changed(query.message.chat_id)
        return True

    async def _get_file(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        stored = self.files.by_id.get(p["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {**stored.file_dict(), "file_path": stored.file_path}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    """Decoded params for the request log, with uploads summarised instead of holding their bytes twice."""
    return {
        k: (f"<upload {v.filename!r}, {len(v.data)} bytes>" if isinstance(v, UploadedFile) else v)
        for k, v in params.items()
    }
