"""A volunteer finishes a task, written once: 完成 → hours (buttons or typed, 0.5–24) → a proof photo (optional) →
a note for the resident (optional) → `actions.tasks.finish`, which asks the resident to confirm (diagram:
docs/task_done.mmd). Each step's question loses its buttons once it is answered (`retire`), so no stale 跳过 or
hour button stays under it.

Telegram renders it in `handlers/tasks.py`; a channel starts it with `TaskDone.start(env, actor, wish_id)`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from actions import tasks
from actions.buttons import Act, Button
from actions.env import Env
from conversations.base import Expect, Input, Outcome, Say, State, Steps, passed_step, refusal
from rules import wishes as lifecycle
from rules.wishes import Actor, InvalidInput, WishAction, wish_ref
from storage.errors import Conflict, NotAllowed, NotFound
from storage.wishes import Wish

NAME = "task_done"
HOURS, PROOF, NOTE = STEPS = ("hours", "proof", "note")
ACTS = frozenset({Act.TASK_HOURS, Act.TASK_SKIP})
HOURS_RANGE = {"min": "0.5", "max": "24"}


@dataclass(frozen=True, slots=True)
class DoneForm:
    """What the volunteer has entered so far for one task."""

    wish_id: int = 0
    ref: str = ""
    hours: float | None = None
    proof: str | None = None  # the channel's reference to the proof photo (Telegram: file_id)...
    proof_media: int | None = None  # ...or the photo stored already (WeChat)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> DoneForm:
        """The form back from `to_json` (or the plain dict kept before it); unreadable values are dropped."""
        if not isinstance(data, dict):
            return cls()
        wish_id, hours, media = data.get("wish_id"), data.get("hours"), data.get("proof_media")
        ref, proof = data.get("ref"), data.get("proof")
        return cls(
            wish_id=wish_id if type(wish_id) is int else 0,
            ref=ref if isinstance(ref, str) else "",
            hours=float(hours) if isinstance(hours, int | float) and not isinstance(hours, bool) else None,
            proof=proof if isinstance(proof, str) else None,
            proof_media=media if type(media) is int else None,
        )


async def held(env: Env, actor: Actor, wish_id: int, action: WishAction) -> Wish | Outcome:
    """The task behind a 完成 / 放弃 press if the volunteer may do that to it now, or the answer why not (the same
    for a task released or reassigned since, someone else's, or none at all)."""
    try:
        return await tasks.task_of(env, actor, wish_id, action)
    except (NotAllowed, NotFound):
        return Outcome(answer=Say("task.not_yours"))
    except Conflict as exc:
        return Outcome(answer=refusal(exc, pressed=True, words="task.status"))


def skip(step: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button("wish.button.skip", Act.TASK_SKIP, arg=step),),)


class TaskDone(Steps[DoneForm]):
    """Finishing a task (`conversations.base.Conversation`)."""

    name = NAME
    acts = ACTS
    left = "cancel.done"
    retire = True  # a step's question loses its buttons once the step is answered
    steps: tuple[str, ...] = STEPS
    draft = DoneForm

    async def start(self, env: Env, actor: Actor, wish_id: int) -> Outcome:
        """完成 pressed on a task: the volunteer must hold it now; the hours are asked."""
        wish = await held(env, actor, wish_id, WishAction.FINISH)
        if isinstance(wish, Outcome):
            return wish
        state = self.state(HOURS, DoneForm(wish_id=wish.id, ref=wish_ref(wish.ref_no)))
        return Outcome(says=self.ask(state), state=state)

    def ask(self, state: State) -> tuple[Say, ...]:
        if state.step == HOURS:
            hours = tuple(Button("task.button.hours", Act.TASK_HOURS, arg=h) for h in tasks.HOUR_CHOICES)
            asked = Say("task.ask_hours", {"ref": self.form(state).ref, **HOURS_RANGE}, choices=(hours,), hint=True)
            return (asked,)
        if state.step == PROOF:
            return (Say("task.ask_proof", choices=skip(PROOF), expect=Expect.PHOTO, hint=True),)
        return (Say("task.ask_note", {"max": lifecycle.NOTE_MAX}, choices=skip(NOTE), expect=Expect.TEXT, hint=True),)

    def go(self, form: DoneForm, step: str) -> Outcome:
        state = self.state(step, form)
        return Outcome(says=self.ask(state), state=state, clear_buttons=True)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        form = self.form(state)
        press = given.press
        # The skip item, or a skip word typed (跳过/不用/没有/skip: on WeChat a typed word, as in the wish form).
        skipped = (press is not None and press.act == Act.TASK_SKIP and press.arg == state.step) or (
            press is None and state.step != HOURS and given.skips()
        )
        if press is not None and not (skipped or (state.step == HOURS and press.act == Act.TASK_HOURS)):
            return passed_step(state)
        if state.step == HOURS:
            if press is not None:
                if press.arg not in tasks.HOUR_CHOICES:
                    return Outcome(state=state, answer=Say("task.stale_button"))
                return self.go(replace(form, hours=float(press.arg or 0)), PROOF)
            try:
                hours = lifecycle.parse_hours(given.typed) if given.typed else None
            except InvalidInput:
                hours = None
            if hours is None:
                return Outcome(says=(Say("task.hours_invalid", HOURS_RANGE),), state=state)
            return self.go(replace(form, hours=hours), PROOF)
        if state.step == PROOF:
            if given.photo is not None or given.photo_media is not None:
                return self.go(replace(form, proof=given.photo, proof_media=given.photo_media), NOTE)
            if skipped:
                return self.go(replace(form, proof=None, proof_media=None), NOTE)
            key = "wish.photo_as_document" if given.document else "task.proof_expected"
            return Outcome(says=(Say(key),), state=state)
        if skipped:
            return await self.finish(env, actor, form, None, pressed=press is not None)
        if not given.typed:
            return Outcome(says=(Say("wish.note_expected"),), state=state)
        try:
            note = lifecycle.check_text(given.typed, lifecycle.NOTE_MAX)
        except InvalidInput:
            return Outcome(says=(Say("wish.note_too_long", {"max": lifecycle.NOTE_MAX}),), state=state)
        return await self.finish(env, actor, form, note, pressed=False)

    async def finish(self, env: Env, actor: Actor, form: DoneForm, note: str | None, *, pressed: bool) -> Outcome:
        """Report the wish done; the action asks the resident to confirm (with the proof photo)."""
        try:
            finished = await tasks.finish(
                env,
                actor,
                form.wish_id,
                hours=form.hours or 0,
                proof=form.proof,
                note=note,
                proof_media=form.proof_media,
            )
        except InvalidInput:
            return Outcome(says=(Say("task.hours_invalid", HOURS_RANGE),), clear_buttons=True)
        except (Conflict, NotAllowed, NotFound) as exc:
            return Outcome(answer=refusal(exc, pressed=pressed, words="task.status"), clear_buttons=True)
        wish = finished.wish
        thanks = Say("task.done_thanks", {"ref": wish_ref(wish.ref_no), "hours": tasks.format_hours(wish.hours or 0)})
        return Outcome(says=(thanks,), clear_buttons=True)
