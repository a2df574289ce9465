"""One page model for every list (/tasks, /mywishes, /mytasks, /pending, /review…): a title, a line per item with
a button that acts on the item (shows it, or offers to claim it), ◀ / ▶ to other pages, more buttons under the page,
and a footer — channel-neutral, so each channel shows the same items in the same order its own way (Telegram:
`handlers.lists.page_view`, one message with inline buttons, redrawn in place; WeChat: `channels.wechat.pages`, a
menu message whose numbered items are the lines' buttons, then ◀ / ▶ and the rest, in that order).

An item's line holds its number as the value `n` (its place in the whole list); a channel that reads typed numbers
shows the number of the item's menu choice instead (`numbered`), so a choice's meaning never depends on a
channel's rendering. The pages of lists that people hold in conversations are built here from what the actions
return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from actions import cases as case_actions
from actions import tasks
from actions import wishes as wish_actions
from actions.buttons import Act, Button
from actions.cases import CaseView
from actions.env import Env
from conversations.base import Param, Say
from conversations.wish import card
from rules import wishes as lifecycle
from rules.cases import CaseStatus
from rules.tips import category_key, tip_reference
from rules.wishes import WishAction, WishStatus, short_summary, wish_ref
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
    """One page of a list: `page_act` with a page number as subject turns to that page (with `nav_args`' first as
    the argument of ◀, its second of ▶: where a list pages by the items at its edges). `has_next` is None where
    `pages` is exact; a list that cannot count all its items says whether another page follows (its title then
    tells the page, `title_pages`). `cards`: each item's line is a card of several lines."""

    title: Say
    items: tuple[Item, ...]
    page: int
    pages: int
    page_act: Act
    footer: Say | None = None
    extra: tuple[tuple[Item, ...], ...] = ()  # more buttons under the page
    nav_args: tuple[str | None, str | None] = (None, None)
    has_next: bool | None = None
    title_pages: bool = False
    cards: bool = False

    @property
    def previous(self) -> Button | None:
        return Button("list.button.previous", self.page_act, self.page - 1, self.nav_args[0]) if self.page > 0 else None

    @property
    def next(self) -> Button | None:
        more = self.page < self.pages - 1 if self.has_next is None else self.has_next
        return Button("list.button.next", self.page_act, self.page + 1, self.nav_args[1]) if more else None

    @property
    def lines(self) -> tuple[Item, ...]:
        """The items that have a line, in the order shown."""
        return tuple(item for item in self.items if item.line is not None)


def numbered(item: Item, n: int) -> Say | None:
    """An item's line showing `n` as its number (a channel's own numbering: the choice a typed `n` stands for)."""
    if item.line is None or "n" not in item.line.params:
        return item.line
    return replace(item.line, params={**item.line.params, "n": n})


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


def wish_buttons(wish: Wish) -> tuple[tuple[Button, ...], ...]:
    """The buttons under a resident's own wish shown from /mywishes: what its status allows her (confirm or say it
    is not done yet, withdraw it, rate it 1–5 stars: the number is the stars)."""
    rows: list[tuple[Button, ...]] = []
    actions = lifecycle.resident_actions(wish)
    if WishAction.CONFIRM in actions:
        rows.append(
            (
                Button("wish.button.confirm", Act.WISH_CONFIRM, wish.id),
                Button("wish.button.not_yet", Act.WISH_NOT_YET, wish.id),
            )
        )
    if WishAction.CANCEL in actions:
        rows.append((Button("wish.button.cancel_wish", Act.WISH_CANCEL, wish.id),))
    if lifecycle.can_rate(wish) and wish.rating is None:
        stars = range(lifecycle.RATING_MIN, lifecycle.RATING_MAX + 1)
        rows.append(tuple(Button(f"={n}⭐", Act.WISH_RATE, wish.id, str(n)) for n in stars))
    return tuple(rows)


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


def task_card(env: Env, wish: Wish, distance_km: float | None) -> Say:
    """What any volunteer may see of an open wish (`conversations.wish.card`) and how far it is from them."""
    near: Param = Say("task.card_distance", {"km": f"{distance_km:.1f}"}) if distance_km is not None else ""
    return Say("task.card_near", {"card": card(wish, env), "distance": near})


def open_tasks(env: Env, found: tasks.TaskPage) -> Page:
    """/tasks: one page of the open wishes a volunteer may claim, nearest first: a numbered public card each with a
    button that offers to claim it, ◀ / ▶ by the wishes at the page's edges (the list is paged by them, so a wish
    that comes or goes moves none past the volunteer unseen), and the switch between their skills and every wish."""
    flag = "1" if found.show_all else "0"
    toggle = Item(
        None,
        Button(
            "task.button.only_mine" if found.show_all else "task.button.show_all",
            Act.TASK_PAGE,
            0,
            "0" if found.show_all else "1",
        ),
    )
    if not found.wishes:
        title = Say("task.none_all" if found.show_all else "task.none_matching")
        return Page(title, (), 0, 1, Act.TASK_PAGE, extra=((toggle,),), has_next=False, title_pages=True)
    items = []
    for n, wish in enumerate(found.wishes, start=found.first_number):
        line = Say("task.card_line", {"n": n, "card": task_card(env, wish, found.distance_km(wish))})
        items.append(Item(line, Button("task.button.view", Act.TASK_VIEW, wish.id), {"ref": wish_ref(wish.ref_no)}))
    shown = str(found.pages) if found.counted_all else f"{found.pages}+"
    title = Say(
        "task.list_title_all" if found.show_all else "task.list_title", {"page": found.page + 1, "pages": shown}
    )
    edges = (f"{flag}p{found.wishes[0].id}", f"{flag}n{found.wishes[-1].id}")
    return Page(
        title,
        tuple(items),
        found.page,
        found.pages,
        Act.TASK_PAGE,
        extra=((toggle,),),
        nav_args=edges,
        has_next=found.has_next,
        title_pages=True,
        cards=True,
    )


def cases(env: Env, found: Sequence[CaseView], page: int, me: int | None) -> Page:
    """A member's /cases: one page of their departments' open cases (oldest first), a line each saying where it
    stands (to acknowledge by when, theirs or whose, to resolve by when), a button each for its card and what they
    can do with it (`me`: the member's person id)."""
    page, pages = clamp(page, len(found))
    items = []
    for n, shown in enumerate(found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], start=page * PAGE_SIZE + 1):
        case = shown.case
        state: Say
        if case.status == CaseStatus.SENT:
            state = Say("case.state_sent", {"due": case_actions.local(case.ack_due_at, env)})
        elif case.acknowledged_by == me:
            state = Say("case.state_mine", {"due": case_actions.local(case.resolve_due_at, env)})
        else:
            due = case_actions.local(case.resolve_due_at, env)
            state = Say("case.state_taken", {"name": shown.acknowledged_by or "—", "due": due})
        line = Say(
            "case.list_line",
            {
                "n": n,
                "ref": shown.ref,
                "source": case_actions.source_ref(case),
                "department": shown.department,
                "tier": Say(f"case.tier.{case.tier}"),
                "state": state,
            },
        )
        items.append(Item(line, Button("list.button.show", Act.CASE_SHOW, case.id), {"ref": shown.ref}))
    title = Say("case.list_title", {"count": len(found)})
    return Page(title, tuple(items), page, pages, Act.CASE_PAGE, footer=Say("case.list_tap"))
