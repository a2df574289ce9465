"""An editor's note on a tip, written once: Decline, Ask for more or Published pressed on a tip's card → the words
(the reason the reporter reads, the question they answer, the published story's link) → the decision
(`actions.tips.decline` / `ask_more` / `publish`, which also tells the reporter). The decision changes the tip: the
outcome names it (`Outcome.changed`), and each channel refreshes its own cards of it (Telegram: the card pressed).

Telegram renders it in `handlers/editors.py`, WeCom in `channels/wecom/conversing.py`; a channel starts it with
`NOTE.start(env, actor, tip_id, action, seen)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actions import tips as tip_actions
from actions.buttons import Act
from actions.env import Env
from conversations.base import Expect, Input, Outcome, Say, State, Steps, Subject, passed_step
from rules.tips import TipAction, TipInputError, TipStatus, clean_link, clean_note, status_key, tip_reference
from rules.wishes import Actor
from storage.errors import Conflict, NotAllowed, NotFound

WORDS = "words"
# What the editor is asked for, and told once it is decided, per decision.
ASKED = {
    TipAction.DECLINE: ("review.ask_reason", "review.done_decline"),
    TipAction.ASK_MORE: ("review.ask_question", "review.done_more"),
    TipAction.PUBLISH: ("review.ask_link", "review.done_publish"),
}
DECIDE = {
    TipAction.DECLINE: tip_actions.decline,
    TipAction.ASK_MORE: tip_actions.ask_more,
    TipAction.PUBLISH: tip_actions.publish,
}


@dataclass(frozen=True, slots=True)
class TipNoteDraft:
    """The draft: the tip, the decision its words are for, and the status the pressed card showed."""

    tip_id: int = 0
    action: TipAction = TipAction.DECLINE
    seen: TipStatus | None = None

    def to_json(self) -> dict[str, Any]:
        return {"tip": self.tip_id, "action": self.action.value, "shown": self.seen.value if self.seen else None}

    @classmethod
    def from_json(cls, data: object) -> TipNoteDraft:
        """The draft back (the keys Telegram kept before the layer); unreadable values are dropped."""
        if not isinstance(data, dict):
            return cls()
        tip_id, action, seen = data.get("tip"), data.get("action"), data.get("shown")
        return cls(
            tip_id=tip_id if type(tip_id) is int else 0,
            action=TipAction(action) if action in {a.value for a in ASKED} else TipAction.DECLINE,
            seen=TipStatus(seen) if seen in {s.value for s in TipStatus} else None,
        )


def refused(exc: Conflict | NotAllowed | NotFound) -> Say:
    """Why the decision cannot be taken: not an editor, no such tip, or it moved on (another editor was faster)."""
    if isinstance(exc, NotAllowed):
        return Say("error.not_allowed")
    if isinstance(exc, NotFound):
        return Say("review.not_found")
    return Say("review.already_decided", {"status": Say(status_key(exc.current)) if exc.current else "?"})


class TipNote(Steps[TipNoteDraft]):
    """The editor's words for a decision (`conversations.base.Conversation`)."""

    name = "review_note"  # the name Telegram kept it under before it was on the layer
    acts: frozenset[Act] = frozenset()  # its one step takes text: no button of its own
    left = "cancel.done"
    retire = False
    steps: tuple[str, ...] = (WORDS,)
    draft = TipNoteDraft

    async def start(self, env: Env, actor: Actor, tip_id: int, action: TipAction, seen: TipStatus) -> Outcome:
        """Decline / Ask for more / Published pressed: the tip must still take it; the words are asked."""
        try:
            await tip_actions.check_decision(env, actor, tip_id, action, seen=seen)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(answer=refused(exc))
        state = self.state(WORDS, TipNoteDraft(tip_id, action, seen))
        return Outcome(says=self.ask(state), state=state)

    def subject(self, state: State) -> Subject:
        """The tip the words are for (WeCom decides one tip at a time)."""
        return Subject("tip", self.form(state).tip_id)

    def ask(self, state: State) -> tuple[Say, ...]:
        form = self.form(state)
        return (Say(ASKED[form.action][0], {"reference": tip_reference(form.tip_id)}, expect=Expect.TEXT),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        if given.press is not None:
            return passed_step(state)
        if given.text is None:  # a photo, a sticker, a location…: words are needed
            return Outcome(says=(Say("review.note_expects_text"),), state=state)
        form = self.form(state)
        try:
            words = clean_link(given.text) if form.action is TipAction.PUBLISH else clean_note(given.text)
        except TipInputError as error:
            values = {
                name: value if isinstance(value, str | int) else str(value) for name, value in error.values.items()
            }
            return Outcome(says=(Say(error.key, values),), state=state)
        try:
            tip = await DECIDE[form.action](env, actor, form.tip_id, words, seen=form.seen)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(says=(refused(exc),))
        done = Say(ASKED[form.action][1], {"reference": tip_reference(tip.id)})
        return Outcome(says=(done,), changed=Subject("tip", tip.id))


NOTE = TipNote()
