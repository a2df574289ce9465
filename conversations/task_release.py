"""A volunteer gives a task back, written once: 放弃 → why (a text of at most `NOTE_MAX` characters) →
`actions.tasks.release`, which opens the wish to everyone again, tells the resident and withdraws every card that
showed the volunteer the contact.

Telegram renders it in `handlers/tasks.py`, WeChat in `channels/wechat/volunteering.py`; a channel starts it with
`TaskRelease().start(env, actor, wish_id)`.
"""

from __future__ import annotations

from actions import tasks
from actions.buttons import Act
from actions.env import Env
from conversations.base import Expect, Input, OneWish, Outcome, Say, State, Steps, refusal, typed_note
from conversations.task_done import held
from rules import wishes as lifecycle
from rules.wishes import Actor, WishAction, wish_ref
from storage.errors import Conflict, NotAllowed, NotFound

NAME = "task_release"
REASON = "reason"
STEPS = (REASON,)
ACTS: frozenset[Act] = frozenset()  # its one step takes text: no button of its own


class TaskRelease(Steps[OneWish]):
    """Giving a task back with a reason (`conversations.base.Conversation`)."""

    name = NAME
    acts = ACTS
    left = "cancel.done"
    retire = False  # its question has no buttons to take away
    steps: tuple[str, ...] = STEPS
    draft = OneWish

    async def start(self, env: Env, actor: Actor, wish_id: int) -> Outcome:
        """放弃 pressed on a task: the volunteer must hold it now; the reason is asked."""
        wish = await held(env, actor, wish_id, WishAction.RELEASE)
        if isinstance(wish, Outcome):
            return wish
        state = self.state(REASON, OneWish(wish_id=wish.id, ref=wish_ref(wish.ref_no)))
        return Outcome(says=self.ask(state), state=state)

    def ask(self, state: State) -> tuple[Say, ...]:
        params: dict[str, str | int] = {"ref": self.form(state).ref, "max": lifecycle.NOTE_MAX}
        return (Say("task.ask_release_reason", params, expect=Expect.TEXT, hint=True),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        reason = typed_note(state, given)
        if isinstance(reason, Outcome):
            return reason
        try:
            released = await tasks.release(env, actor, self.form(state).wish_id, reason)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(says=(refusal(exc, pressed=False, words="task.status"),))
        return Outcome(says=(Say("task.released", {"ref": wish_ref(released.wish.ref_no)}),))
