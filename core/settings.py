"""Runtime configuration: one validated `Settings` object read from the environment and `.env`.

Nothing else in the project reads `os.environ`. A wrong value is reported by `load_settings`
as one line naming the variable, so the CLI can stop with exit code 2 and no traceback.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# A WeCom member's userid (成员ID: 1-64 characters, letters, digits, _ - . @), named in staff commands as
# `wecom:USERID` and listed in WECOM_ADMIN_USERIDS.
WECOM_USERID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")

# What Telegram accepts for a webhook (core.telegram.org/bots/api#setwebhook).
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")

DEFAULT_CATEGORIES = (
    "policy_talk",
    "free_clinic",
    "hardship_help",
    "elderly_disabled",
    "environment",
    "farm_help",
    "traffic_guidance",
    "other",
)

DEFAULT_AREAS = (
    "城关镇",
    "东城社区",
    "西城社区",
    "南湖社区",
    "北山社区",
    "河口镇",
    "青山镇",
    "柳林乡",
    "石桥乡",
    "桃园村",
)


class SettingsError(Exception):
    """A configuration value is missing or wrong; the message names the variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of the bot; documented one by one in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr
    database_url: str = "sqlite+aiosqlite:///data/tongxin.db"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Shanghai"
    default_language: Language = "zh-CN"
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # Flows
    wish_review: bool = True
    categories: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    areas: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_AREAS))
    media_dir: Path = Path("data/media")
    whistle_radius_km: float = Field(default=3.0, gt=0, le=100)

    # Scheduler
    quiet_hours_start: dt.time = dt.time(22, 0)
    quiet_hours_end: dt.time = dt.time(8, 0)
    coordinator_digest_time: dt.time = dt.time(8, 30)
    editor_digest_time: dt.time = dt.time(9, 0)
    volunteer_digest_time: dt.time = dt.time(9, 0)
    claim_due_hours: int = Field(default=48, ge=1, le=24 * 30)
    unclaimed_alert_hours: int = Field(default=24, ge=1, le=24 * 30)
    pending_review_alert_hours: int = Field(default=12, ge=1, le=24 * 30)
    confirm_ask_hours: int = Field(default=72, ge=1, le=24 * 30)
    auto_release_hours: int = Field(default=48, ge=1, le=24 * 30)
    # After an auto-release, only the volunteers it was offered to may claim it for this long.
    offer_hold_minutes: int = Field(default=60, ge=0, le=24 * 60)
    wish_expiry_days: int = Field(default=30, ge=1, le=365)

    # Activities and certificates (issue 14)
    checkin_code_minutes: int = Field(default=10, ge=1, le=24 * 60)
    checkin_radius_m: int = Field(default=500, ge=10, le=100_000)
    checkin_round_minutes: int = Field(default=30, ge=1, le=120)
    certificate_issuer: str = Field(default="新时代文明实践中心", min_length=1, max_length=60)
    certificate_font: Path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    # WeChat service account (服务号), all optional: without app id, secret and token there is no WeChat channel.
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = Field(default=None, repr=False)
    wechat_token: SecretStr | None = None
    # The 43-character EncodingAESKey of "safe mode"; without it callbacks are plain XML.
    wechat_aes_key: SecretStr | None = None
    wechat_host: str = "0.0.0.0"
    wechat_port: int = Field(default=8088, ge=0, le=65535)
    wechat_api_url: str = "https://api.weixin.qq.com"
    # Where parametric QR codes' images are fetched (showqrcode lives on mp.weixin.qq.com, not the API host).
    wechat_qr_url: str = "https://mp.weixin.qq.com"
    # The template notice sent outside the 48-hour customer-service window (fields thing1, thing2, time3),
    # and the detail page its tap opens; without a template id such notices wait for the person to write.
    wechat_template_notice: str | None = None
    wechat_template_url: str = "https://mp.weixin.qq.com/"
    # Subscription notices (订阅通知, docs/wechat.md): the template id chosen in the account's console for each kind
    # of notice, by its catalogue key or the key's first part (`{"wish": "…", "task.reminder": "…"}`). Outside the
    # customer-service quota a notice goes as the subscription notice of its kind to a person who accepted that
    # template (long-term subscriptions, open to 政务民生 accounts, or one-time ones), else as the template notice.
    wechat_subscribe_templates: dict[str, str] = Field(default_factory=dict)
    # The public http(s) address the callback server is reached at (behind the reverse proxy that forwards /wechat):
    # a certificate sent on WeChat links to its verification page there (`/verify/<code>`). Empty: the certificate
    # tells how to verify it by sending 核验 <code> to the account instead.
    wechat_public_url: str | None = None
    # WeCom (企业微信) self-built application for staff (docs/wecom.md), all optional: the channel runs when corp id,
    # agent id, secret, token and EncodingAESKey are set. Its callback is served at /wecom on WECOM_HOST:WECOM_PORT.
    wecom_corp_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    wecom_agent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    wecom_secret: SecretStr | None = Field(default=None, repr=False)
    wecom_token: SecretStr | None = Field(default=None, repr=False)
    wecom_aes_key: SecretStr | None = Field(default=None, repr=False)
    wecom_host: str = "0.0.0.0"
    wecom_port: int = Field(default=8089, ge=0, le=65535)
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    # Members (userids) who are admins, comma-separated.
    wecom_admin_userids: Annotated[frozenset[str], NoDecode] = frozenset()
    # Departments and cases (issue 15): hours each response tier allows to resolve a case; the time to
    # acknowledge (签收) is this share of it, capped. Overdue cases escalate to coordinators, and at twice the
    # time to admins.
    case_urgent_hours: float = Field(default=2, gt=0, le=24 * 60)
    case_utility_hours: float = Field(default=24, gt=0, le=24 * 60)
    case_general_hours: float = Field(default=7 * 24, gt=0, le=24 * 60)
    case_complex_hours: float = Field(default=15 * 24, gt=0, le=24 * 60)
    case_ack_share: float = Field(default=0.25, gt=0, le=1)
    case_ack_max_hours: float = Field(default=24, gt=0, le=24 * 30)
    # Public-opinion events (issue 29): the hours each clock allows from the moment an event is raised (sources in
    # rules/events.py: upward report 15 min for I–II, 1 h for III, 6 h for IV; first response 4 h; authoritative
    # information 5 h and a press conference 24 h for I–II; a response 48 h for III–IV), and when a clock warns:
    # at this share of its time, at most this many minutes before it runs out.
    event_report_major_hours: float = Field(default=0.25, gt=0, le=24 * 30)
    event_report_large_hours: float = Field(default=1, gt=0, le=24 * 30)
    event_report_general_hours: float = Field(default=6, gt=0, le=24 * 30)
    event_first_response_hours: float = Field(default=4, gt=0, le=24 * 30)
    event_information_hours: float = Field(default=5, gt=0, le=24 * 30)
    event_press_hours: float = Field(default=24, gt=0, le=24 * 30)
    event_response_hours: float = Field(default=48, gt=0, le=24 * 30)
    event_warn_share: float = Field(default=0.8, gt=0, lt=1)
    event_warn_max_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # The district's Telegram channel editors publish accepted tips to (@name or -100… id); empty: none.
    channel_id: str = ""
    # The command-centre screen and Open311 (off when 0), its token, and the district map it draws.
    screen_port: int = Field(default=0, ge=0, le=65535)
    screen_host: str = "127.0.0.1"
    screen_token: SecretStr = SecretStr("")
    screen_map: Path | None = None
    # /healthz and /metrics for the operator (channels/health.py; off when 0).
    health_port: int = Field(default=0, ge=0, le=65535)
    health_host: str = "127.0.0.1"
    # Webhook mode (`run --webhook`, channels/telegram/webhook.py): the public HTTPS URL Telegram posts to (TLS ends at
    # the reverse proxy, on a port Telegram allows: 443, 80, 88 or 8443), where this instance listens behind it, and the
    # secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -).
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=0, le=65535)  # 0: a free port (the tests)
    webhook_secret: SecretStr | None = Field(default=None, repr=False)

    # Abuse limits
    wishes_per_day: int = Field(default=5, ge=1, le=1000)
    tips_per_day: int = Field(default=20, ge=1, le=1000)
    # Contact details are rationed: claimed wishes a volunteer holds at once, and claims plus releases a day.
    max_active_claims: int = Field(default=3, ge=1, le=100)
    claims_per_day: int = Field(default=10, ge=1, le=1000)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("categories", "areas", mode="before")
    @classmethod
    def _parse_lists(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("screen_map", mode="before")
    @classmethod
    def _empty_path(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdecimal() or not secret:
            raise ValueError("must look like 123456789:ABC... (the token @BotFather gave you)")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from exc
        return value

    @field_validator(
        "telegram_api_url",
        "telegram_file_url",
        "wechat_api_url",
        "wechat_qr_url",
        "wechat_template_url",
        "wecom_api_url",
    )
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("wechat_subscribe_templates")
    @classmethod
    def _check_subscribe_templates(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, template in value.items():
            if not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", kind) or len(kind) > 64:
                raise ValueError(f"{kind!r} is not a notice kind (a catalogue key such as wish or wish.notice_done)")
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", template):
                raise ValueError(f"{template!r} is not a template id from the account's console")
        return value

    @field_validator("wechat_aes_key", "wecom_aes_key")
    @classmethod
    def _check_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() and len(value.get_secret_value()) != 43:
            raise ValueError("must be the 43-character EncodingAESKey from the WeChat admin console")
        return value or None

    @field_validator("wechat_public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be a plain http(s) URL")
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be the public https:// URL Telegram posts updates to")
        try:
            port = parts.port or 443
        except ValueError:
            raise ValueError("has an invalid port") from None
        if port not in WEBHOOK_PORTS:
            raise ValueError("Telegram posts only to ports 443, 80, 88 and 8443")
        if parts.query or parts.fragment or len(value) > 512:
            raise ValueError("must be a plain URL (no query or fragment, at most 512 characters)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (what Telegram accepts)")
        return value

    @field_validator("wecom_admin_userids", mode="before")
    @classmethod
    def _parse_wecom_admins(cls, value: object) -> object:
        if isinstance(value, str):
            ids = frozenset(part.strip() for part in value.split(",") if part.strip())
            if any(not WECOM_USERID.fullmatch(userid) for userid in ids):
                raise ValueError("must be WeCom userids (1-64 characters of A-Z, a-z, 0-9, _ . @ -), comma-separated")
            return ids
        return value

    @field_validator("wecom_secret", "wecom_token")
    @classmethod
    def _empty_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @property
    def wecom_enabled(self) -> bool:
        """Whether a WeCom application is configured (corp id, agent id, secret, token and EncodingAESKey)."""
        return bool(
            self.wecom_corp_id and self.wecom_agent_id and self.wecom_secret and self.wecom_token and self.wecom_aes_key
        )

    @property
    def wechat_enabled(self) -> bool:
        """Whether a WeChat service account is configured (app id, secret and token)."""
        return bool(self.wechat_app_id and self.wechat_app_secret and self.wechat_token)

    @property
    def case_tier_hours(self) -> dict[str, float]:
        """Hours to resolve, per response tier."""
        return {
            "urgent": self.case_urgent_hours,
            "utility": self.case_utility_hours,
            "general": self.case_general_hours,
            "complex": self.case_complex_hours,
        }

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The deployment's time zone as a tzinfo."""
        return zoneinfo.ZoneInfo(self.timezone)


def normalize_database_url(value: str) -> str:
    """Accept plain `sqlite://` / `postgresql://` URLs and pick the asyncio driver for them."""
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError(
            f"cannot parse {value!r}; expected e.g. sqlite+aiosqlite:///data/tongxin.db "
            "or postgresql+asyncpg://user@host/db"
        ) from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database {backend!r}; use sqlite or postgresql")
    return url.render_as_string(hide_password=False)


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings; raise `SettingsError` naming the first bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        if error["type"] == "missing":
            message = "is not set"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
