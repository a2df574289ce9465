"""One page model for long lists (/mywishes, /mytasks, /pending…): a title, a numbered line per item with a button
that shows the item (its detail with its own buttons), ◀ / ▶ to other pages, and a footer — channel-neutral, so
each channel shows the same page its own way (Telegram: one message with inline buttons, redrawn in place).

The pages of lists that people hold in conversations are built here from what the actions return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from actions import tasks
from actions import wishes as wish_actions
from actions.buttons import Act, Button
from actions.env import Env
from conversations.base import Param, Say
from rules.wishes import WishStatus, wish_ref
from storage.cases import Referral
from storage.wishes import Wish

PAGE_SIZE = 5


def clamp(page: int, total: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    """(the page actually shown, number of pages) for `total` items; a page out of range is clamped."""
    pages = max(1, math.ceil(total / size))
    return min(max(0, page), pages - 1), pages


@dataclass(frozen=True)
class Item:
    """One line of a list and the button that shows it (its label's catalogue text filled with `labels`)."""

    line: Say
    view: Button
    labels: Mapping[str, Param] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One page of a list: `page_act` with a page number as subject turns to that page."""

    title: Say
    items: tuple[Item, ...]
    page: int
    pages: int
    page_act: Act
    footer: Say | None = None
    extra: tuple[tuple[Item, ...], ...] = ()  # more buttons under the page (their `line` is not shown)

    @property
    def previous(self) -> Button | None:
        return Button("list.button.previous", self.page_act, self.page - 1) if self.page > 0 else None

    @property
    def next(self) -> Button | None:
        return Button("list.button.next", self.page_act, self.page + 1) if self.page < self.pages - 1 else None


def status_of(status: str, referral: Referral | None = None) -> Say:
    """A wish's status as people say it (a wish sent to a department: where its case stands)."""
    if status == WishStatus.REFERRED and referral is not None:
        progress = Say(f"wish.case.{referral.status}")
        return Say("wish.status.case", {"department": referral.department, "progress": progress})
    return Say(f"wish.status.{status}")


def my_wishes(mine: wish_actions.Mine) -> Page:
    """/mywishes: one page of the resident's wishes, a line each, a button each for its card and buttons."""
    size = wish_actions.MINE_SHOWN
    items = tuple(
        Item(
            Say(
                "wish.mine.line",
                {
                    "n": n,
                    "ref": wish_ref(wish.ref_no),
                    "category": Say(f"category.{wish.category}"),
                    "status": status_of(wish.status, mine.referrals.get(wish.ref_no)),
                },
            ),
            Button("list.button.show", Act.WISH_SHOW, wish.id),
            {"ref": wish_ref(wish.ref_no)},
        )
        for n, wish in enumerate(mine.wishes, start=mine.page * size + 1)
    )
    pages = max(1, -(-mine.total // size))
    title = Say("wish.mine.list_title", {"count": mine.total})
    return Page(title, items, mine.page, pages, Act.WISH_MINE_PAGE, footer=Say("wish.mine.tap"))


def my_tasks(env: Env, mine: Sequence[Wish], page: int) -> Page:
    """/mytasks: one page of the tasks a volunteer holds, a line each, a button each for its details."""
    page, pages = clamp(page, len(mine))
    shown = mine[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    items = []
    for n, wish in enumerate(shown, start=page * PAGE_SIZE + 1):
        due: Param = Say("task.mine_due", {"due": tasks.local_due(env, wish)}) if wish.due_at else ""
        line = Say(
            "task.mine_line",
            {
                "n": n,
                "ref": wish_ref(wish.ref_no),
                "category": Say(f"category.{wish.category}"),
                "status": Say(f"wish.status.{wish.status}"),
                "due": due,
            },
        )
        items.append(Item(line, Button("list.button.show", Act.TASK_SHOW, wish.id), {"ref": wish_ref(wish.ref_no)}))
    title = Say("task.mine_title", {"count": len(mine)})
    return Page(title, tuple(items), page, pages, Act.TASK_MINE_PAGE, footer=Say("task.mine_tap"))
