"""Channel-neutral messages: what a notice or a reply says, before any channel renders it.

A `Notice` is a message key, raw values and typed buttons (`actions.buttons.Button`). Nothing in it is
escaped or marked up for a channel: catalogues hold a small markup of their own (`**bold**`), and each
channel's renderer escapes the values and maps the markup (Telegram: `channels/telegram/render.py`).
Values whose name ends in `_key` are message keys themselves and are translated before filling in:
`{"category_key": "category.free_clinic"}` fills `{category}`; such a key's own placeholders are filled
from the notice's other values (`{"after_key": "wish.age.minutes", "n": 12}` fills `{after}` with
"12 分钟"). A notice is rendered in the recipient's language when it is delivered, so it can wait in the
outbox and still read right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from actions.buttons import Act, Button

Lane = Literal["urgent", "normal", "bulk"]
Value = str | int | float


@dataclass(frozen=True)
class Notice:
    """A message to someone, kept as keys and values until a channel renders it for them."""

    key: str
    values: dict[str, Value] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: str | None = None  # a stored file reference of the channel it came from (prefer `media`)
    location: tuple[float, float] | None = None
    # The channel's id of an earlier message of the bot to this person that this one replaces (edits),
    # e.g. a coordinator's running whistle summary; None: a new message.
    replaces: int | None = None
    # A stored photo by media id (storage/media.py): each channel's sender shows its own reference to it, and
    # nothing when there is none (erased). Channel-neutral, unlike `photo`.
    media: int | None = None
    # With `replaces`: delete that message instead of editing it (a map pin or photo that must not stay).
    delete: bool = False


def notice_to_payload(notice: Notice) -> dict[str, Any]:
    """The notice as JSON-serialisable data (what the outbox stores)."""
    return {
        "key": notice.key,
        "values": dict(notice.values),
        "buttons": [[[b.label, b.act.value, b.subject, b.arg] for b in row] for row in notice.buttons],
        "photo": notice.photo,
        "location": list(notice.location) if notice.location else None,
        "replaces": notice.replaces,
        "media": notice.media,
        **({"delete": True} if notice.delete else {}),
    }


def notice_from_payload(payload: dict[str, Any]) -> Notice:
    """The notice back from what `notice_to_payload` stored; ValueError/KeyError if it is unreadable."""
    location = payload.get("location")
    return Notice(
        key=str(payload["key"]),
        values=dict(payload.get("values") or {}),
        buttons=tuple(
            tuple(Button(str(label), Act(act), subject, arg) for label, act, subject, arg in row)
            for row in payload.get("buttons") or ()
        ),
        photo=payload.get("photo"),
        location=(float(location[0]), float(location[1])) if location else None,
        replaces=payload.get("replaces"),
        media=payload.get("media"),
        delete=bool(payload.get("delete", False)),
    )
