"""WeChat's renderer of the one page model (`conversations/pages.py`), used by every list the 服务号 shows (任务,
我的任务, 我的心愿): the title, a line per item, then a menu message (msgmenu) whose items are, in this order, each
line's button, 上一页 / 下一页 and the page's other buttons.

A line shows the number of its menu item, not its place in the whole list: the number a person types is read as the
menu item of the last menu they saw (`conversation.input_of`), so "2" on the second page of 任务 is the second card
shown there, and the card says "2." (a choice's meaning never depends on its position in one channel's rendering).

WeChat's limits: a menu message's text is cut at `render.MENU_TEXT_BYTES` (`render.custom_message`), so a page whose
lines do not fit goes out as a text message of its own (up to 2048 bytes) followed by the menu under the title; a
menu holds ten items, the choices past them are listed as numbered text (`render.custom_message`). The page's footer
(Telegram's "tap a reference…") is not shown: the menu's tail says how to choose here (`wechat.choose_tail`).
"""

from __future__ import annotations

from actions.buttons import Button
from channels.wechat import render, steps
from channels.wechat.render import Choice, Reply
from conversations.pages import Item, Page, numbered
from core.i18n import Catalogues


def label(catalogues: Catalogues, language: str, item: Item | Button) -> Choice:
    """A button of the page as a menu choice, its label filled with the item's values (its WeChat wording)."""
    view, given = (item.view, item.labels) if isinstance(item, Item) else (item, {})
    values = {name: steps.value_of(catalogues, language, value) for name, value in given.items()}
    return Choice(
        render.encode(view.act, view.subject, view.arg), render.text(catalogues, language, view.label, **values)
    )


def replies(catalogues: Catalogues, language: str, page: Page) -> list[Reply]:
    """One page as WeChat shows it: a menu message (with the lines in its text when they fit)."""
    title = steps.words(catalogues, language, page.title)
    if page.pages > 1 and not page.title_pages:
        title += " " + render.text(catalogues, language, "list.page", page=page.page + 1, pages=page.pages)
    lines = [
        steps.words(catalogues, language, line)
        for n, item in enumerate(page.items, start=1)
        if (line := numbered(item, n)) is not None
    ]
    buttons: list[Item | Button] = [*page.items, *(b for b in (page.previous, page.next) if b is not None)]
    buttons += [item for row in page.extra for item in row]
    choices = tuple(label(catalogues, language, b) for b in buttons)
    text = title + ("\n\n" + ("\n\n" if page.cards else "\n").join(lines) if lines else "")
    tail = render.text(catalogues, language, "wechat.choose_tail") if choices else ""
    if not choices:
        return [Reply(text)]
    if len(text.encode()) <= render.MENU_TEXT_BYTES:
        return [Reply(text, choices, tail=tail)]
    return [Reply(text), Reply(title, choices, tail=tail)]
