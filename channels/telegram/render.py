"""The Telegram renderer: catalogue markup and raw values → Telegram HTML, neutral buttons → keyboards.

Catalogues hold no HTML. Their one piece of markup is `**bold**`; here, and only here, it becomes
`<b>bold</b>`, the rest of the template is escaped for Telegram's HTML, and a notice's values (raw, as
actions wrote them) are escaped before they are filled in. `plain` gives the same text for places
Telegram shows without parsing (alerts, button labels, command descriptions).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from telegram import InlineKeyboardMarkup

from actions.messages import Notice
from channels.telegram import callbacks
from core.i18n import Catalogues

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def to_html(template: str) -> str:
    """A catalogue template as Telegram HTML: escaped, with `**bold**` as `<b>bold</b>`."""
    return _BOLD.sub(r"<b>\1</b>", html.escape(template, quote=False))


def to_plain(template: str) -> str:
    """A catalogue template with its markup taken out, for text Telegram shows as is."""
    return _BOLD.sub(r"\1", template)


def _fill(key: str, language: str, template: str, values: dict[str, object]) -> str:
    if not values:
        return template
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        # The catalogue test checks every placeholder; this only guards against a bad translation.
        return template


def text(catalogues: Catalogues, language: str, key: str, /, **values: object) -> str:
    """A message as Telegram HTML, values filled in as given (callers in `handlers/` escape what people
    typed; notices go through `render_notice`, which escapes every value itself)."""
    return _fill(key, language, to_html(catalogues.template(language, key)), values)


def plain(catalogues: Catalogues, language: str, key: str, /, **values: object) -> str:
    """A message as plain text (alerts, button labels): no markup, nothing escaped."""
    return _fill(key, language, to_plain(catalogues.template(language, key)), values)


def render_notice(catalogues: Catalogues, language: str, notice: Notice) -> tuple[str, InlineKeyboardMarkup | None]:
    """The HTML text and keyboard of a notice in one language; every value is escaped here."""
    values: dict[str, object] = {}
    keys: dict[str, str] = {}
    for name, value in notice.values.items():
        if name.endswith("_key") and isinstance(value, str):
            keys[name.removesuffix("_key")] = value
        elif isinstance(value, str):
            values[name] = html.escape(value, quote=False)
        else:
            values[name] = value
    # A value that is a message key is filled with the notice's other values ("{n} minutes" with n).
    values.update({name: text(catalogues, language, key, **values) for name, key in keys.items()})
    body = text(catalogues, language, notice.key, **values)
    markup = None
    if notice.buttons:
        markup = callbacks.keyboard(notice.buttons, lambda key: plain(catalogues, language, key))
    return body, markup


MESSAGE_MAX = 4096  # Telegram's limit on a message's text
CAPTION_MAX = 1024  # and on a photo's caption


def whole_lines(lines: list[str], limit: int, more: Callable[[int], str] | None = None) -> str:
    """`lines` joined, as many whole lines as fit in `limit` characters (HTML markup counted, so the parsed text fits
    too): a cut inside a line could split a tag, and Telegram refuses the message. `more(n)` is a last line saying
    n lines were left out."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    for index, line in enumerate(lines):
        tail = more(len(lines) - index) if more is not None else ""
        if len("\n".join([*kept, line])) + len(tail) + 1 > limit:
            return "\n".join([*kept, tail] if tail else kept)
        kept.append(line)
    return "\n".join(kept)
