"""The WeChat renderer: catalogue text without markup, buttons as a msgmenu, template notices with short fields.

WeChat shows text as it is: no HTML, `**bold**` is simply taken out and values go in unescaped. There are no
inline buttons: a notice's buttons become a `msgmenu` customer-service message whose items come back, when
tapped, as a text message carrying `bizmsgmenuid` (the press, in the same `act:subject:arg` wire format as
Telegram's callback data, checked against `actions.buttons.SPECS`). Each item is numbered, so a person can also
type the number (`choices` is kept with the conversation for that).

WeChat has no commands: where a catalogue text tells people to type one ("发送 /mywishes"), the catalogue also
holds the WeChat wording under the same key with the suffix `.wechat` (`wish.submitted_open.wechat`: "点菜单
“我的心愿”"), and `text` takes that variant whenever the language defines it. `tests/wechat/test_wechat_texts.py`
renders every key WeChat can show and fails on any "/command" left in it.

A notice's map pin cannot be sent on WeChat: its coordinates are added to the text (`wechat.notice_location`).

Template notices (outside the 48-hour window) allow no line breaks and at most 20 characters per field: the
notice is cut down to its first line for `thing1` (or its `<key>.headline`, where the first line would be cut
before it says what happened), the reference for `character_string2`, the local time for `time3`, and a notice
with a photo says where to see it in `thing4`. A subscription notice takes the same fields that its template has,
each within its keyword's rule (`subscription_fields`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from actions.buttons import Act, Button, Press, parse_press, press_data
from actions.messages import Notice
from core.i18n import Catalogues

_BOLD = re.compile(r"\*\*(.+?)\*\*")
VARIANT = ".wechat"  # the suffix of a catalogue key's WeChat wording
TEXT_BYTES = 2000  # WeChat takes 2048 bytes of text per customer-service message
FIELD_CHARS = 20
MENU_ITEMS = 10
MENU_TEXT_BYTES = 1000  # what a menu message's head (and tail) text is cut to: WeChat takes 1024 bytes
MENU_ITEM_BYTES = 128  # an item's text
HEADLINE = ".headline"  # the catalogue key (a notice's key and this) of its template notice's first field
_REF = re.compile(r"\b[A-Z]-\d{4,}\b")
_CHARACTER_STRING = re.compile(r"[!-~]{1,32}")  # a subscription notice's character_string: letters, digits, symbols


def to_plain(template: str) -> str:
    """A catalogue template without its markup."""
    return _BOLD.sub(r"\1", template)


def _fill(template: str, values: dict[str, object]) -> str:
    if not values:
        return template
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def wording(catalogues: Catalogues, language: str, key: str) -> str:
    """The key whose text WeChat shows for `key`: its `.wechat` variant when the language has one."""
    variant = key + VARIANT
    return variant if catalogues.has(language, variant) else key


def text(catalogues: Catalogues, language: str, key: str, /, **values: object) -> str:
    """A message as WeChat shows it (plain text, values as given; the WeChat wording where there is one)."""
    return _fill(to_plain(catalogues.template(language, wording(catalogues, language, key))), values)


def label(catalogues: Catalogues, language: str, key: str) -> str:
    """A button label: a catalogue key, or shown as it is when it starts with "="."""
    return key[1:] if key.startswith("=") else text(catalogues, language, key)


def clip(value: str, limit_bytes: int = TEXT_BYTES) -> str:
    """Cut text to WeChat's byte limit, marking the cut."""
    encoded = value.encode()
    if len(encoded) <= limit_bytes:
        return value
    return encoded[: limit_bytes - 3].decode(errors="ignore") + "…"


# -- the press codec (msgmenu ids) -------------------------------------------------------------------------------


def encode(act: Act, subject: int | None = None, arg: str | None = None) -> str:
    """The menu id of a press (the wire format of `actions.buttons.press_data`); ValueError if malformed."""
    return press_data(act, subject, arg)


def decode(data: str | None) -> Press | None:
    """The press behind a menu id, or None when it is not one this bot could have sent."""
    if not data or len(data) > 64:
        return None
    return parse_press(data)


# -- replies and notices -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One item of a menu: the press it stands for and what it says."""

    press: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One customer-service message: text, and optionally a menu of choices, a photo (media id) or a pin."""

    text: str
    choices: tuple[Choice, ...] = ()
    tail: str = ""
    image: str | None = None  # a WeChat media_id to send as an image after the text


@dataclass
class Rendered:
    """A notice as WeChat shows it."""

    text: str
    choices: list[Choice] = field(default_factory=list)
    # What a template or subscription notice says in its first field (the catalogue's `<key>.headline`, written
    # to fit 20 characters), when the text's first line would be cut before it says what happened.
    headline: str | None = None


def choices_of(catalogues: Catalogues, language: str, rows: Iterable[Sequence[Button]]) -> list[Choice]:
    """Neutral buttons as menu choices (all of them: `custom_message` writes those past `MENU_ITEMS` as text)."""
    return [Choice(encode(b.act, b.subject, b.arg), label(catalogues, language, b.label)) for row in rows for b in row]


def render_notice(catalogues: Catalogues, language: str, notice: Notice) -> Rendered:
    """The text and choices of a notice in one language (values filled in as they are)."""
    values: dict[str, object] = {}
    keys: dict[str, str] = {}
    for name, value in notice.values.items():
        if name.endswith("_key") and isinstance(value, str):
            keys[name.removesuffix("_key")] = value
        else:
            values[name] = value
    values.update({name: text(catalogues, language, key, **values) for name, key in keys.items()})
    body = text(catalogues, language, notice.key, **values)
    if notice.location is not None:
        # WeChat cannot send a pin: the place goes in as text.
        latitude, longitude = notice.location
        body += "\n" + text(catalogues, language, "wechat.notice_location", label=f"{latitude:.5f}, {longitude:.5f}")
    headline_key = notice.key + HEADLINE
    headline = text(catalogues, language, headline_key, **values) if catalogues.has(language, headline_key) else None
    return Rendered(body, choices_of(catalogues, language, notice.buttons), headline)


def custom_message(openid: str, reply: Reply) -> dict[str, Any]:
    """The customer-service message for a reply: plain text, or a msgmenu when it offers choices. A menu holds at
    most `MENU_ITEMS` items; the choices past them are listed after the items with their numbers, which are typed
    (nothing offered is left out)."""
    if not reply.choices:
        return {"touser": openid, "msgtype": "text", "text": {"content": clip(reply.text)}}
    numbered = list(enumerate(reply.choices, start=1))
    items = [{"id": c.press, "content": clip(f"{n}. {c.label}", MENU_ITEM_BYTES)} for n, c in numbered[:MENU_ITEMS]]
    # Past the tenth, the choices follow the items (WeChat shows head, items, tail), in their numbers' order.
    tail = "\n".join([*(f"{n}. {c.label}" for n, c in numbered[MENU_ITEMS:]), reply.tail]).strip("\n")
    return {
        "touser": openid,
        "msgtype": "msgmenu",
        "msgmenu": {
            "head_content": clip(reply.text, MENU_TEXT_BYTES),
            "list": items,
            "tail_content": clip(tail, MENU_TEXT_BYTES),
        },
    }


def image_message(openid: str, media_id: str) -> dict[str, Any]:
    """A customer-service image message."""
    return {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}


def short(value: str, limit: int = FIELD_CHARS) -> str:
    """One template field: one line, at most `limit` characters (cut with "…")."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def template_fields(
    rendered: Rendered, notice: Notice, *, now: dt.datetime, tz: dt.tzinfo, photo_hint: str | None = None
) -> dict[str, str]:
    """A notice as a template's fields: what happened (first line), which case, when; each ≤ 20 characters. A notice
    whose photo cannot come along (a template carries none) says where to see it (`photo_hint`, `thing4`)."""
    first = rendered.headline or next((line for line in rendered.text.splitlines() if line.strip()), rendered.text)
    ref = notice.values.get("ref")
    if not isinstance(ref, str):
        found = _REF.search(rendered.text)
        ref = found.group(0) if found else "-"
    fields = {
        "thing1": short(first),
        "character_string2": short(ref),
        "time3": now.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
    }
    if photo_hint:
        fields["thing4"] = short(photo_hint)
    return fields


def subscription_fields(given: dict[str, str], keywords: frozenset[str], *, when: dt.datetime) -> dict[str, str]:
    """A template notice's fields as a subscription notice of a template with these `keywords` (the ones it lacks
    are left out), within the keywords' rules (发送订阅通知): `character_string` at most 32 letters, digits or
    symbols; `time` as 24-hour time with the date (2026年12月07日 15:01)."""
    fields = {name: value for name, value in given.items() if name in keywords}
    if "character_string2" in fields and not _CHARACTER_STRING.fullmatch(fields["character_string2"]):
        fields["character_string2"] = "-"
    if "time3" in fields:
        fields["time3"] = when.strftime("%Y年%m月%d日 %H:%M")
    return fields
