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
from rules.tips import category_key, tip_reference
from rules.wishes import WishStatus, short_summary, wish_ref
from storage.cases import Referral
from storage.tips import Tip
from storage.wishes import Wish

PAGE_SIZE = 5


def clamp(page: int, total: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    """(the page actually shown, number of pages) for `total` items; a page out of range is clamped."""
    pages = max(1, math.ceil(total / size))
    return min(max(0, page), pages - 1), pages


@dataclass(frozen=True)
class Item:
    """One line of a list and the button that shows it (its label's catalogue text filled with `labels`); a button
    of its own under a page has no line."""

    line: Say | None
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
    extra: tuple[tuple[Item, ...], ...] = ()  # more buttons under the page

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
                "status": Say(tasks.status_key(wish.status)),
                "due": due,
            },
        )
        items.append(Item(line, Button("list.button.show", Act.TASK_SHOW, wish.id), {"ref": wish_ref(wish.ref_no)}))
    title = Say("task.mine_title", {"count": len(mine)})
    return Page(title, tuple(items), page, pages, Act.TASK_MINE_PAGE, footer=Say("task.mine_tap"))


def pending(
    waiting: Sequence[Wish],
    applicants: Sequence[tuple[int, str]],
    *,
    first: int,
    page: int,
    pages: int,
    counts: tuple[int, int],
) -> Page:
    """/pending: one page of the review queue, wishes first, then volunteer applications (`applicants`: each
    application's id and the name it gives); `first`: the position of the page's first item; `counts`: all the
    wishes and applications waiting."""
    items = [
        Item(
            Say(
                "pending.line_wish",
                {
                    "n": n,
                    "ref": wish_ref(wish.ref_no),
                    "category": Say(f"category.{wish.category}"),
                    "summary": short_summary(wish.description),
                },
            ),
            Button("list.button.show", Act.PENDING_VIEW, wish.id),
            {"ref": wish_ref(wish.ref_no)},
        )
        for n, wish in enumerate(waiting, start=first + 1)
    ]
    items += [
        Item(
            Say("pending.line_volunteer", {"n": n, "name": name}),
            Button("pending.button.view_volunteer", Act.PENDING_VOLUNTEER_VIEW, application_id),
            {"name": name},
        )
        for n, (application_id, name) in enumerate(applicants, start=first + 1 + len(waiting))
    ]
    title = Say("pending.queue_title", {"wishes": counts[0], "volunteers": counts[1]})
    return Page(title, tuple(items), page, pages, Act.PENDING_PAGE, footer=Say("pending.tap"))


def tips(
    shown: Sequence[Tip], *, title: Say, page: int, pages: int, page_act: Act, extra: tuple[tuple[Item, ...], ...]
) -> Page:
    """/review and the accepted tips: one page of tips, a line and a show button each, and the buttons to the other
    lists (`extra`)."""
    items = tuple(
        Item(
            Say(
                "review.line",
                {
                    "n": n,
                    "reference": tip_reference(tip.id),
                    "category": Say(category_key(tip.category)),
                    "summary": short_summary(tip.description),
                },
            ),
            Button("list.button.show", Act.REVIEW_VIEW, tip.id),
            {"ref": tip_reference(tip.id)},
        )
        for n, tip in enumerate(shown, start=page * PAGE_SIZE + 1)
    )
    return Page(title, items, page, pages, page_act, footer=Say("review.tap"), extra=extra)
