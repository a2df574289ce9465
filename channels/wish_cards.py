"""How a wish reads in chat, for each audience: the full details for the claimer and coordinators, the resident's
own card, and status in words. The public card volunteers browse (never a phone number or an exact address) is
channel-neutral: `conversations.pages.task_card`.

Everything returned is HTML (user text escaped); `t` is the reader's catalogue lookup (`context.t`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

from actions import wishes as wish_actions
from rules.whistles import elapsed
from rules.wishes import short_summary, voice_length, wish_ref
from storage.cases import Referral
from storage.wishes import Wish

Translate = Callable[..., str]


def format_hours(hours: float) -> str:
    """2.0 → "2", 1.5 → "1.5"."""
    return f"{hours:g}"


# The status as people say it (a wish sent to a department: where its case stands), on every channel.
status_words = wish_actions.status_words


def waited(t: Translate, since: dt.datetime, now: dt.datetime) -> str:
    """How long ago, in the largest sensible unit."""
    key, n = elapsed(since, now)
    return t(key, n=n)


def spoken(t: Translate, wish: Wish) -> str:
    """ "（语音 0:25）" for a spoken wish (its voice note is sent beside the card), else nothing."""
    if wish.voice_seconds is None:
        return ""
    return t("wish.voice_note", length=voice_length(wish.voice_seconds))


def short_description(wish: Wish, t: Translate | None = None) -> str:
    """The start of the description, escaped; a spoken wish says so (with `t`) or shows 🎤."""
    text = html.escape(short_summary(wish.description)) if wish.description else ""
    if wish.voice_seconds is not None:
        text = f"{text} {spoken(t, wish)}".strip() if t is not None else (text or "🎤")
    return text


def description_line(t: Translate, wish: Wish) -> str:
    """The whole description, escaped, and "（语音 0:25）" when it was spoken."""
    return f"{html.escape(wish.description)} {spoken(t, wish)}".strip()


def area_of(t: Translate, wish: Wish) -> str:
    """The area, or words saying it is not given."""
    return html.escape(wish.area) if wish.area else t("wish.area_unknown")


def full_details(t: Translate, wish: Wish, *, pin_follows: bool = False) -> str:
    """Everything about the wish: for the volunteer who claimed it and for coordinators. A shared location is
    "see the pin below" only when the caller sends the pin after the card; otherwise its coordinates."""
    lines = [
        t("wish.details.title", ref=wish_ref(wish.ref_no), category=t(f"category.{wish.category}")),
        description_line(t, wish),
        t("wish.details.area", area=area_of(t, wish)),
    ]
    if wish.address:
        lines.append(t("wish.details.address", address=html.escape(wish.address)))
    if wish.location and pin_follows:
        lines.append(t("wish.details.location_pin"))
    elif wish.location:
        latitude, longitude = wish.location
        lines.append(t("wish.details.location_at", latitude=f"{latitude:.5f}", longitude=f"{longitude:.5f}"))
    lines.append(t("wish.details.phone", phone=html.escape(wish.phone) if wish.phone else t("wish.no_phone")))
    if wish.resident_note:
        lines.append(t("wish.details.resident_note", note=html.escape(wish.resident_note)))
    return "\n".join(lines)


def resident_card(t: Translate, wish: Wish, referral: Referral | None = None) -> str:
    """A resident's own wish with its status in words (and the reason when it was turned down)."""
    text = t(
        "wish.mine.card",
        ref=wish_ref(wish.ref_no),
        category=t(f"category.{wish.category}"),
        summary=short_description(wish, t),
        status=status_words(t, wish.status, referral),
    )
    if wish.reject_reason and wish.status == "rejected":
        text += "\n" + t("wish.mine.reason", reason=html.escape(wish.reject_reason))
    if wish.hours is not None and wish.status in ("done", "confirmed"):
        text += "\n" + t("wish.mine.hours", hours=format_hours(wish.hours))
    if wish.rating is not None:
        text += "\n" + t("wish.mine.rating", rating=wish.rating)
    return text
