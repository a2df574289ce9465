"""Cards on WeCom. A case sent to a department reaches its members on WeCom as a card with 签收 (`case_card`; the
press goes through `actions.cases.acknowledge`, and every member's card then says who took it). Review cards: a
wish waiting for review reaches each coordinator on WeCom as a template card of the
button-interaction kind (模板卡片 · 按钮交互型, developer.work.weixin.qq.com/document/path/90236 "模板卡片消息"),
with 通过 / 退回. A press comes back as a `template_card_event` (path/90240 "模板卡片事件推送") carrying the card's
`TaskId` and the button's `EventKey`; the decision goes through the same actions as Telegram's review
(`actions.wishes.approve` / `reject`), and every recipient's card is then updated to say who decided
(`update_template_card`, path/94888: each `response_code` works once, within 72 hours — the one `message/send`
returned for that recipient's card is spent on it).

Which cards were sent for a wish or case, with their response codes, are kept in the database (`storage.wecom`),
so whichever instance receives the press updates every card, after a restart too; who decided is read from the
record itself (the audit log of the review, the case's `acknowledged_by`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.i18n import Catalogues

APPROVE = "approve"
REJECT = "reject"
ACKNOWLEDGE = "ack"
# A button's key (at most 1024 bytes, path/90236): what it does and to which wish or case.
KEY = re.compile(r"(approve|reject|ack):(\d{1,12})")


def task_id(kind: str, subject_id: int, person_id: int, now: dt.datetime) -> str:
    """The card's task id: unique per application (path/90236: at most 128 bytes of digits, letters and _-@, never
    reused), so one per subject, recipient and moment (a case sent again to its members gets new cards)."""
    return f"{kind}{subject_id}p{person_id}t{int(now.timestamp() * 1000)}"


def wish_key(wish_id: int) -> str:
    """The CardBook key of a wish's review cards."""
    return f"wish:{wish_id}"


def case_key(case_id: int) -> str:
    """The CardBook key of a case's cards."""
    return f"case:{case_id}"


def review_card(
    catalogues: Catalogues,
    language: str,
    *,
    wish_id: int,
    person_id: int,
    ref: str,
    category: str,
    description: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The button-interaction card of a wish waiting for review (field limits of path/90236: main title 26
    characters, description 44, sub title 160 here clipped shorter, button text 10)."""

    def t(key: str, **values: object) -> str:
        return catalogues.text(language, key, **values)

    return {
        "card_type": "button_interaction",
        "source": {"desc": t("wecom.card.source")[:13]},
        "main_title": {
            "title": t("wecom.card.wish_title", ref=ref)[:26],
            "desc": t("wecom.card.wish_desc", category=t(f"category.{category}"))[:44],
        },
        "sub_title_text": t("wecom.card.wish_body", description=description)[:120],
        "task_id": task_id("w", wish_id, person_id, now),
        "button_list": [
            {"text": t("wecom.button.approve")[:10], "style": 1, "key": f"{APPROVE}:{wish_id}"},
            {"text": t("wecom.button.reject")[:10], "style": 2, "key": f"{REJECT}:{wish_id}"},
        ],
    }


def case_card(
    catalogues: Catalogues, language: str, *, case_id: int, person_id: int, ref: str, text: str, now: dt.datetime
) -> dict[str, Any]:
    """The card of a case sent to a department (`text`: the case notice as text), with 签收; handing it back stays
    on Telegram for now."""

    def t(key: str, **values: object) -> str:
        return catalogues.text(language, key, **values)

    return {
        "card_type": "button_interaction",
        "source": {"desc": t("wecom.card.case_source")[:13]},
        "main_title": {"title": t("wecom.card.case_title", ref=ref)[:26]},
        "sub_title_text": text[:160],
        "task_id": task_id("c", case_id, person_id, now),
        "button_list": [{"text": t("wecom.button.acknowledge")[:10], "style": 1, "key": f"{ACKNOWLEDGE}:{case_id}"}],
    }
