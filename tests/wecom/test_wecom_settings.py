"""WeCom's settings: the channel runs only with all five of corp id, agent id, secret, token and EncodingAESKey;
admins' userids and the key are checked, and a mistake names its variable on one line; the secrets stay out of the
settings' repr."""

from __future__ import annotations

import pytest

from core.settings import SettingsError, load_settings

FIVE: dict[str, object] = {
    "wecom_corp_id": "ww0123456789",
    "wecom_agent_id": 1000002,
    "wecom_secret": "the-secret",
    "wecom_token": "the-token",
    "wecom_aes_key": "A" * 43,
}


def test_the_channel_runs_with_all_five_and_admins_are_a_set_of_userids() -> None:
    settings = load_settings(_env_file=None, bot_token="1:abc", wecom_admin_userids="chenzr, li.gs ,", **FIVE)
    assert settings.wecom_enabled
    assert settings.wecom_admin_userids == frozenset({"chenzr", "li.gs"})
    assert "the-secret" not in repr(settings)
    assert "the-token" not in repr(settings)
    for missing in FIVE:
        partial = {name: value for name, value in FIVE.items() if name != missing}
        assert not load_settings(_env_file=None, bot_token="1:abc", **partial).wecom_enabled


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"wecom_aes_key": "short"}, "WECOM_AES_KEY"),
        ({"wecom_admin_userids": "chen zr"}, "WECOM_ADMIN_USERIDS"),
        ({"wecom_corp_id": "ww/1"}, "WECOM_CORP_ID"),
        ({"wecom_agent_id": 0}, "WECOM_AGENT_ID"),
        ({"wecom_api_url": "qyapi.weixin.qq.com"}, "WECOM_API_URL"),
    ],
)
def test_mistakes_name_the_variable(values: dict[str, object], expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, bot_token="1:abc", **{**FIVE, **values})
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)
