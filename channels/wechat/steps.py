"""WeChat's adapter for the conversations written once (`conversations/`): an outcome becomes one
customer-service message (its texts joined, so a menu tap's quota of three messages a minute is not spent on one
step), the choices as a msgmenu numbered in the order of their rows (`render.custom_message`); a step that may be
skipped gets a 跳过 item; edits in place are Telegram's and show nothing here. A tap's answer is a line of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from actions.buttons import Act, Button
from channels.wechat import render
from channels.wechat.render import Reply
from conversations.base import Conversation, Outcome, Param, Say, State
from conversations.not_yet import NAME as NOT_YET
from conversations.wish import FIELDS, WishConversation, WishForm
from conversations.wish import NAME as WISH
from core.i18n import Catalogues

SKIP = Button("wish.button.skip", Act.STEP_SKIP)


def words(catalogues: Catalogues, language: str, say: Say) -> str:
    """A `Say` as WeChat shows it: plain text, values as they are, nested texts translated, the leave hint."""
    values = {name: value_of(catalogues, language, value) for name, value in say.params.items()}
    text = render.text(catalogues, language, say.key, **values)
    return f"{text}\n{render.text(catalogues, language, 'conversation.leave_hint')}" if say.hint else text


def value_of(catalogues: Catalogues, language: str, value: Param) -> object:
    """One value of a `Say`: a nested text translated, a list joined."""
    if isinstance(value, Say):
        return words(catalogues, language, value)
    if isinstance(value, tuple):
        separator = render.text(catalogues, language, "conversation.list_separator")
        return separator.join(str(value_of(catalogues, language, part)) for part in value)
    return value


def labelled(catalogues: Catalogues, language: str, say: Say, button: Button) -> Button:
    """A button with its label in the person's language (its argument shown where the label says `{arg}`, the
    step's `labels` filled in, ✅ before a chosen one)."""
    values = {name: value_of(catalogues, language, value) for name, value in say.labels.items()}
    shown = button.label[1:] if button.label.startswith("=") else ""
    shown = shown or render.text(catalogues, language, button.label, arg=button.arg or "", **values)
    return replace(button, label="=" + (f"✅ {shown}" if button in say.chosen else shown))


def replies(catalogues: Catalogues, language: str, outcome: Outcome) -> list[Reply]:
    """The customer-service messages of an outcome."""
    found: list[Reply] = []
    if outcome.answer is not None:
        found.append(Reply(words(catalogues, language, outcome.answer)))
    if not outcome.says:
        return found
    rows: list[list[Button]] = []
    for say in outcome.says:
        rows += [[labelled(catalogues, language, say, b) for b in row] for row in say.choices]
        if say.skip and not any(b.act == Act.STEP_SKIP for row in say.choices for b in row):
            rows.append([labelled(catalogues, language, say, SKIP)])
    text = "\n".join(words(catalogues, language, say) for say in outcome.says)
    choices = tuple(render.choices_of(catalogues, language, rows))
    tail = render.text(catalogues, language, "wechat.choose_tail") if choices else ""
    return [*found, Reply(text, choices, tail=tail)]


def layer_state(stored: object, conversations: Mapping[str, Conversation]) -> State | None:
    """The conversation kept with a WeChat person (`{"layer": ...}`), or a wish form or a 还没办好 note kept by the
    copies that were here before the layer (`{"step": ..., "draft": {... "photo": <media id>}}`, `{"step":
    "not_yet", "wish": <id>}`): it goes on either way."""
    if not isinstance(stored, dict):
        return None
    if "layer" in stored:
        kept = stored["layer"]
        found = conversations.get(str(kept.get("conversation"))) if isinstance(kept, dict) else None
        return found.state_from_json(kept) if found is not None else None
    if stored.get("step") == "not_yet" and (not_yet := conversations.get(NOT_YET)) is not None:
        return not_yet.state_from_json({"conversation": NOT_YET, "step": "note", "draft": stored.get("wish")})
    wish = conversations.get(WISH)
    step, draft = stored.get("step"), stored.get("draft")
    if not isinstance(wish, WishConversation) or not isinstance(draft, dict):
        return None
    if not (step in FIELDS.values() or step in ("field", "summary")):
        return None
    photo = draft.get("photo")
    form = WishForm.from_json({**draft, "photo": None, "photo_media": photo if type(photo) is int else None})
    return wish.state("summary" if step == "field" else str(step), form)
