"""Subscription events as WeChat pushes them (订阅通知的事件推送): one template or several, accepted or rejected, and
which template a notice goes as."""

from __future__ import annotations

import pytest
import xmltodict

from channels.wechat.subscriptions import Decision, decision_of, template_for, templates_of


def parsed(event: str, container: str, entries: list[tuple[str, str]]) -> dict[str, object]:
    lists = "".join(
        f"<List><TemplateId><![CDATA[{t}]]></TemplateId><SubscribeStatusString><![CDATA[{s}]]>"
        "</SubscribeStatusString></List>"
        for t, s in entries
    )
    xml = (
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
        f"<CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<{container}>{lists}</{container}></xml>"
    )
    return dict(xmltodict.parse(xml)["xml"])


@pytest.mark.parametrize(
    ("event", "container", "entries", "decision"),
    [
        ("subscribe_msg_popup_event", "SubscribeMsgPopupEvent", [("A", "accept")], Decision(["A"], [])),
        (
            "subscribe_msg_popup_event",
            "SubscribeMsgPopupEvent",
            [("A", "accept"), ("B", "reject")],
            Decision(["A"], ["B"]),
        ),
        ("subscribe_msg_change_event", "SubscribeMsgChangeEvent", [("A", "reject")], Decision([], ["A"])),
        # The page's own example of the change event puts its list under SubscribeMsgPopupEvent.
        ("subscribe_msg_change_event", "SubscribeMsgPopupEvent", [("A", "reject")], Decision([], ["A"])),
        # A change event cannot accept anything.
        ("subscribe_msg_change_event", "SubscribeMsgChangeEvent", [("A", "accept")], Decision([], [])),
    ],
)
def test_a_decision_is_read_from_its_event(
    event: str, container: str, entries: list[tuple[str, str]], decision: Decision
) -> None:
    assert decision_of(parsed(event, container, entries)) == decision


def test_other_events_carry_no_decision() -> None:
    assert decision_of({"MsgType": "event", "Event": "subscribe_msg_sent_event"}) is None
    assert decision_of({"MsgType": "event", "Event": "CLICK", "EventKey": "MYWISHES"}) is None


def test_the_whole_key_wins_over_its_kind() -> None:
    templates = {"wish": "T-WISH", "wish.notice_done": "T-DONE"}
    assert template_for(templates, "wish.notice_done") == "T-DONE"
    assert template_for(templates, "wish.notice_claimed") == "T-WISH"
    assert template_for(templates, "broadcast.message") is None


def test_templates_say_their_type_and_keywords() -> None:
    listing = [
        {"priTmplId": "L", "type": 3, "content": "事项:{{thing1.DATA}}\n时间:{{time3.DATA}}"},
        {"priTmplId": "O", "type": 2, "content": "{{phrase5.DATA}}"},
    ]
    found = templates_of(listing)
    assert found["L"].long_term
    assert found["L"].keywords == {"thing1", "time3"}
    assert not found["O"].long_term
    assert found["O"].keywords == {"phrase5"}
