"""Settings: defaults, parsing, and one clear line for every mistake."""

from __future__ import annotations

import pytest

from core.settings import SettingsError, load_settings


def _load(**values: object) -> object:
    return load_settings(_env_file=None, **values)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings(_env_file=None, bot_token="1:abc")
    assert settings.database_url == "sqlite+aiosqlite:///data/tongxin.db"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.default_language == "zh-CN"
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.admin_ids == []


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "42:secret")
    monkeypatch.setenv("ADMIN_IDS", "1, 2,3")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == [1, 2, 3]
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "BOT_TOKEN: is not set"),
        ({"bot_token": "nocolon"}, "BOT_TOKEN: must look like"),
        ({"bot_token": "1:a", "database_url": "nonsense"}, "DATABASE_URL: cannot parse 'nonsense'"),
        ({"bot_token": "1:a", "database_url": "mysql://x/y"}, "DATABASE_URL: unsupported database"),
        ({"bot_token": "1:a", "timezone": "Mars/Olympus"}, "TIMEZONE: unknown time zone"),
        ({"bot_token": "1:a", "admin_ids": "1,x"}, "ADMIN_IDS"),
        ({"bot_token": "1:a", "default_language": "fr"}, "DEFAULT_LANGUAGE"),
        ({"bot_token": "1:a", "telegram_api_url": "ftp://x"}, "TELEGRAM_API_URL: must be an http(s) URL"),
        ({"bot_token": "1:a", "wechat_subscribe_templates": "[1]"}, "WECHAT_SUBSCRIBE_TEMPLATES"),
        ({"bot_token": "1:a", "wechat_subscribe_templates": {"Wish!": "T1"}}, "WECHAT_SUBSCRIBE_TEMPLATES: 'Wish!'"),
        ({"bot_token": "1:a", "wechat_subscribe_templates": {"wish": "a b"}}, "WECHAT_SUBSCRIBE_TEMPLATES: 'a b'"),
    ],
)
def test_mistakes_name_the_variable(monkeypatch: pytest.MonkeyPatch, values: dict[str, object], expected: str) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    with pytest.raises(SettingsError) as caught:
        _load(**values)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_subscription_templates_are_read_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_SUBSCRIBE_TEMPLATES", '{"wish": "tpl-Wish_1", "wish.notice_done": "tpl2"}')
    settings = load_settings(_env_file=None, bot_token="1:abc")
    assert settings.wechat_subscribe_templates == {"wish": "tpl-Wish_1", "wish.notice_done": "tpl2"}
