"""The lifecycle of a tip (a lead a reporter sends the newsroom) and the checks on what people type for it.

    new ──accept──▶ accepted ──publish──▶ published
     │ │                │
     │ └──decline──▶ declined ◀──decline──┘
     └──ask_more──▶ more_info_requested ──answer──▶ new

An editor may publish a new tip straight away (accepting it is implied). Editors act on tips; only the
tip's own reporter answers a question about it. Nothing here knows about Telegram.

Every status change goes through `transition`: it reads the tip inside the caller's transaction, checks
whether the person may act and where the tip goes next, and moves it with `storage.tips.move_tip`, which
updates only while the status is still the one read (so of two editors pressing at once exactly one wins)
and records the event. A confirmed wish's proof photo becomes a story lead (`offer_story_lead`) and, once
the volunteer agrees (`decide_story_lead`), a new tip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from rules.roles import Role
from rules.text import MIN_WORDS, word_count
from storage import tips as store
from storage.errors import Conflict, NotAllowed, NotFound
from storage.tips import MediaItem, StoryLead, Tip

# The newsroom's categories, in menu order: 文明实践, 民生, 突发, 好人好事, 其他.
CATEGORIES: tuple[str, ...] = ("civilization_practice", "livelihood", "breaking", "good_deeds", "other")
# The category of a story lead that comes from a confirmed wish.
WISH_LEAD_CATEGORY = "civilization_practice"

MAX_MEDIA = 10  # Telegram albums hold at most 10 items; one submission (or one answer) keeps the same bound
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's getFile limit
MAX_DESCRIPTION = 1000
MAX_NOTE = 500
MAX_LINK = 512
# Documents accepted as media (a photo or video sent "as a file"); everything else is refused.
DOCUMENT_TYPES = frozenset({"image/jpeg", "image/png", "video/mp4"})
MEDIA_KINDS = frozenset({"photo", "video", "document", "voice"})
# A voice note in a tip: long enough to tell what happened, short enough for an editor to listen to.
VOICE_MAX_SECONDS = 180


class TipStatus(StrEnum):
    """Where a tip stands."""

    NEW = "new"
    ACCEPTED = "accepted"
    PUBLISHED = "published"
    DECLINED = "declined"
    MORE_INFO_REQUESTED = "more_info_requested"


class TipAction(StrEnum):
    """What an editor (or, for `answer`, the reporter) can do to a tip."""

    ACCEPT = "accept"
    DECLINE = "decline"
    ASK_MORE = "ask_more"
    PUBLISH = "publish"
    ANSWER = "answer"


EDITOR_ACTIONS = frozenset({TipAction.ACCEPT, TipAction.DECLINE, TipAction.ASK_MORE, TipAction.PUBLISH})
# Accepted and published tips are the ones that count for a reporter.
COUNTED_AS_ACCEPTED = frozenset({TipStatus.ACCEPTED, TipStatus.PUBLISHED})

_NEXT: dict[tuple[TipStatus, TipAction], TipStatus] = {
    (TipStatus.NEW, TipAction.ACCEPT): TipStatus.ACCEPTED,
    (TipStatus.NEW, TipAction.DECLINE): TipStatus.DECLINED,
    (TipStatus.NEW, TipAction.ASK_MORE): TipStatus.MORE_INFO_REQUESTED,
    (TipStatus.NEW, TipAction.PUBLISH): TipStatus.PUBLISHED,
    (TipStatus.ACCEPTED, TipAction.PUBLISH): TipStatus.PUBLISHED,
    (TipStatus.ACCEPTED, TipAction.DECLINE): TipStatus.DECLINED,
    (TipStatus.MORE_INFO_REQUESTED, TipAction.ANSWER): TipStatus.NEW,
    (TipStatus.MORE_INFO_REQUESTED, TipAction.DECLINE): TipStatus.DECLINED,
}


def next_status(current: str, action: TipAction) -> TipStatus:
    """The status after `action`, or `Conflict` (carrying the current status) when it is not allowed now."""
    try:
        return _NEXT[(TipStatus(current), action)]
    except KeyError:
        raise Conflict(f"cannot {action} a tip that is {current}", current=current) from None


def actions_for(status: str) -> list[TipAction]:
    """The editor buttons a tip in this status offers, in card order."""
    return [action for (state, action) in _NEXT if state == status and action in EDITOR_ACTIONS]


def may_review(roles: Iterable[Role]) -> bool:
    """Editors (and admins, who hold every staff role) work the review queue."""
    return Role.EDITOR in set(roles)


def check_may_act(action: TipAction, *, actor_id: int, roles: Iterable[Role], reporter_id: int | None) -> None:
    """`NotAllowed` unless an editor does an editor action, or the tip's own reporter answers."""
    if action is TipAction.ANSWER:
        if reporter_id is None or actor_id != reporter_id:
            raise NotAllowed("only the tip's reporter answers its question")
        return
    if not may_review(roles):
        raise NotAllowed(f"{action} needs the editor role")


class TipInputError(ValueError):
    """Something a person typed or sent cannot be used; `key` is the message explaining what to do."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def clean_description(text: str | None) -> str:
    """A description as stored: trimmed, not empty, at most `MAX_DESCRIPTION` characters."""
    value = (text or "").strip()
    if not value:
        raise TipInputError("tip.description_empty")
    if len(value) > MAX_DESCRIPTION:
        raise TipInputError("tip.description_too_long", limit=MAX_DESCRIPTION, length=len(value))
    if word_count(value) < MIN_WORDS:
        raise TipInputError("tip.description_no_words", min=MIN_WORDS)  # "😀😀👍" is not a lead
    return value


def clean_note(text: str | None) -> str:
    """A decline reason or a question to the reporter: trimmed, 1..`MAX_NOTE` characters."""
    value = (text or "").strip()
    if not value:
        raise TipInputError("review.note_empty")
    if len(value) > MAX_NOTE:
        raise TipInputError("review.note_too_long", limit=MAX_NOTE, length=len(value))
    return value


def clean_link(text: str | None) -> str:
    """The published story's address: one http(s) URL with a host, no spaces, at most `MAX_LINK` characters."""
    value = (text or "").strip()
    if not value or len(value) > MAX_LINK or any(ch.isspace() for ch in value):
        raise TipInputError("review.link_invalid")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise TipInputError("review.link_invalid") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        raise TipInputError("review.link_invalid")
    return value


def check_category(category: str) -> str:
    """One of `CATEGORIES`; anything else (e.g. crafted button data) is refused."""
    if category not in CATEGORIES:
        raise TipInputError("tip.ask_category")
    return category


def check_media(
    kind: str, *, mime_type: str | None, file_size: int | None, already: int, seconds: int | None = None
) -> None:
    """`TipInputError` when a file cannot be taken: unsupported, over the download limit, a voice note over
    `VOICE_MAX_SECONDS`, or one too many."""
    if kind not in MEDIA_KINDS or (kind == "document" and mime_type not in DOCUMENT_TYPES):
        raise TipInputError("tip.media_unsupported")
    if kind == "voice" and seconds is not None and seconds > VOICE_MAX_SECONDS:
        raise TipInputError("tip.voice_too_long", max=VOICE_MAX_SECONDS // 60)
    if file_size is not None and file_size > MAX_DOWNLOAD_BYTES:
        raise TipInputError("tip.media_too_big", limit_mb=MAX_DOWNLOAD_BYTES // (1024 * 1024))
    if already >= MAX_MEDIA:
        raise TipInputError("tip.media_too_many", limit=MAX_MEDIA)


def tip_reference(tip_id: int) -> str:
    """The reference people see: `T-0001`."""
    return f"T-{tip_id:04d}"


def parse_tip_reference(text: str) -> int | None:
    """`T-0001` / `t-1` / `1` → 1; None for anything else."""
    value = text.strip().upper().removeprefix("T-")
    return int(value) if value.isdecimal() and 0 < int(value) < 2**31 else None


def category_key(category: str) -> str:
    """The message key naming a category."""
    return f"tip.category.{category}"


def status_key(status: str) -> str:
    """The message key naming a status."""
    return f"tip.status.{status}"


class LeadStatus(StrEnum):
    """A story lead offered from a confirmed wish: the volunteer decides whether the newsroom gets it."""

    ASKED = "asked"
    AGREED = "agreed"
    REFUSED = "refused"


def decide_lead(current: str, *, agree: bool) -> LeadStatus:
    """The volunteer answers once; a second press is `Conflict`."""
    if current != LeadStatus.ASKED:
        raise Conflict(f"the lead was already {current}", current=current)
    return LeadStatus.AGREED if agree else LeadStatus.REFUSED


@dataclass(frozen=True, slots=True)
class TipCounts:
    """A reporter's record: tips sent, accepted (published ones included) and published."""

    submitted: int
    accepted: int
    published: int


async def create_tip(
    conn: AsyncConnection,
    *,
    reporter_id: int,
    by_reporter: bool,
    category: str,
    description: str,
    location: tuple[float, float] | None,
    media: Sequence[MediaItem],
    now: dt.datetime,
    source_wish_ref: int | None = None,
) -> Tip:
    """Store a submitted tip as `new` with its media, and record its creation."""
    return await store.insert_tip(
        conn,
        reporter_id=reporter_id,
        by_reporter=by_reporter,
        status=TipStatus.NEW,
        category=category,
        description=description,
        location=location,
        media=media,
        now=now,
        source_wish_ref=source_wish_ref,
    )


async def transition(
    conn: AsyncConnection,
    tip_id: int,
    action: TipAction,
    *,
    actor_id: int,
    actor_roles: Iterable[Role],
    now: dt.datetime,
    note: str | None = None,
    link: str | None = None,
    expected: TipStatus | None = None,
) -> Tip:
    """Apply an editor's decision (or the reporter's answer) to a tip.

    `NotFound` for an unknown tip, `NotAllowed` when the person may not do this (checked against the
    stored tip, never against button data), `Conflict` (with the current status) when the tip moved
    meanwhile or the action does not fit its status. `expected` is the status the editor saw: a Decline
    pressed on a card that still showed "new" must not overrule a colleague's Accept a moment earlier.
    """
    current = await store.get_tip(conn, tip_id)
    check_may_act(action, actor_id=actor_id, roles=actor_roles, reporter_id=current.reporter_id)
    if expected is not None and current.status != expected:
        raise Conflict("the tip changed since it was shown", current=current.status)
    target = next_status(current.status, action)
    changes: dict[str, object] = {}
    if action is not TipAction.ANSWER:
        changes["decided_by"] = actor_id
    if action is TipAction.PUBLISH:
        if not link:
            raise ValueError("publishing needs the story's link")
        changes["published_url"] = link
    return await store.move_tip(
        conn, tip_id, current.status, target, actor_id=actor_id, now=now, note=note or link, changes=changes
    )


async def answer_question(
    conn: AsyncConnection,
    tip_id: int,
    *,
    reporter_id: int,
    text: str | None,
    media: Sequence[MediaItem],
    now: dt.datetime,
) -> Tip:
    """The reporter answers an editor's question: the answer is attached and the tip returns to the queue."""
    tip = await transition(conn, tip_id, TipAction.ANSWER, actor_id=reporter_id, actor_roles=(), now=now, note=text)
    if media:
        await store.add_media(conn, tip_id, media, now)
        tip = await store.get_tip(conn, tip_id)
    return tip


async def attach_media(
    conn: AsyncConnection, tip_id: int, *, reporter_id: int, media: Sequence[MediaItem], now: dt.datetime
) -> Tip:
    """More photos of an answer that came as an album (the later items arrive as separate messages).

    Only the tip's reporter may attach, and only while the tip waits in the queue (it just returned).
    """
    tip = await store.get_tip(conn, tip_id)
    if tip.reporter_id != reporter_id:
        raise NotAllowed("only the tip's reporter adds to it")
    if tip.status != TipStatus.NEW:
        raise Conflict("the tip is no longer waiting for review", current=tip.status)
    await store.add_media(conn, tip_id, media, now)
    return await store.get_tip(conn, tip_id)


async def counts_of(conn: AsyncConnection, reporter_id: int) -> TipCounts:
    """A person's record: tips sent, accepted (published included) and published."""
    by_status = await store.counts_by_status(conn, reporter_id)
    return TipCounts(
        submitted=sum(by_status.values()),
        accepted=sum(by_status.get(s, 0) for s in COUNTED_AS_ACCEPTED),
        published=by_status.get(TipStatus.PUBLISHED, 0),
    )


async def offer_story_lead(
    conn: AsyncConnection,
    *,
    wish_ref_no: int,
    volunteer_id: int,
    photo_file_id: str,
    summary: str,
    now: dt.datetime,
) -> StoryLead | None:
    """Remember that a confirmed wish's proof photo may become a story lead; the volunteer is asked next.

    Returns None when this wish was already offered (confirming twice must not ask twice).
    """
    if await store.find_story_lead(conn, wish_ref_no) is not None:
        return None
    return await store.insert_story_lead(
        conn,
        wish_ref_no=wish_ref_no,
        volunteer_id=volunteer_id,
        photo_file_id=photo_file_id,
        summary=summary,
        status=LeadStatus.ASKED,
        now=now,
    )


async def decide_story_lead(
    conn: AsyncConnection, wish_ref_no: int, *, volunteer_id: int, agree: bool, by_reporter: bool, now: dt.datetime
) -> Tip | None:
    """The volunteer's answer: on yes the lead becomes a new tip linked to the wish (returned), on no nothing.

    `NotFound` when there is no such offer, `NotAllowed` when it was offered to someone else,
    `Conflict` when it was already answered.
    """
    lead = await store.find_story_lead(conn, wish_ref_no)
    if lead is None:
        raise NotFound(f"story lead for wish {wish_ref_no}")
    if lead.volunteer_id != volunteer_id:
        raise NotAllowed("the lead was offered to another volunteer")
    target = decide_lead(lead.status, agree=agree)
    await store.move_story_lead(conn, wish_ref_no, lead.status, target, now=now)
    if not agree:
        return None
    tip = await create_tip(
        conn,
        reporter_id=volunteer_id,
        by_reporter=by_reporter,
        category=WISH_LEAD_CATEGORY,
        description=lead.summary,
        location=None,
        media=[MediaItem("photo", lead.photo_file_id)],
        now=now,
        source_wish_ref=wish_ref_no,
    )
    await store.link_story_lead(conn, wish_ref_no, tip.id)
    return tip
