"""Review cards on WeCom: a wish waiting for review reaches each coordinator on WeCom as a template card of the
button-interaction kind (模板卡片 · 按钮交互型, developer.work.weixin.qq.com/document/path/90236 "模板卡片消息"),
with 通过 / 退回. A press comes back as a `template_card_event` (path/90240 "模板卡片事件推送") carrying the card's
`TaskId` and the button's `EventKey`; the decision goes through the same actions as Telegram's review
(`actions.wishes.approve` / `reject`), and every recipient's card is then updated to say who decided
(`update_template_card`, path/94888: each `response_code` works once, within 72 hours — the one `message/send`
returned for that recipient's card is spent on it).

Which cards were sent for a wish (recipient, task id, response code) and who decided are kept in memory by the
process that sent them (`CardBook`): after a restart, cards sent before it are no longer updated (a press on one
still decides, or is told the wish was already handled).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import Catalogues

APPROVE = "approve"
REJECT = "reject"
# A card's task id: unique per application, at most 128 bytes of digits, letters and _-@ (path/90236).
TASK = re.compile(r"w(\d{1,12})p(\d{1,12})")
# A button's key: at most 1024 bytes (path/90236).
KEY = re.compile(r"(approve|reject):(\d{1,12})")
CODE_LIFETIME = dt.timedelta(hours=72)


def task_id(wish_id: int, person_id: int) -> str:
    """The card's task id for this recipient (one card per wish and person)."""
    return f"w{wish_id}p{person_id}"


def review_card(
    catalogues: Catalogues, language: str, *, wish_id: int, person_id: int, ref: str, category: str, description: str
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
        "task_id": task_id(wish_id, person_id),
        "button_list": [
            {"text": t("wecom.button.approve")[:10], "style": 1, "key": f"{APPROVE}:{wish_id}"},
            {"text": t("wecom.button.reject")[:10], "style": 2, "key": f"{REJECT}:{wish_id}"},
        ],
    }


@dataclass
class Sent:
    """One recipient's card: their userid and the response code `message/send` gave for it (used once)."""

    userid: str
    response_code: str
    sent_at: dt.datetime


@dataclass
class WishCards:
    """The cards sent for one wish, and who decided from one."""

    sent: list[Sent] = field(default_factory=list)
    decided_by: str | None = None
    decision: str | None = None


class CardBook:
    """Cards sent per wish (in memory; see the module docstring)."""

    def __init__(self) -> None:
        self._wishes: dict[int, WishCards] = {}

    def sent(self, wish_id: int, userid: str, response_code: str, now: dt.datetime) -> None:
        """Remember a card sent to `userid`."""
        self._wishes.setdefault(wish_id, WishCards()).sent.append(Sent(userid, response_code, now))

    def of(self, wish_id: int) -> WishCards:
        """The wish's cards (none yet: an empty record)."""
        return self._wishes.setdefault(wish_id, WishCards())

    def take_codes(self, wish_id: int, now: dt.datetime) -> list[Sent]:
        """The cards whose response code can still update them (within 72 hours), taken: each is used once."""
        cards = self.of(wish_id)
        live = [s for s in cards.sent if now - s.sent_at < CODE_LIFETIME]
        cards.sent = []
        return live
