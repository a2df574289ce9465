"""Cards on WeCom: every decision staff take in the application is a template card of the button-interaction kind
(模板卡片 · 按钮交互型, developer.work.weixin.qq.com/document/path/90236 "模板卡片消息", the structures of path/101032
"模板卡片类型"), built by `decision_card` from a `Kind` (a wish's review: 通过 / 退回; a case sent to a department:
签收 / 退回; the case its member took: 办结 / 退回; a volunteer application: 通过 / 退回; an open wish nobody
claimed: 吹哨) or by `tip_card` (a tip's decisions as its status allows), all through `card`, within WeCom's field
limits. A press comes back as a `template_card_event` (path/90240 "模板卡片事件推送") carrying the card's `TaskId`
and the button's `EventKey` (`KEY`: the verb and the subject, a tip's also the status the card showed); the decision
goes through the same actions as Telegram's buttons (`channels.wecom.server`, `channels.wecom.work`), and every
recipient's card is then updated to say who decided (`update_template_card`, path/94888: each `response_code` works
once, within 72 hours — the one `message/send` returned for that recipient's card is spent on it).

Which cards were sent for a subject, with their response codes, are kept in the database (`storage.wecom`, under the
keys below), so whichever instance receives the press updates every card, after a restart too; who decided is read
from the record itself (the audit log, the application's `decided_by`, the case's `acknowledged_by`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from core.i18n import Catalogues

APPROVE = "approve"
REJECT = "reject"
ACKNOWLEDGE = "ack"
RESOLVE = "resolve"  # 办结 (after 签收)
HAND_BACK = "return"  # 退回 a case to the coordinators
APPLICATION_APPROVE = "vapprove"
APPLICATION_REJECT = "vreject"
WHISTLE = "whistle"
# A tip's decisions (the editor's card): the verb is `tip` and the decision's name, the key ends with the status the
# card showed (`actions.tips.SEEN_CODES`), so a press on an outdated card is caught as Telegram's is.
TIP_VERBS = ("tipaccept", "tipdecline", "tipmore", "tippublish")
# A button's key (at most 1024 bytes, path/90236): what it does and to which wish, case, application or tip.
KEY = re.compile(
    r"(approve|reject|ack|resolve|return|vapprove|vreject|whistle|tipaccept|tipdecline|tipmore|tippublish)"
    r":(\d{1,12})(?::([a-z]))?"
)


def task_id(kind: str, subject_id: int, person_id: int, now: dt.datetime) -> str:
    """The card's task id: unique per application (path/90236: at most 128 bytes of digits, letters and _-@, never
    reused), so one per subject, recipient and moment (a case sent again to its members gets new cards), with a
    random tail: two cards of one subject to one member within a millisecond (a review card asked for again by 待审
    as the sweep sends it) must not share one."""
    return f"{kind}{subject_id}p{person_id}t{int(now.timestamp() * 1000)}r{secrets.token_hex(4)}"


def wish_key(wish_id: int) -> str:
    """The CardBook key of a wish's review cards."""
    return f"wish:{wish_id}"


def case_key(case_id: int) -> str:
    """The CardBook key of a case's cards."""
    return f"case:{case_id}"


def application_key(application_id: int) -> str:
    """The CardBook key of a volunteer application's cards."""
    return f"app:{application_id}"


def holder_key(case_id: int) -> str:
    """The CardBook key of the card with 办结 / 退回 the member who took a case was sent."""
    return f"work:{case_id}"


def tip_key(tip_id: int, seen: str) -> str:
    """The CardBook key of a tip's cards while it is in the status `seen` (a SEEN_CODES letter)."""
    return f"tip:{tip_id}:{seen}"


def whistle_key(wish_id: int) -> str:
    """The CardBook key of the cards offering to blow the whistle on an open, unclaimed wish."""
    return f"whistle:{wish_id}"


def card(
    *,
    source: str,
    title: str,
    desc: str = "",
    body: str,
    task: str,
    buttons: list[tuple[str, int, str]],
) -> dict[str, Any]:
    """A button-interaction card (模板卡片 · 按钮交互型, path/90236), every kind of card built here: `source` its
    source line, `title` / `desc` its main title, `body` its sub title text, `task` its task id, `buttons`
    (text, style 1 blue / 2 grey, key). WeCom's limits: source 13 characters, main title 26, description 44,
    sub title 160 (shown shorter), 1 to 6 buttons of 10 characters each."""
    main_title = {"title": title[:26], **({"desc": desc[:44]} if desc else {})}
    return {
        "card_type": "button_interaction",
        "source": {"desc": source[:13]},
        "main_title": main_title,
        "sub_title_text": body[:160],
        "task_id": task,
        "button_list": [{"text": text[:10], "style": style, "key": key} for text, style, key in buttons[:6]],
    }


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of decision card: its task id's prefix, its source and title (message keys) and its buttons
    (label key, verb): the first is the main one (blue), the others grey."""

    prefix: str
    source: str
    title: str
    buttons: tuple[tuple[str, str], ...]


REVIEW = Kind(
    "w",
    "wecom.card.source",
    "wecom.card.wish_title",
    (("wecom.button.approve", APPROVE), ("wecom.button.reject", REJECT)),
)
CASE = Kind(
    "c",
    "wecom.card.case_source",
    "wecom.card.case_title",
    (("wecom.button.acknowledge", ACKNOWLEDGE), ("wecom.button.hand_back", HAND_BACK)),
)
HELD_CASE = Kind(
    "h",
    "wecom.card.case_source",
    "wecom.card.case_mine_title",
    (("wecom.button.resolve", RESOLVE), ("wecom.button.hand_back", HAND_BACK)),
)
APPLICATION = Kind(
    "a",
    "wecom.card.source",
    "wecom.card.application_title",
    (("wecom.button.approve", APPLICATION_APPROVE), ("wecom.button.reject", APPLICATION_REJECT)),
)
UNCLAIMED = Kind("s", "wecom.card.source", "wecom.card.whistle_title", (("wecom.button.whistle", WHISTLE),))


def decision_card(
    kind: Kind,
    catalogues: Catalogues,
    language: str,
    *,
    subject_id: int,
    person_id: int,
    body: str,
    now: dt.datetime,
    desc: str = "",
    **title_values: object,
) -> dict[str, Any]:
    """The card of one subject (a wish, case, application) for one recipient, in their language; `title_values`
    fill the title."""
    buttons = [
        (catalogues.text(language, label), 1 if number == 0 else 2, f"{verb}:{subject_id}")
        for number, (label, verb) in enumerate(kind.buttons)
    ]
    return card(
        source=catalogues.text(language, kind.source),
        title=catalogues.text(language, kind.title, **title_values),
        desc=desc,
        body=body,
        task=task_id(kind.prefix, subject_id, person_id, now),
        buttons=buttons,
    )


def tip_card(
    *,
    source: str,
    title: str,
    body: str,
    tip_id: int,
    person_id: int,
    seen: str,
    decisions: list[tuple[str, str]],
    now: dt.datetime,
) -> dict[str, Any]:
    """An editor's card of a tip (`title`, `body` already in the editor's language) with the decisions its status
    allows: (button text, decision name: accept, decline, more, publish)."""
    return card(
        source=source,
        title=title,
        body=body,
        task=task_id(f"t{seen}", tip_id, person_id, now),
        buttons=[(text, 1 if i == 0 else 2, f"tip{name}:{tip_id}:{seen}") for i, (text, name) in enumerate(decisions)],
    )
