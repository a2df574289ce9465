"""Long lists as one message with pages: a numbered line per item, a button per item that shows its detail
(with that item's own buttons) when tapped, and ◀ / ▶ to page. One reply per command, however long the list,
so no list waits on Telegram's per-chat pace (about one message a second). Used by /mytasks, /mywishes,
/pending and /review; the buttons are typed actions (`actions.buttons`), encoded by `channels.telegram.callbacks`.
The lists a person holds are pages of the channel-neutral model (`conversations/pages.py`), shown by `page_view`."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from actions.buttons import Act, Button
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from conversations import pages
from conversations.pages import Item, Page
from handlers.conversing import value_of, words

# The page size and the clamping of the list model, for the lists still built here.
PAGE_SIZE = pages.PAGE_SIZE
clamp = pages.clamp


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
    nav: Sequence[InlineKeyboardButton] | None = None,
    per_row: int = 2,
    gap: str = "\n",
) -> tuple[str, InlineKeyboardMarkup]:
    """The message of one page: the title with "page p/P", the lines (`gap` between them), then the item buttons
    `per_row` a row, ◀ / ▶ (`page_act` with the page number as subject, or the buttons `nav` given) and any
    `extra` rows."""
    text = title
    if pages > 1:
        text += " " + context.t("list.page", page=page + 1, pages=pages)
    if lines:
        text += "\n\n" + gap.join(lines)
    rows = [list(views[start : start + per_row]) for start in range(0, len(views), per_row)]
    if nav is None:
        nav = []
        if page > 0:
            nav.append(callbacks.button(context.plain("list.button.previous"), page_act, page - 1))
        if page < pages - 1:
            nav.append(callbacks.button(context.plain("list.button.next"), page_act, page + 1))
    if nav:
        rows.append(list(nav))
    rows += [list(row) for row in extra]
    return text, InlineKeyboardMarkup(rows)


def button(context: TongxinContext, item: Item | Button) -> InlineKeyboardButton:
    """An item's button (or a button of the page), its label filled with the item's values."""
    view, given = (item.view, item.labels) if isinstance(item, Item) else (item, {})
    values = {name: value_of(context, value, plain=True) for name, value in given.items()}
    return callbacks.button(context.plain(view.label, **values), view.act, view.subject, view.arg)


def buttons_of(context: TongxinContext, rows: Sequence[Sequence[Item]]) -> InlineKeyboardMarkup | None:
    """Rows of item buttons (None when there are none)."""
    return InlineKeyboardMarkup([[button(context, item) for item in row] for row in rows]) if rows else None


def page_view(context: TongxinContext, page: Page) -> tuple[str, InlineKeyboardMarkup]:
    """A page of the list model (`conversations.pages`) as one message: what `paged` makes of it (a list of cards:
    a blank line between them and one button a row)."""

    lines = [words(context, item.line) for item in page.lines if item.line is not None]
    if page.footer is not None:
        lines.append("\n" + words(context, page.footer))
    nav = [button(context, b) for b in (page.previous, page.next) if b is not None]
    return paged(
        context,
        title=words(context, page.title),
        lines=lines,
        views=[button(context, item) for item in page.items],
        page=page.page,
        pages=1 if page.title_pages else page.pages,
        page_act=page.page_act,
        extra=[[button(context, item) for item in row] for row in page.extra],
        nav=nav,
        per_row=1 if page.cards else 2,
        gap="\n\n" if page.cards else "\n",
    )
