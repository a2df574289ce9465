"""A coordinator turns a volunteer application down, written once: 不通过 → the reason the applicant will read (a
text of at most `NOTE_MAX` characters) → `actions.applications.reject_volunteer`, which tells them.

Telegram renders it in `handlers/volunteer_review.py`; a channel starts it with
`ApplicationReject().start(env, actor, application_id)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actions import applications as application_actions
from actions.buttons import Act
from actions.env import Env
from conversations.base import Expect, Input, Outcome, Say, State, Steps, typed_note
from rules import wishes as lifecycle
from rules.wishes import Actor
from storage.errors import Conflict, NotAllowed, NotFound

NAME = "volunteer_reject"  # the name Telegram kept it under before it was on the layer
REASON = "reason"


@dataclass(frozen=True, slots=True)
class OneApplication:
    """The draft: the application being turned down."""

    application_id: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"application_id": self.application_id}

    @classmethod
    def from_json(cls, data: object) -> OneApplication:
        """The draft back (a bare id, as Telegram kept it before the layer, is read too)."""
        found = data.get("application_id") if isinstance(data, dict) else data
        return cls(found if type(found) is int else 0)


def refusal(exc: Conflict | NotAllowed | NotFound) -> Say:
    """Why the application can no longer be turned down: not a coordinator, or it was decided (or is gone)."""
    return Say("error.not_allowed" if isinstance(exc, NotAllowed) else "pending.already_decided")


class ApplicationReject(Steps[OneApplication]):
    """Turning an application down with a reason (`conversations.base.Conversation`)."""

    name = NAME
    acts: frozenset[Act] = frozenset()  # its one step takes text: no button of its own
    left = "cancel.done"
    retire = False  # its question has no buttons to take away
    steps: tuple[str, ...] = (REASON,)
    draft = OneApplication

    async def start(self, env: Env, actor: Actor, application_id: int) -> Outcome:
        """不通过 pressed: the application must still wait; the reason is asked."""
        try:
            await application_actions.pending_volunteer_application(env, actor, application_id)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(answer=refusal(exc))
        state = self.state(REASON, OneApplication(application_id))
        return Outcome(says=self.ask(state), state=state)

    def ask(self, state: State) -> tuple[Say, ...]:
        return (Say("pending.ask_reason", {"max": lifecycle.NOTE_MAX}, expect=Expect.TEXT, hint=True),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        reason = typed_note(state, given)
        if isinstance(reason, Outcome):
            return reason
        try:
            await application_actions.reject_volunteer(env, actor, self.form(state).application_id, reason)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(says=(refusal(exc),))
        return Outcome(says=(Say("pending.rejected"),))
