"""The lifecycle of a tip (a lead a reporter sends the newsroom) and the checks on what people type for it.

    new ──accept──▶ accepted ──publish──▶ published
     │ │                │
     │ └──decline──▶ declined ◀──decline──┘
     └──ask_more──▶ more_info_requested ──answer──▶ new

An editor may publish a new tip straight away (accepting it is implied). Editors act on tips; only the
tip's own reporter answers a question about it. Plain functions: nothing here knows about Telegram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from rules.roles import Role
from storage.errors import Conflict, NotAllowed

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
MEDIA_KINDS = frozenset({"photo", "video", "document"})


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


def next_status(current: TipStatus, action: TipAction) -> TipStatus:
    """The status after `action`, or `Conflict` (carrying the current status) when it is not allowed now."""
    try:
        return _NEXT[(current, action)]
    except KeyError:
        raise Conflict(f"cannot {action} a tip that is {current}", current=current) from None


def actions_for(status: TipStatus) -> list[TipAction]:
    """The editor buttons a tip in this status offers, in card order."""
    return [action for (state, action) in _NEXT if state is status and action in EDITOR_ACTIONS]


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


@dataclass(frozen=True, slots=True)
class MediaItem:
    """One photo, video or document of a tip, as Telegram describes it (kept by file_id)."""

    kind: str
    file_id: str
    file_unique_id: str | None = None
    file_size: int | None = None


def check_media(kind: str, *, mime_type: str | None, file_size: int | None, already: int) -> None:
    """`TipInputError` when a file cannot be taken: unsupported, over the download limit, or one too many."""
    if kind not in MEDIA_KINDS or (kind == "document" and mime_type not in DOCUMENT_TYPES):
        raise TipInputError("tip.media_unsupported")
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
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


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


def decide_lead(current: LeadStatus, *, agree: bool) -> LeadStatus:
    """The volunteer answers once; a second press is `Conflict`."""
    if current is not LeadStatus.ASKED:
        raise Conflict(f"the lead was already {current}", current=current)
    return LeadStatus.AGREED if agree else LeadStatus.REFUSED
