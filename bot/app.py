"""Application assembly: the one ordered place where handlers are registered, and the bot's lifecycle.

Handler order matters and is written here once:
  group -2  `privacy.FloodGuard` slows down anyone sending more than 30 messages or presses a minute;
  group -1  `load_person` records who wrote and stops blocked people (but for /privacy, /mydata, /deleteme)
            before anything else runs;
  group  0  conversations first (they must see text and buttons while they are active), then
            commands and buttons that work anywhere, then the basics, and last the answers to plain
            words, unknown commands and any button press nobody else took (`plain_words`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import itertools
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.ext import (
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    ConversationHandler,
    TypeHandler,
)
from telegram.ext._utils.trackingdict import TrackingDict
from telegram.warnings import PTBUserWarning

from actions.env import Env
from actions.notify import Notifier, OutboxNotifier
from channels.health import Health
from channels.lease import Leadership, LeaseLost
from channels.telegram import render
from channels.telegram.commands import commands_for
from channels.telegram.context import BotData, TongxinContext
from channels.telegram.context import TongxinApp as TongxinApp  # the root's own name for it, used by the tests
from channels.telegram.inbox import UpdateInbox
from channels.telegram.limits import SharedRateLimiter
from channels.telegram.persistence import DatabasePersistence
from channels.telegram.processor import PerChatUpdateProcessor
from channels.telegram.request import AiohttpRequest, UpdatesRequest
from channels.telegram.send_journal import SendJournal
from channels.telegram.webhook import WebhookServer
from core import logs
from core.clock import Clock, LoopTimer, SystemClock, Timer
from core.i18n import Catalogues
from core.settings import LANGUAGES, Settings, SettingsError
from handlers import (
    activities,
    basics,
    certificates,
    checkin,
    departments,
    digests,
    editors,
    errors,
    events,
    invites,
    links,
    monitor,
    plain_words,
    privacy,
    projects,
    publishing,
    rates,
    report,
    reporters,
    residents,
    review,
    staff,
    tasks,
    volunteer_review,
    volunteers,
)
from handlers.leaving import accept_leave_words
from scheduler import setup as scheduler_setup
from screen.server import ScreenServer
from storage.db import Database
from storage.migrate import current_revision, upgrade

# Our conversations mix text steps and buttons on purpose and track buttons per chat, not per message.
# PTB warns about that for every such conversation at every start, which would only alarm operators.
warnings.filterwarnings("ignore", message=r"If 'per_message=False'", category=PTBUserWarning)

log = logging.getLogger(__name__)

T = TypeVar("T")


def build_application(
    settings: Settings,
    db: Database,
    *,
    clock: Clock | None = None,
    catalogues: Catalogues | None = None,
    notifier: Notifier | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    timer: Timer | None = None,
) -> TongxinApp:
    """Build the bot: services, handlers in their order, error handler. Nothing is started.

    `timer` is what every wait runs on (pacing, back-off, deadlines): the event loop's time unless a test passes
    virtual time (`simulator.virtual_time`); a `rate_limiter` given brings its own."""
    # From here on no log record of the process carries the token (core/logs.py).
    logs.install(settings.bot_token.get_secret_value())
    if rate_limiter is None:
        rate_limiter = SharedRateLimiter(timer=timer or LoopTimer())
    if timer is None:
        timer = rate_limiter.timer if isinstance(rate_limiter, SharedRateLimiter) else LoopTimer()
    processor = PerChatUpdateProcessor(256, timer=timer)
    persistence = DatabasePersistence(db, timer=timer)
    updates_request = UpdatesRequest(connection_pool_size=1)
    bot_request = AiohttpRequest()
    health = Health(db, timer)
    bot_request.answered = health.answered
    # Only the instance holding the lease talks to Telegram (getMe aside: every instance checks its token at start).
    leadership = Leadership(db)
    leadership.changed = health.lead
    bot_request.allowed = updates_request.allowed = lambda method: method == "getMe" or leadership.leading()
    application: TongxinApp = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_file_url)
        .context_types(ContextTypes(context=TongxinContext, bot_data=BotData))
        .concurrent_updates(processor)
        .persistence(persistence)
        # aiohttp instead of PTB's httpx: the same requests for much less CPU (channels/telegram/request.py).
        .request(bot_request)
        .get_updates_request(updates_request)
        # One budget of ~30 messages/s shared by replies and the outbox sender, replies first; a 429
        # pauses everything for retry_after and the reply is retried, not lost (channels/telegram/limits.py).
        .rate_limiter(rate_limiter)
        .build()
    )
    # Each update's conversation step and draft are written before its chat's next update, in the transaction that
    # deletes the update from the durable inbox it was written to on arrival (channels/telegram/processor.py,
    # channels/telegram/inbox.py).
    processor.after_update = functools.partial(persistence.write_through, application)
    # Updates a database outage stopped are handled again once it answers a ping (channels/telegram/processor.py).
    processor.replay = application.process_update
    processor.database_ready = db.ping
    services = application.bot_data
    services.settings = settings
    services.db = db
    services.clock = clock or SystemClock()
    services.timer = timer
    processor.settled = updates_request.settled
    processor.inbox = UpdateInbox(db, services.clock.now, persistence.group, updates_request.received)
    persistence.now = services.clock.now  # when handled updates are recorded as handled
    # Each request a handler makes is recorded as Telegram answers it: an update handled again after a kill, a freeze
    # or a cut (still in the inbox) sends nothing twice (channels/telegram/send_journal.py).
    processor.journal = bot_request.journal = SendJournal(db, persistence.group, services.clock.now)
    if not db.is_sqlite:  # another instance may take over: nothing goes out that could not be recorded
        processor.journal.reachable = db.ping
    services.catalogues = catalogues or Catalogues()
    services.env = Env(db=db, clock=services.clock, settings=settings)
    services.notifier = notifier or OutboxNotifier(services.env)

    # Group -2 runs first: a person sending more than 30 messages or button presses a minute is slowed down (and told)
    # before anything touches the database. It cannot share group -1 with load_person: PTB runs only
    # the first matching handler of a group.
    # The guard counts each update as it arrives (the processor asks it before the update waits for its chat's
    # earlier ones), so a flood is answered at once, ahead of the paced replies still due to that chat.
    flood_guard = privacy.FloodGuard(services.clock.now)
    processor.admit = flood_guard.admit
    # Every press answered while Telegram still takes an answer, however long its chat's earlier replies take
    # (channels/telegram/taps.py).
    limiter = application.bot.rate_limiter
    if isinstance(limiter, SharedRateLimiter):
        taps = limiter.taps
        taps.tell = application.bot.send_message
        processor.arrived = taps.seen
        processor.answer_early = functools.partial(taps.answer_early, application.bot)
    processor.arrived = _also(health.arrived, processor.arrived)  # counted for /metrics (channels/health.py)
    services.health = health
    services.leadership = leadership
    application.add_handler(flood_guard.handler(), group=-2)
    application.add_handler(TypeHandler(Update, basics.load_person), group=-1)
    features = (
        residents,
        volunteers,
        tasks,
        review,
        volunteer_review,
        reporters,
        editors,
        invites,
        staff,
        privacy,
        monitor,
        digests,
        projects,
        activities,
        checkin,
        certificates,
        links,
        departments,
        events,
        rates,
        publishing,
        report,
    )
    # Conversations first: while one is active it must see the person's text and buttons
    # before any handler that works everywhere.
    for feature in features:
        application.add_handlers(
            [accept_leave_words(c) if isinstance(c, ConversationHandler) else c for c in feature.conversations()],
            group=0,
        )
    for feature in features:
        application.add_handlers(feature.handlers(), group=0)
    # The basics last: /cancel here only answers when no conversation claimed it.
    application.add_handlers(basics.handlers(), group=0)
    # Plain words, unknown commands and any press nobody took: answered last, so nothing above is shadowed.
    application.add_handlers(plain_words.handlers(), group=0)
    application.add_error_handler(errors.on_error)
    return application


async def set_default_menus(application: TongxinApp) -> None:
    """The command menu residents see, in each language (Telegram picks by the client's language)."""
    catalogues = application.bot_data.catalogues
    resident_commands = commands_for(())
    for language in LANGUAGES:
        commands = [
            BotCommand(c.name, render.plain(catalogues, language, f"command.{c.name}")) for c in resident_commands
        ]
        code = language.split("-")[0]
        await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
        if language == application.bot_data.settings.default_language:
            await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault())


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    poll_timeout: int = 10,
    timer: Timer | None = None,
    webhook: bool = False,
) -> AsyncIterator[TongxinApp]:
    """Migrate the database, start the bot polling (or, with `webhook`, receiving on WEBHOOK_PORT:
    channels/telegram/webhook.py),
    and stop everything cleanly on exit."""
    own_db = db is None
    database = db or Database(settings.database_url)
    stopping = _StopPhases()
    application: TongxinApp | None = None
    try:
        await upgrade(database)
        log.info(
            "database: %s at revision %s",
            database.url.render_as_string(hide_password=True),
            await current_revision(database),
        )
        application = build_application(settings, database, clock=clock, timer=timer)
        try:
            await application.initialize()
        except Exception:
            # PTB leaves the bot's HTTP sessions open when its start-up request fails.
            await application.bot.shutdown()
            raise
        async with application:
            await application.start()
            assert application.updater is not None
            updater = application.updater
            processor = application.update_processor
            assert isinstance(processor, PerChatUpdateProcessor)
            services = application.bot_data
            leadership = services.leadership
            receiver = services.webhook = _webhook_server(application) if webhook else None
            if receiver is not None:
                # The leader points Telegram at the webhook and hands the inbox to the processor
                # (channels/telegram/webhook.py).
                leadership.on_lead.append(receiver.lead)
                leadership.on_step_down.append(receiver.step_down)

            async def lead() -> None:
                """What the leader runs, started at every takeover (issue 30: channels/lease.py)."""
                if leadership.epoch > 1 and not leadership.single:
                    # Another instance led since this one loaded them at start: conversations in progress and
                    # drafts are read again, so they go on where that one left them.
                    await _reload_persisted(application)
                await set_default_menus(application)
                # Updates a kill or the previous leader left unhandled (still in the inbox) are handled before any
                # new one is fetched.
                await processor.resume(application.bot)
                for callback in leadership.on_lead:
                    await callback()
                if receiver is None:
                    if updater.running:  # a step-down cut short (the database was away) left it running
                        await updater.stop()
                    await updater.start_polling(poll_interval=0.0, timeout=poll_timeout, drop_pending_updates=False)
                    log.info(
                        "telegram: polling as @%s through %s",
                        application.bot.username,
                        _host_of(settings.telegram_api_url),
                    )
                await scheduler_setup.start(application)
                log.info(
                    "scheduler: sweep every minute, outbox sender on; quiet hours %s–%s %s",
                    settings.quiet_hours_start.strftime("%H:%M"),
                    settings.quiet_hours_end.strftime("%H:%M"),
                    settings.timezone,
                )

            async def step_down() -> None:
                """Stop what the leader runs: no new getUpdates, sweep or claim (the sender finishes what is on the
                wire; after the lease's deadline the Bot API and the database refuse the rest anyway)."""
                if updater.running:
                    await updater.stop()
                    stopping.mark("polling")
                if dropped := processor.drop_held():
                    log.warning("%d updates held for the database are left to the next leader", dropped)
                await scheduler_setup.stop(application)
                stopping.mark("scheduler")
                for callback in leadership.on_step_down:
                    await callback()

            screen: ScreenServer | None = None
            # Everything started is stopped again, also when a later step of the start-up fails (a WeChat or screen
            # port in use): else `async with application` refuses to shut down a running application, and the
            # real error comes out buried under "This Application is still running!" instead of as one line.
            try:
                if settings.health_port:
                    await services.health.start(settings.health_host, settings.health_port)
                # Telegram's webhook and WeChat's callbacks are answered on every instance; its transport joins the
                # leader's sender.
                if receiver is not None:
                    await receiver.start(settings.webhook_listen, settings.webhook_port)
                await start_wechat(application)
                await start_wecom(application)
                await leadership.start(lead, step_down)
                screen = await start_screen(application, settings.screen_port) if settings.screen_port else None
                log.info(
                    "Tongxin is running as @%s (%s, epoch %d)",
                    application.bot.username,
                    leadership.role,
                    leadership.epoch,
                )
                yield application
            finally:
                stopping.mark("started")
                await leadership.stop()
                stopping.mark("leadership")
                if receiver is not None:
                    await receiver.stop()
                    stopping.mark("webhook")
                await services.health.stop()
                stopping.mark("health")
                if screen is not None:
                    await screen.stop()
                    stopping.mark("screen")
                if services.wechat is not None:
                    await services.wechat.stop()
                    services.wechat = None
                    stopping.mark("wechat")
                if services.wecom is not None:
                    await services.wecom.stop()
                    services.wecom = None
                    stopping.mark("wecom")
                if updater.running:
                    await updater.stop()
                    stopping.mark("updater")
                await application.stop()
                stopping.mark("application")
        stopping.mark("shutdown")
    finally:
        if application is not None:
            # Only once the application wrote its last state: until then its writes pass the fence.
            await application.bot_data.leadership.resign()
            stopping.mark("resign")
        if own_db:
            await database.dispose()
            stopping.mark("dispose")
        stopping.report()


class _StopPhases:
    """How long each step of stopping took (issue 30: a clean stop hands the lease over within 1 s), logged as one
    line once stopped: the event loop's time, whatever clock or timer the bot runs on."""

    def __init__(self) -> None:
        self._timer = LoopTimer()
        self._marks: list[tuple[str, float]] = []

    def mark(self, phase: str) -> None:
        if self._marks or phase == "started":  # a step-down after a lost lease is no stop
            self._marks.append((phase, self._timer.monotonic()))

    def report(self) -> None:
        if len(self._marks) < 2:
            return
        start = self._marks[0][1]
        steps = ", ".join(
            f"{name} {1000 * (at - before):.0f}" for (_, before), (name, at) in itertools.pairwise(self._marks)
        )
        log.info("stopped in %.0f ms (%s ms)", 1000 * (self._marks[-1][1] - start), steps)


def _webhook_server(application: TongxinApp) -> WebhookServer:
    """Webhook mode's receiver, from WEBHOOK_* (checked by `tongxin run --webhook` before anything starts)."""
    services = application.bot_data
    settings = services.settings
    if settings.webhook_url is None or settings.webhook_secret is None:
        raise SettingsError("WEBHOOK_URL and WEBHOOK_SECRET: both are needed in webhook mode")
    secret = settings.webhook_secret.get_secret_value()
    logs.install(secret)  # no log record carries the webhook's secret (core/logs.py)
    return WebhookServer(
        application,
        url=settings.webhook_url,
        secret=secret,
        health=services.health,
        leading=services.leadership.leading,
        timer=services.timer,
    )


async def _reload_persisted(application: TongxinApp) -> None:
    """Read the conversation states and user data from the database again, as `Application.initialize` did, forgetting
    what this process held in memory (PTB offers no public way; its own loading is reused)."""
    persistence = application.persistence
    if persistence is None:
        return
    user_data = application._user_data
    user_data.clear()
    user_data.update(await persistence.get_user_data())

    def forget(handler: object) -> None:
        if isinstance(handler, ConversationHandler):
            handler._conversations = TrackingDict()
            for handlers in handler.states.values():
                for inner in handlers:
                    forget(inner)

    for group in application.handlers.values():
        for handler in group:
            if isinstance(handler, ConversationHandler) and handler.persistent and handler.name:
                forget(handler)
                await application._add_ch_to_persistence(handler)


def _also(first: Callable[[object], object], then: Callable[[object], object] | None) -> Callable[[object], object]:
    """One hook calling `first`, then `then` (when there is one)."""
    if then is None:
        return first

    def both(update: object) -> object:
        first(update)
        return then(update)

    return both


async def start_wechat(application: TongxinApp) -> None:
    """Start the WeChat service account's callback server when WECHAT_* settings configure one."""
    services = application.bot_data
    settings = services.settings
    if not settings.wechat_enabled:
        return
    from channels.telegram.media import stored_photo_bytes
    from channels.wechat.api import WeChatApi
    from channels.wechat.server import WeChatChannel

    assert settings.wechat_app_id
    assert settings.wechat_app_secret
    assert settings.wechat_token is not None
    # No log record, at any level, carries the account's secrets (core/logs.py; access tokens by their parameter).
    logs.install(
        settings.wechat_app_secret.get_secret_value(),
        settings.wechat_token.get_secret_value(),
        settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else "",
    )
    api = WeChatApi(
        settings.wechat_api_url,
        settings.wechat_app_id,
        settings.wechat_app_secret.get_secret_value(),
        now=services.clock.now,
        qr_url=settings.wechat_qr_url,
    )
    bot = application.bot

    async def photo_bytes(media_id: int) -> bytes | None:
        # A proof photo she opens on her wish (我的心愿): the saved file, or Telegram's copy.
        return await stored_photo_bytes(bot, services.db, settings.media_dir, media_id)

    channel = WeChatChannel(services.env, services.catalogues, api, timer=services.timer, photo_bytes=photo_bytes)
    await channel.start(settings.wechat_host, settings.wechat_port)
    services.wechat = channel


async def start_wecom(application: TongxinApp) -> None:
    """Start the WeCom application's callback server when WECOM_* settings configure one (docs/wecom.md)."""
    services = application.bot_data
    settings = services.settings
    if not settings.wecom_enabled:
        return
    from channels.wecom.api import WeComApi
    from channels.wecom.server import WeComChannel

    assert settings.wecom_corp_id
    assert settings.wecom_agent_id
    assert settings.wecom_secret is not None
    assert settings.wecom_token is not None
    assert settings.wecom_aes_key is not None
    # No log record, at any level, carries the application's secrets (core/logs.py; access tokens by their parameter).
    logs.install(
        settings.wecom_secret.get_secret_value(),
        settings.wecom_token.get_secret_value(),
        settings.wecom_aes_key.get_secret_value(),
    )
    api = WeComApi(
        settings.wecom_api_url,
        settings.wecom_corp_id,
        settings.wecom_agent_id,
        settings.wecom_secret.get_secret_value(),
        now=services.clock.now,
    )
    channel = WeComChannel(services.env, services.catalogues, api, timer=services.timer)
    await channel.start(settings.wecom_host, settings.wecom_port)
    services.wecom = channel


async def start_screen(application: TongxinApp, port: int) -> ScreenServer:
    """The command-centre screen and Open311 on `port` (0: a free one), in this process (issue 15)."""
    services = application.bot_data
    screen = ScreenServer(services.db, services.settings, services.clock, services.catalogues)
    await screen.start(services.settings.screen_host, port)
    return screen


def _host_of(url: str) -> str:
    """The scheme and host of a Bot API URL, never the token or path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class TokenRejected(Exception):  # noqa: N818 - reads as what Telegram said
    """Telegram does not accept BOT_TOKEN: waiting will not help."""


async def wait_for_telegram(
    settings: Settings, *, first_delay: float = 1.0, max_delay: float = 60.0, timer: Timer | None = None
) -> None:
    """Ask Telegram who the bot is (getMe) until it answers, one line per failed try and backoff between
    tries (on `timer`); `TokenRejected` if Telegram answers that the token is wrong."""
    timer = timer or LoopTimer()
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    delay = first_delay
    while True:
        bot = Bot(
            settings.bot_token.get_secret_value(),
            base_url=settings.telegram_api_url,
            base_file_url=settings.telegram_file_url,
            request=AiohttpRequest(connection_pool_size=1),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        )
        try:
            await bot.initialize()
            return
        except InvalidToken as exc:
            raise TokenRejected(str(exc)) from None
        except NetworkError as exc:  # timeouts, refused connections, 5xx
            reason = exc.message.split(": ", 1)[-1] if exc.message else type(exc).__name__
            log.warning(
                "Telegram cannot be reached at %s (%s); trying again in %.0f s",
                settings.telegram_api_url,
                reason,
                delay,
            )
        finally:
            await bot.shutdown()
        await timer.sleep(delay)
        delay = min(delay * 2, max_delay)


def run_on_fast_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, on uvloop where it is installed (everywhere but Windows): the bot's own loop.

    Not used by the tests, which keep asyncio's loop so they run the same everywhere.
    """
    # Everything imported so far lives as long as the process: the collector need not scan it again.
    gc.freeze()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def serve_forever(settings: Settings, *, webhook: bool = False) -> None:
    """Run until SIGINT/SIGTERM (the `run` command; `webhook`: `run --webhook`)."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiting = asyncio.create_task(wait_for_telegram(settings))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({waiting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
        stopped.cancel()
        return
    stopped.cancel()
    waiting.result()  # TokenRejected ends the program
    async with running(settings, webhook=webhook) as application:
        lost = asyncio.ensure_future(application.bot_data.leadership.lost.wait())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({lost, stopped}, return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        stopped.cancel()
    if application.bot_data.leadership.lost.is_set() and not stop.is_set():
        raise LeaseLost("another instance leads now; exiting to start again as a standby")
