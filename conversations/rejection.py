"""A coordinator turns something waiting down with a reason, written once: 不通过 → the reason the person will read
(a text of at most `NOTE_MAX` characters) → the action, which tells them. Two are written with it: a volunteer
application (`APPLICATION`: `actions.applications.reject_volunteer`) and a wish waiting for review (`WISH`:
`actions.wishes.reject`).

Telegram renders them in `handlers/volunteer_review.py` and `handlers/review.py`, WeCom in
`channels/wecom/conversing.py`; a channel starts one with `APPLICATION.start(env, actor, application_id)`. The
outcome that decides names what it turned down (`Outcome.changed`, a `Subject` of the conversation's `kind`), and
`subject(state)` names it before the answer is taken (WeCom decides one subject at a time).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from actions import applications as application_actions
from actions import wishes as wish_actions
from actions.buttons import Act
from actions.env import Env
from conversations.base import Expect, Input, Outcome, Say, State, Steps, Subject, refusal, typed_note
from rules import wishes as lifecycle
from rules.wishes import Actor
from storage.errors import Conflict, NotAllowed, NotFound

REASON = "reason"
Refused = Conflict | NotAllowed | NotFound


@dataclass(frozen=True, slots=True)
class OneSubject:
    """The draft: the id of what is being turned down."""

    subject_id: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"subject_id": self.subject_id}

    @classmethod
    def from_json(cls, data: object) -> OneSubject:
        """The draft back; what Telegram kept before the layer is read too (an application's bare id, a wish's
        `[kind, id]`)."""
        found = data.get("subject_id") if isinstance(data, dict) else data
        if isinstance(found, list) and found:
            found = found[-1]
        return cls(found if type(found) is int else 0)


class Rejection(Steps[OneSubject]):
    """Turning one kind of thing down with a reason (`conversations.base.Conversation`): `check` raises when it no
    longer waits, `reject` decides, `refused` says why a press or an answer no longer works."""

    acts: frozenset[Act] = frozenset()  # its one step takes text: no button of its own
    left = "cancel.done"
    retire = False  # its question has no buttons to take away
    steps: tuple[str, ...] = (REASON,)
    draft = OneSubject

    def __init__(
        self,
        name: str,
        kind: str,
        check: Callable[[Env, Actor, int], Awaitable[object]],
        reject: Callable[[Env, Actor, int, str], Awaitable[object]],
        refused: Callable[[Refused, bool], Say],
    ) -> None:
        self.name, self.kind = name, kind
        self._check, self._reject, self._refused = check, reject, refused

    async def start(self, env: Env, actor: Actor, subject_id: int) -> Outcome:
        """不通过 pressed: it must still wait; the reason is asked."""
        try:
            await self._check(env, actor, subject_id)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(answer=self._refused(exc, True))
        state = self.state(REASON, OneSubject(subject_id))
        return Outcome(says=self.ask(state), state=state)

    def subject(self, state: State) -> Subject:
        """What the conversation turns down."""
        return Subject(self.kind, self.form(state).subject_id)

    def ask(self, state: State) -> tuple[Say, ...]:
        return (Say("pending.ask_reason", {"max": lifecycle.NOTE_MAX}, expect=Expect.TEXT, hint=True),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        reason = typed_note(state, given)
        if isinstance(reason, Outcome):
            return reason
        try:
            await self._reject(env, actor, self.form(state).subject_id, reason)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(says=(self._refused(exc, False),))
        return Outcome(says=(Say("pending.rejected"),), changed=self.subject(state))


def application_refused(exc: Refused, pressed: bool) -> Say:
    """Why an application can no longer be turned down: not a coordinator, or it was decided (or is gone)."""
    return Say("error.not_allowed" if isinstance(exc, NotAllowed) else "pending.already_decided")


def wish_refused(exc: Refused, pressed: bool) -> Say:
    """Why a wish can no longer be turned down: not allowed, gone, or moved on (its status)."""
    return refusal(exc, pressed=pressed)


# The names are those Telegram kept them under before they were on the layer.
APPLICATION = Rejection(
    "volunteer_reject",
    "application",
    application_actions.pending_volunteer_application,
    application_actions.reject_volunteer,
    application_refused,
)
WISH = Rejection("review_reject", "wish", wish_actions.check_reject, wish_actions.reject, wish_refused)
