"""The WeCom simulator refuses what WeCom refuses (so a bot that passes the stories keeps WeCom's rules): a response
code updates a card once and only within 72 hours, a card's task id is never reused, a member gets at most 30
messages a minute, a token WeCom revoked answers 42001. Driven through the bot's own API client."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.clock import ManualClock
from channels.wecom.api import WeComApi, WeComError
from simulator.wecom import WeComSimulator


@pytest.fixture
async def api(wc: WeComSimulator) -> AsyncIterator[WeComApi]:
    """The bot's client of the application's API."""
    client = WeComApi(wc.api_url, wc.corp_id, wc.agent_id, wc.secret, now=wc.now)
    yield client
    await client.close()


def card(task: str) -> dict[str, object]:
    """A button-interaction card with this task id."""
    return {
        "card_type": "button_interaction",
        "main_title": {"title": "心愿 W-0001 等待审核"},
        "task_id": task,
        "button_list": [{"text": "通过", "style": 1, "key": "approve:1"}],
    }


async def test_a_response_code_updates_once_and_only_within_72_hours(
    wc: WeComSimulator, api: WeComApi, clock: ManualClock
) -> None:
    wc.member("陈主任", "chenzr")
    first = await api.send("chenzr", "template_card", card("t1"))
    second = await api.send("chenzr", "template_card", card("t2"))
    await api.update_card_button(["chenzr"], str(first["response_code"]), "已由陈主任通过")
    assert wc.members["chenzr"].inbox[0].card is not None
    assert wc.members["chenzr"].inbox[0].card.replaced == "已由陈主任通过"
    with pytest.raises(WeComError):
        await api.update_card_button(["chenzr"], str(first["response_code"]), "again")
    clock.advance(dt.timedelta(hours=72))
    with pytest.raises(WeComError):
        await api.update_card_button(["chenzr"], str(second["response_code"]), "too late")
    assert [r.reason for r in wc.refusals] == [
        "response_code already used (one update each)",
        "response_code older than 72 hours",
    ]


async def test_task_ids_are_never_reused_and_a_member_gets_30_messages_a_minute(
    wc: WeComSimulator, api: WeComApi, clock: ManualClock
) -> None:
    wc.member("陈主任", "chenzr")
    await api.send("chenzr", "template_card", card("same"))
    with pytest.raises(WeComError):
        await api.send("chenzr", "template_card", card("same"))
    for number in range(29):
        await api.send("chenzr", "text", {"content": f"第 {number} 条"})
    with pytest.raises(WeComError) as refused:
        await api.send("chenzr", "text", {"content": "第 31 条"})
    assert refused.value.errcode == 45009
    clock.advance(dt.timedelta(minutes=1))
    await api.send("chenzr", "text", {"content": "下一分钟"})
    with pytest.raises(WeComError) as unknown:
        await api.send("nobody", "text", {"content": "谁"})
    assert unknown.value.errcode == 81013


async def test_a_revoked_token_answers_42001_and_the_client_fetches_a_new_one_once(
    wc: WeComSimulator, api: WeComApi
) -> None:
    wc.member("陈主任", "chenzr")
    await api.send("chenzr", "text", {"content": "一"})
    wc.expire_tokens()
    await api.send("chenzr", "text", {"content": "二"})
    assert wc.token_calls == 2
    assert [r.text for r in wc.members["chenzr"].inbox] == ["一", "二"]
    assert wc.refusals == []
