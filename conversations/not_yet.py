"""A resident says a wish is not done yet, written once: 还没办好 on the done wish → what is missing (a note) →
`actions.wishes.not_yet`, which sends the wish back to its volunteer with the note.

Telegram renders it in `handlers/residents.py`, WeChat in `channels/wechat/conversation.py`.
"""

from __future__ import annotations

from actions import wishes as wish_actions
from actions.buttons import Act
from actions.env import Env
from conversations.base import Expect, Input, OneWish, Outcome, Param, Say, State, Steps, passed_step, refusal
from rules import wishes as lifecycle
from rules.wishes import Actor, InvalidInput, wish_ref
from storage.errors import Conflict, NotAllowed, NotFound

NAME = "wish_not_yet"
NOTE = "note"
STEPS = (NOTE,)


class NotYet(Steps[OneWish]):
    """还没办好 with a note (`conversations.base.Conversation`)."""

    name = NAME
    acts: frozenset[Act] = frozenset()  # its one step takes no button (a new 还没办好 starts it again)
    left = "cancel.done"
    retire = False  # its question has no buttons
    steps: tuple[str, ...] = STEPS
    draft = OneWish

    async def start(self, env: Env, actor: Actor, wish_id: int) -> Outcome:
        """还没办好 pressed: the wish must still be one its resident can send back; what is missing is asked."""
        try:
            wish = await wish_actions.check_not_yet(env, actor, wish_id)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(answer=refusal(exc, pressed=True))
        state = self.state(NOTE, OneWish(wish_id=wish.id, ref=wish_ref(wish.ref_no)))
        return Outcome(says=self.ask(state), state=state)

    def ask(self, state: State) -> tuple[Say, ...]:
        params: dict[str, Param] = {"ref": self.form(state).ref, "max": lifecycle.NOTE_MAX}
        return (Say("wish.ask_not_yet_note", params, expect=Expect.TEXT, hint=True),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        if given.press is not None:
            return passed_step(state)
        if not given.typed:
            return Outcome(says=(Say("wish.note_expected"),), state=state)
        try:
            changed = await wish_actions.not_yet(env, actor, self.form(state).wish_id, given.typed)
        except InvalidInput:
            return Outcome(says=(Say("wish.note_too_long", {"max": lifecycle.NOTE_MAX}),), state=state)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(says=(refusal(exc, pressed=False),))
        return Outcome(says=(Say("wish.not_yet_sent", {"ref": wish_ref(changed.wish.ref_no)}),))
