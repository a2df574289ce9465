"""Subscription notices (订阅通知) of the service account: who accepted which template, and which template a notice
goes as.

A follower subscribes in an article or a page of the account (the subscribe component, `wx-open-subscribe`): WeChat
pushes `subscribe_msg_popup_event` with each template's `accept` or `reject`, and `subscribe_msg_change_event` when
they turn a template off later in the 服务通知 settings (only `reject` is pushed); `subscribe_msg_sent_event`
reports a delivery. Source: 订阅通知的事件推送,
developers.weixin.qq.com/doc/service/guide/product/subscription_messages/push.html.
The decisions are kept per follower (`storage.wechat.record_consent`); the events get no reply and open no
customer-service quota (`conversation.is_silent`).

A subscription is one-time (one notice per acceptance) or long-term (any number; only 政务民生, medical and other
public-service accounts may choose such templates): the account's template list (`wxaapi/newtmpl/gettemplate`)
says which (`type` 2 or 3), and which keywords each template shows (`{{thing1.DATA}}` …). Source: 订阅通知介绍,
developers.weixin.qq.com/doc/service/Subscription_Messages/intro.html, and 发送订阅通知 (`sendNewSubscribeMsg`,
…/doc/service/api/notify/notify/api_sendnewsubscribemsg.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

POPUP = "subscribe_msg_popup_event"
CHANGE = "subscribe_msg_change_event"
SENT = "subscribe_msg_sent_event"
EVENTS = frozenset({POPUP, CHANGE, SENT})
ONE_TIME, LONG_TERM = 2, 3  # a template's `type` in gettemplate
_KEYWORD = re.compile(r"\{\{\s*([a-z_]+\d+)\.DATA\s*\}\}")


@dataclass(frozen=True, slots=True)
class Decision:
    """What one subscription event says: the templates accepted and the ones turned down or off."""

    accepted: list[str]
    withdrawn: list[str]


def decision_of(data: dict[str, Any]) -> Decision | None:
    """The follower's decision in a parsed subscription event (None: not a popup or change event)."""
    event = str(data.get("Event", "")).lower()
    if event not in (POPUP, CHANGE):
        return None
    # The change event's list comes under SubscribeMsgChangeEvent; the page's own example shows it under
    # SubscribeMsgPopupEvent, so either is read.
    box = data.get("SubscribeMsgChangeEvent") or data.get("SubscribeMsgPopupEvent") or {}
    entries = box.get("List") if isinstance(box, dict) else None
    if isinstance(entries, dict):
        entries = [entries]  # one template: xmltodict gives the element, not a list
    accepted: list[str] = []
    withdrawn: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        template = str(entry.get("TemplateId") or "").strip()
        if not template or len(template) > 128:
            continue
        status = str(entry.get("SubscribeStatusString") or "").lower()
        if status == "accept" and event == POPUP:
            accepted.append(template)
        elif status == "reject":
            withdrawn.append(template)
    return Decision(accepted, withdrawn)


def template_for(templates: dict[str, str], notice_key: str) -> str | None:
    """The subscription template configured for a notice (`WECHAT_SUBSCRIBE_TEMPLATES`): by its whole catalogue key,
    else by the key's first part."""
    return templates.get(notice_key) or templates.get(notice_key.split(".", 1)[0])


@dataclass(frozen=True, slots=True)
class Template:
    """One of the account's subscription templates: one-time or long-term, and the keywords it shows."""

    long_term: bool
    keywords: frozenset[str]


def templates_of(listing: list[dict[str, Any]]) -> dict[str, Template]:
    """The account's templates from gettemplate's `data` (priTmplId, type, content with its `{{name.DATA}}`)."""
    found: dict[str, Template] = {}
    for entry in listing:
        template = str(entry.get("priTmplId") or "")
        if template:
            keywords = frozenset(_KEYWORD.findall(str(entry.get("content") or "")))
            found[template] = Template(entry.get("type") == LONG_TERM, keywords)
    return found
