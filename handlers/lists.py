"""Long lists as one message with pages: a numbered line per item, a button per item that shows its detail
(with that item's own buttons) when tapped, and ◀ / ▶ to page. One reply per command, however long the list,
so no list waits on Telegram's per-chat pace (about one message a second). Used by /mytasks, /mywishes,
/pending and /review; the buttons are typed actions (`actions.buttons`), encoded by `channels.telegram.callbacks`."""

from __future__ import annotations

import math
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from actions.buttons import Act
from bot.context import TongxinContext
from channels.telegram import callbacks

PAGE_SIZE = 5


def clamp(page: int, total: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    """(the page actually shown, number of pages) for `total` items; a page out of range is clamped."""
    pages = max(1, math.ceil(total / size))
    return min(max(0, page), pages - 1), pages


def paged(
    context: TongxinContext,
    *,
    title: str,
    lines: Sequence[str],
    views: Sequence[InlineKeyboardButton],
    page: int,
    pages: int,
    page_act: Act,
    extra: Sequence[Sequence[InlineKeyboardButton]] = (),
) -> tuple[str, InlineKeyboardMarkup]:
    """The message of one page: the title with "page p/P", the lines, then the item buttons two a row, ◀ / ▶
    (`page_act` with the page number as subject) and any `extra` rows."""
    text = title
    if pages > 1:
        text += " " + context.t("list.page", page=page + 1, pages=pages)
    text += "\n\n" + "\n".join(lines)
    rows = [list(views[start : start + 2]) for start in range(0, len(views), 2)]
    nav = []
    if page > 0:
        nav.append(callbacks.button(context.plain("list.button.previous"), page_act, page - 1))
    if page < pages - 1:
        nav.append(callbacks.button(context.plain("list.button.next"), page_act, page + 1))
    if nav:
        rows.append(nav)
    rows += [list(row) for row in extra]
    return text, InlineKeyboardMarkup(rows)
