"""Typed access to the bot's services from every callback: `context.db`, `context.t(...)`, `context.person`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from channels.telegram import render
from rules.roles import Role
from storage.users import User

if TYPE_CHECKING:
    from actions.env import Env
    from actions.notify import Notifier
    from channels.health import Health
    from channels.lease import Leadership
    from channels.telegram.webhook import WebhookServer
    from channels.wechat.server import WeChatChannel
    from channels.wecom.server import WeComChannel
    from core.clock import Clock, Timer
    from core.i18n import Catalogues
    from core.settings import Settings
    from storage.db import Database


class BotData:
    """The services one bot process shares; filled in by `bot.app.build_application`."""

    settings: Settings
    db: Database
    clock: Clock
    # What pacing, back-off and deadlines wait on (the event loop's time; virtual time in the stories).
    timer: Timer
    catalogues: Catalogues
    notifier: Notifier
    env: Env
    # /healthz and /metrics (channels/health.py): counted always, served when HEALTH_PORT is set.
    health: Health
    # Whether this instance leads (polls, sweeps, sends) and under which epoch (channels/lease.py, issue 30).
    leadership: Leadership
    # The WeChat service account, when one is configured (bot.app.running starts it).
    wechat: WeChatChannel | None = None
    # The WeCom application for staff, when one is configured (bot.app.running starts it).
    wecom: WeComChannel | None = None
    # Telegram's webhook receiver in webhook mode (channels/telegram/webhook.py; bot.app.running starts it).
    webhook: WebhookServer | None = None

    def __init__(self) -> None:
        # When each of the sweep's steps last ran in this process (`scheduler.sweep`).
        self.swept: dict[str, dt.datetime] = {}


class TongxinContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context with the services and the person behind the update."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        # The person behind the update: `person.id` is the internal person id, not a Telegram id.
        self.person: User | None = None
        self.roles: frozenset[Role] = frozenset({Role.RESIDENT})

    @property
    def chat_id(self) -> int:
        """The Telegram chat of the update being answered: where direct replies go (never `person.id`)."""
        if self._chat_id is None:
            raise RuntimeError("this update has no chat")
        return self._chat_id

    @property
    def telegram_user_id(self) -> int:
        """The Telegram user id behind the update (channel state, ADMIN_IDS, their private chat)."""
        if self._user_id is None:
            raise RuntimeError("this update has no user")
        return self._user_id

    @property
    def settings(self) -> Settings:
        """Validated settings."""
        return self.bot_data.settings

    @property
    def db(self) -> Database:
        """The database."""
        return self.bot_data.db

    @property
    def env(self) -> Env:
        """What actions need (database, clock, settings, the sender's wake-up)."""
        return self.bot_data.env

    @property
    def clock(self) -> Clock:
        """Where now comes from."""
        return self.bot_data.clock

    @property
    def notifier(self) -> Notifier:
        """The one way to message someone who is not the person being answered."""
        return self.bot_data.notifier

    def now(self) -> dt.datetime:
        """The current time, aware UTC."""
        return self.bot_data.clock.now()

    @property
    def lang(self) -> str:
        """The language of the person being answered."""
        return self.person.language if self.person else self.settings.default_language

    def t(self, key: str, /, **values: object) -> str:
        """A message in the language of the person being answered, as Telegram HTML (values as given)."""
        return render.text(self.bot_data.catalogues, self.lang, key, **values)

    def plain(self, key: str, /, **values: object) -> str:
        """The same as plain text, for alerts and button labels (Telegram shows them unparsed)."""
        return render.plain(self.bot_data.catalogues, self.lang, key, **values)

    def has_role(self, *roles: Role) -> bool:
        """Whether the person holds one of these roles (admins count as every staff role)."""
        return any(role in self.roles for role in roles)


# The application as built by `bot.app.build_application`: its context and bot_data types.
TongxinApp = Application[Any, TongxinContext, dict[Any, Any], dict[Any, Any], BotData, Any]
