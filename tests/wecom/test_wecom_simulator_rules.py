"""The WeCom simulator refuses what WeCom refuses (so a bot that passes the stories keeps WeCom's rules): a response
code updates a card once and only within 72 hours, a card's task id is never reused, a member gets at most 30
messages a minute, a token WeCom revoked answers 42001. Driven through the bot's own API client."""

from __future__ import annotations

import datetime as dt

import pytest

from channels.wecom.api import WeComApi, WeComError
from core.clock import ManualClock
from simulator.wecom import WeComSimulator


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


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"button_list": [{"text": "通过并且通知所有的人们", "style": 1, "key": "k"}]}, "at most 10 characters"),
        ({"button_list": [{"text": "通过", "style": 5, "key": "k"}]}, "style: 1 to 4"),
        ({"button_list": [{"text": "通过", "style": 1}]}, "a text and a key"),
        ({"button_list": []}, "1 to 6 buttons"),
        ({"main_title": {"title": "题" * 27}}, "main_title.title"),
        ({"main_title": {"title": "心愿", "desc": "述" * 45}}, "main_title.desc"),
        ({"source": {"desc": "源" * 14}}, "source.desc"),
        ({"sub_title_text": "文" * 161}, "sub_title_text"),
        ({"task_id": "has space"}, "task_id"),
        ({"card_type": "text_notice"}, "card_type"),
    ],
)
async def test_a_card_wecom_would_not_take_is_refused(
    wc: WeComSimulator, api: WeComApi, change: dict[str, object], reason: str
) -> None:
    """Each field of a button-interaction card within the limits of path/90236 and path/101032, or refused."""
    wc.member("陈主任", "chenzr")
    with pytest.raises(WeComError) as refused:
        await api.send("chenzr", "template_card", {**card("shape"), **change})
    assert refused.value.errcode == 40058
    assert len(wc.refusals) == 1
    assert reason in wc.refusals[0].reason
    wc.refusals.clear()
    assert wc.members["chenzr"].inbox == []


async def test_an_update_wecom_would_not_take_is_refused_and_media_expire_after_3_days(
    wc: WeComSimulator, api: WeComApi, clock: ManualClock
) -> None:
    wc.member("陈主任", "chenzr")
    sent = await api.send("chenzr", "template_card", card("u1"))
    code = str(sent["response_code"])
    with pytest.raises(WeComError):
        await api.update_card_button(["chenzr"], code, "已由陈主任通过了这个心愿")  # past 10 characters
    with pytest.raises(WeComError):
        await api.update_card_button([], code, "已通过")  # nobody named
    await api.update_card_button(["chenzr"], code, "已通过")  # the code was not spent by the refusals
    assert [r.reason for r in wc.refusals] == [
        "button.replace_name: at most 10 characters",
        "userids: 1 to 1000 members",
    ]
    wc.refusals.clear()

    # A member's photo is downloadable for 3 days (获取临时素材, path/90254), then 40007.
    wc.media["m1"] = (b"\xff\xd8 photo \xff\xd9", clock.now())
    assert await api.download_media("m1") == b"\xff\xd8 photo \xff\xd9"
    clock.advance(dt.timedelta(days=3))
    with pytest.raises(WeComError) as expired:
        await api.download_media("m1")
    assert expired.value.errcode == 40007
    wc.refusals.clear()
