"""Writing notices inside an action's transaction, each with the condition it was written under.

`queue(conn, …)` writes one outbox row in the caller's transaction, so a notice exists exactly when
the change it reports was committed. Every row may carry a `Condition`: the facts that made the notice
true when it was written (wish 11 is `open`; tip 6 is `new`; the recipient is still a coordinator).
The sender re-reads them in the transaction that takes the row for sending and records the row as
`superseded` when they no longer hold (`storage.outbox.take_for_sending`), so nobody is told at 08:00
that their wish was approved when they confirmed it done at 00:50.

Every row also says whom and what it is about (`payload["about"]`: person, wish, tip and application ids),
so /deleteme can remove every pending notice about a person whatever its text says: the ids come from
the notice's conditions and buttons, plus the people named in `about=` (e.g. a volunteer an alert names).

Some notices are rendered from the database when they are sent, not when they were queued (digests):
such a row carries `live={"kind": …}` and the renderer registered under that kind with `live_renderer`
builds the notice at send time (or returns None: nothing to say any more).
"""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from actions.buttons import Act
from actions.messages import Lane, Notice, notice_to_payload
from storage import outbox

Check = dict[str, Any]
Condition = tuple[Check, ...]


def wish_in(wish_id: int, *statuses: str) -> Check:
    """The wish is still in one of these statuses."""
    return {"wish": wish_id, "in": list(statuses)}


def tip_in(tip_id: int, *statuses: str) -> Check:
    """The tip is still in one of these statuses."""
    return {"tip": tip_id, "in": list(statuses)}


def case_in(case_id: int, *statuses: str) -> Check:
    """The case is still in one of these statuses."""
    return {"case": case_id, "in": list(statuses)}


def event_in(event_id: int, *statuses: str) -> Check:
    """The public-opinion event is still in one of these statuses."""
    return {"event": event_id, "in": list(statuses)}


def clock_unmet(clock_id: int) -> Check:
    """The event's clock is still unmet and its event open (a warning is moot once the clock was met)."""
    return {"event_clock": clock_id}


def application_in(application_id: int, *statuses: str) -> Check:
    """The application is still in one of these statuses."""
    return {"application": application_id, "in": list(statuses)}


def holds_role(role: str, *others: str) -> Check:
    """The recipient still holds this role, or one of these roles (admins from ADMIN_IDS hold every staff role)."""
    return {"role": [role, *others] if others else role}


def lacks_role(role: str) -> Check:
    """The recipient still does not hold this role as granted (after a revoke; ADMIN_IDS do not count)."""
    return {"lacks_role": role}


def holds_claim(wish_id: int) -> Check:
    """The recipient still holds the claim on this wish."""
    return {"claimer_of": wish_id}


def claimed_by(wish_id: int, person_id: int) -> Check:
    """The wish is still claimed by this person (e.g. the resident's "X took your wish")."""
    return {"claimed": wish_id, "by": person_id}


def activity_open(activity_id: int, as_of: tuple[dt.datetime, str] | None = None) -> Check:
    """The activity is still published (not yet held, not cancelled); with `as_of` (its start and place when the
    notice was written), also not moved since."""
    return {"activity_open": activity_id, **_as_of(as_of)}


def signed_up_for(activity_id: int, as_of: tuple[dt.datetime, str] | None = None) -> Check:
    """The activity is still published and the recipient still holds a place on it (and, with `as_of`, it has
    not been moved since)."""
    return {"signed_up": activity_id, **_as_of(as_of)}


def _as_of(as_of: tuple[dt.datetime, str] | None) -> dict[str, str]:
    if as_of is None:
        return {}
    starts, place = as_of
    return {"starts": starts.astimezone(dt.UTC).isoformat(), "place": place}


# Which kind of record a button's subject id names (buttons without a subject, or naming a story lead, add nothing).
_SUBJECT_KIND: dict[Act, str] = {
    **{act: "wish" for act in Act if act.value.startswith(("wish:", "task:")) and act is not Act.TASK_PAGE},
    Act.PENDING_APPROVE: "wish",
    Act.PENDING_REJECT: "wish",
    Act.PENDING_CATEGORY: "wish",
    Act.PENDING_SET_CATEGORY: "wish",
    Act.WHISTLE: "wish",
    Act.TIP_ANSWER: "tip",
    Act.TIP_ACCEPT: "tip",
    Act.TIP_DECLINE: "tip",
    Act.TIP_MORE: "tip",
    Act.TIP_PUBLISH: "tip",
    Act.PENDING_VOLUNTEER_APPROVE: "application",
    Act.PENDING_VOLUNTEER_REJECT: "application",
    Act.REPORTER_APPROVE: "application",
    Act.REPORTER_REJECT: "application",
    **{act: "case" for act in Act if act.value.startswith("case:")},
    **{act: "activity" for act in Act if act.value.startswith("act:")},
    Act.TEAM_JOIN: "team",
    Act.TEAM_APPROVE: "team",
    Act.TEAM_REJECT: "team",
    Act.PENDING_VIEW: "wish",
    Act.PENDING_SUMMARY: "wish",
    Act.PENDING_VOLUNTEER_VIEW: "application",
    Act.TIP_TO_CHANNEL: "tip",
    Act.REVIEW_VIEW: "tip",
    Act.ACTIVITY_SHARE_YES: "activity",
    Act.ACTIVITY_SHARE_NO: "activity",
}
# Buttons whose subject number names no record a notice is about (a test makes every numbered button choose).
NOT_SUBJECT_BUTTONS: dict[Act, str] = {
    Act.WISH_FROM_TEXT: "numbers the plain-words offer",
    Act.TIP_FROM_TEXT: "numbers the plain-words offer",
    Act.PLAIN_NO: "numbers the plain-words offer",
    Act.TASK_PAGE: "a page number",
    Act.PENDING_PAGE: "a page number",
    Act.INVITE_PAGE: "a page number",
    Act.REVIEW_PAGE: "a page number",
    Act.REVIEW_ACCEPTED_PAGE: "a page number",
    Act.LEAD_YES: "a wish's reference number, asked of the claimer (the recipient)",
    Act.LEAD_NO: "a wish's reference number, asked of the claimer (the recipient)",
    Act.HOT_WISH: "a hot-topic alert: terms counted over everyone's texts",
    Act.HOT_LEAD: "a hot-topic alert: terms counted over everyone's texts",
    Act.ACTIVITY_PROJECT: "a project, in the organizer's own draft",
    Act.ROSTER_MORE: "a place on the organizer's roster (on a reply, never queued)",
    Act.ROSTER_LESS: "a place on the organizer's roster (on a reply, never queued)",
    Act.ROSTER_NO_SHOW: "a place on the organizer's roster (on a reply, never queued)",
    Act.ROSTER_CONFIRM: "an activity's roster (on a reply, never queued)",
    Act.DEPARTMENT_INVITE: "a department, on the coordinator's own list",
    Act.DEPARTMENT_APPROVE: "a request to join a department (its person is named by the notice)",
    Act.DEPARTMENT_REJECT: "a request to join a department (its person is named by the notice)",
    Act.DEPARTMENT_MEMBERS: "a department, on the coordinator's own list",
    Act.DEPARTMENT_REMOVE: "a department, on the coordinator's own list",
    Act.DEPARTMENT_CATEGORY: "the coordinator's own new-department draft (on a reply, never queued)",
    Act.DEPARTMENT_CATEGORIES_DONE: "the coordinator's own new-department draft (on a reply, never queued)",
    Act.CASE_TIER: "a department, on the coordinator's own /case reply (never queued)",
    Act.LINK_YES: "the recipient's own link request",
    Act.LINK_NO: "the recipient's own link request",
}
# Which kind of record a condition's key names.
_CHECK_KIND = {
    "wish": "wish",
    "claimed": "wish",
    "claimer_of": "wish",
    "tip": "tip",
    "application": "application",
    "case": "case",
    "event": "event",
    "activity_open": "activity",
    "signed_up": "activity",
}
# Condition keys that name no record (facts about the recipient).
# (`event_clock` names a clock; its notices name the event through `concerns`.)
NOT_SUBJECTS = frozenset({"in", "by", "role", "lacks_role", "starts", "place", "event_clock"})

# What every notice of a kind (its key's first part: `case.new` is a `case` notice) must say it is about, beyond
# its recipient; `queue` warns of a notice whose kind is missing here or which lacks one of these (a test walks
# every notice the actions write, and the test suite turns warnings into errors, so every story checks too; in
# production the notice still goes: a gap in this registry must not cost a resident her answer). Kinds about the
# recipient alone (their digest, a role granted) need nothing.
NOTICE_SUBJECTS: dict[str, tuple[str, ...]] = {
    "activity": ("activity",),
    "case": ("case",),
    "department": ("person",),
    "event": ("event",),
    "team": ("team",),
    # Wishes, tips and applications name their record through conditions and buttons (issue 12's first pass).
    "lead": (),
    "pending": (),
    "remind": (),
    "reporter": (),
    "review": (),
    "similar": (),
    "task": (),
    "tip": (),
    "volunteer": (),
    "whistle": (),
    "wish": (),
    # About the recipient alone, or about nobody: their digest, a role granted, a command's answer, a hot term
    # over everyone's texts, the blank an erased notice becomes, a coordinator's broadcast (blanked when its
    # author is erased: storage.privacy).
    "broadcast": (),
    "command": (),
    "digest": (),
    "hot": (),
    "link": (),
    "privacy": (),
    "staff": (),
}


class UnmappedNoticeWarning(UserWarning):
    """A notice whose kind has no entry in `NOTICE_SUBJECTS`, or which does not name what its kind must."""


def subjects(
    notice: Notice,
    condition: Iterable[Check],
    people: Iterable[int] = (),
    concerns: Mapping[str, Iterable[int]] | None = None,
) -> dict[str, list[int]]:
    """What a notice is about, by kind: from its conditions, its buttons, the people named and `concerns`
    (records it names without a condition or button on them, e.g. the case a "taken" notice reports)."""
    found: dict[str, set[int]] = {"person": {int(p) for p in people}}
    for kind, ids in (concerns or {}).items():
        found.setdefault(kind, set()).update(int(i) for i in ids)
    for check in condition:
        for key, kind in _CHECK_KIND.items():
            if isinstance(check.get(key), int):
                found.setdefault(kind, set()).add(int(check[key]))
    for row in notice.buttons:
        for button in row:
            named = _SUBJECT_KIND.get(button.act)
            if button.subject is not None and named is not None:
                found.setdefault(named, set()).add(button.subject)
    return {kind: sorted(ids) for kind, ids in found.items() if ids}


def check_subjects(key: str, about: Mapping[str, list[int]]) -> None:
    """Warn of a notice whose kind is not in `NOTICE_SUBJECTS` or which does not name what its kind must."""
    kind = key.split(".", 1)[0]
    if kind not in NOTICE_SUBJECTS:
        message = f"notice kind {kind!r} ({key}) has no entry in actions.notices.NOTICE_SUBJECTS"
        warnings.warn(message, UnmappedNoticeWarning, stacklevel=3)
        return
    missing = [needed for needed in NOTICE_SUBJECTS[kind] if not about.get(needed)]
    if missing:
        message = f"notice {key} does not say which {', '.join(missing)} it is about"
        warnings.warn(message, UnmappedNoticeWarning, stacklevel=3)


async def queue(
    conn: AsyncConnection,
    recipient_id: int,
    notice: Notice,
    *,
    now: dt.datetime,
    lane: Lane = "normal",
    dedupe_key: str | None = None,
    condition: Iterable[Check] = (),
    not_before: dt.datetime | None = None,
    live: dict[str, Any] | None = None,
    about: Iterable[int] = (),
    concerns: Mapping[str, Iterable[int]] | None = None,
) -> bool:
    """Write one notice in the caller's transaction; False when its dedupe key was used before.

    Without a dedupe key each call is a new message; with one, a repeated call changes nothing, so an
    action retried after an error cannot notify twice.
    """
    checks = list(condition)
    payload = notice_to_payload(notice)
    payload["about"] = subjects(notice, checks, about, concerns)
    check_subjects(notice.key, payload["about"])
    if live is not None:
        payload["live"] = live
    return await outbox.enqueue(
        conn,
        recipient_id=recipient_id,
        payload=payload,
        lane=lane,
        dedupe_key=dedupe_key or f"notice:{recipient_id}:{notice.key}:{uuid.uuid4().hex}",
        now=now,
        not_before=not_before,
        condition=checks or None,
    )


async def queue_many(
    conn: AsyncConnection,
    recipient_ids: Iterable[int],
    notice: Notice,
    *,
    now: dt.datetime,
    dedupe_prefix: str,
    lane: Lane = "normal",
    condition: Iterable[Check] = (),
    not_before: dt.datetime | None = None,
    about: Iterable[int] = (),
    concerns: Mapping[str, Iterable[int]] | None = None,
) -> int:
    """The same notice to several people (one row each, keyed `<prefix>:<recipient>`); how many were new."""
    checks = tuple(condition)
    people = tuple(about)
    queued = 0
    for recipient_id in recipient_ids:
        queued += await queue(
            conn,
            recipient_id,
            notice,
            now=now,
            lane=lane,
            dedupe_key=f"{dedupe_prefix}:{recipient_id}",
            condition=checks,
            not_before=not_before,
            about=people,
            concerns=concerns,
        )
    return queued


LiveRenderer = Callable[[AsyncConnection, dict[str, Any], int, dt.datetime], Awaitable[Notice | None]]
_LIVE: dict[str, LiveRenderer] = {}


def live_renderer(kind: str) -> Callable[[LiveRenderer], LiveRenderer]:
    """Register the function that builds a `live` notice of this kind when it is sent."""

    def register(function: LiveRenderer) -> LiveRenderer:
        _LIVE[kind] = function
        return function

    return register


async def render_live(
    conn: AsyncConnection, live: dict[str, Any], recipient_id: int, now: dt.datetime
) -> Notice | None:
    """The notice a `live` row says now; KeyError for a kind nobody registered."""
    return await _LIVE[str(live["kind"])](conn, live, recipient_id, now)
