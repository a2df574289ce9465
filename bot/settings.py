"""Runtime configuration: one validated `Settings` object read from the environment and `.env`.

Nothing else in the project reads `os.environ`. A wrong value is reported by `load_settings`
as one line naming the variable, so the CLI can stop with exit code 2 and no traceback.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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

    @field_validator("bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
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

    @field_validator("telegram_api_url", "telegram_file_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

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
