"""A department member's forms on a case, written once: 办结 (`RESOLVE`: the note of what was done → a photo of the
result or 不附照片 → `actions.cases.resolve`) and 退回 (`RETURN`: the reason → `actions.cases.hand_back`). Each
outcome that decides names the case it changed (`Outcome.changed`), so each channel refreshes its own cards of it
(Telegram: the card pressed loses its 办结 / 退回 buttons).

Telegram renders them in `handlers/departments.py`, WeCom 退回 in `channels/wecom/conversing.py`; a channel starts
one with `resolve_form(channel).start(env, actor, case_id)` (the channel names where the photo's reference comes
from) or `RETURN.start(env, actor, case_id)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actions import cases
from actions.buttons import Act, Button
from actions.env import Env
from conversations.base import Expect, Input, Outcome, Say, State, Steps, Subject, passed_step, refusal
from rules.cases import CaseInputError, CaseStatus, check_note
from rules.wishes import Actor
from storage.errors import Conflict, NotAllowed, NotFound

NOTE, PHOTO, REASON = "note", "photo", "reason"
Refused = Conflict | NotAllowed | NotFound


@dataclass(frozen=True, slots=True)
class CaseForm:
    """The draft: the case, its reference as people see it, and the note typed so far (办结)."""

    case_id: int = 0
    ref: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "ref": self.ref, "note": self.note}

    @classmethod
    def from_json(cls, data: object) -> CaseForm:
        """The draft back (Telegram's keys before the layer are the same); unreadable values are dropped."""
        if not isinstance(data, dict):
            return cls()
        case_id, ref, note = data.get("case_id"), data.get("ref"), data.get("note")
        return cls(
            case_id if type(case_id) is int else 0,
            ref if isinstance(ref, str) else "",
            note if isinstance(note, str) else "",
        )


def typed(state: State, given: Input) -> str | Outcome:
    """A note or reason typed: checked (`rules.cases.check_note`), or the outcome that asks again."""
    if given.press is not None:
        return passed_step(state)
    if not given.typed:
        return Outcome(says=(Say("case.note_empty"),), state=state)
    try:
        return check_note(given.typed)
    except CaseInputError as error:
        return Outcome(says=(Say(error.reason, error.values),), state=state)


def refused(exc: Refused) -> Outcome:
    """The case moved on, or the person may no longer act on it: said; the form ends."""
    return Outcome(says=(refusal(exc, pressed=False, words="wish.case"),))  # a case's status in the resident's words


class OneCase(Steps[CaseForm]):
    """A form about one case: `subject(state)` names it before an answer is taken (WeCom decides one case at a
    time)."""

    def subject(self, state: State) -> Subject:
        """The case the form is about."""
        return Subject("case", self.form(state).case_id)


class CaseResolve(OneCase):
    """办结: the note, then a photo or 不附照片 (`conversations.base.Conversation`). `channel`: where the photo's
    reference comes from (stored with it)."""

    name = "case_resolve"
    acts = frozenset({Act.CASE_NO_PHOTO})
    left = "cancel.done"
    retire = True  # 不附照片 goes once the form ends
    steps: tuple[str, ...] = (NOTE, PHOTO)
    draft = CaseForm

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def start(self, env: Env, actor: Actor, case_id: int) -> Outcome:
        """办结 pressed: only whoever acknowledged the case, while it is theirs; the note is asked."""
        try:
            shown = await cases.view(env, case_id)
        except NotFound:
            return Outcome(answer=Say("error.stale_button"))
        if shown.case.acknowledged_by != actor.user_id or shown.case.status != CaseStatus.ACKNOWLEDGED:
            return Outcome(answer=Say("error.stale_button"))
        state = self.state(NOTE, CaseForm(case_id, shown.ref))
        return Outcome(says=self.ask(state), state=state)

    def ask(self, state: State) -> tuple[Say, ...]:
        form = self.form(state)
        if state.step == NOTE:
            return (Say("case.ask_note", {"ref": form.ref}, expect=Expect.TEXT),)
        no_photo = Button("case.button.no_photo", Act.CASE_NO_PHOTO, form.case_id)
        return (Say("case.ask_photo", choices=((no_photo,),), expect=Expect.PHOTO),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        form = self.form(state)
        if state.step == NOTE:
            note = typed(state, given)
            if isinstance(note, Outcome):
                return note
            after = self.state(PHOTO, CaseForm(form.case_id, form.ref, note))
            return Outcome(says=self.ask(after), state=after)
        if given.press is not None and given.press.act == Act.CASE_NO_PHOTO:
            return await self._resolve(env, actor, form, None, pressed=True)
        if given.photo is not None:
            return await self._resolve(env, actor, form, (self.channel, given.photo), pressed=False)
        if given.photo_media is not None:
            return await self._resolve(env, actor, form, (self.channel, str(given.photo_media)), pressed=False)
        if given.press is not None:
            return passed_step(state)
        return Outcome(says=(Say("case.photo_expected"),), state=state)

    async def _resolve(
        self, env: Env, actor: Actor, form: CaseForm, photo: tuple[str, str] | None, *, pressed: bool
    ) -> Outcome:
        try:
            shown = await cases.resolve(env, actor, form.case_id, form.note, photo=photo)
        except CaseInputError as error:
            return Outcome(says=(Say(error.reason, error.values),))
        except (Conflict, NotAllowed, NotFound) as exc:
            return refused(exc)
        thanks = Say("case.resolved_thanks", {"ref": shown.ref})
        return Outcome(says=(thanks,), clear_buttons=pressed, changed=Subject("case", form.case_id))


class CaseReturn(OneCase):
    """退回: the reason (`conversations.base.Conversation`)."""

    name = "case_return"
    acts: frozenset[Act] = frozenset()  # its one step takes text
    left = "cancel.done"
    retire = False
    steps: tuple[str, ...] = (REASON,)
    draft = CaseForm

    async def start(self, env: Env, actor: Actor, case_id: int) -> Outcome:
        """退回 pressed: while the case is sent or acknowledged; the reason is asked."""
        try:
            shown = await cases.view(env, case_id)
        except NotFound:
            return Outcome(answer=Say("error.stale_button"))
        if shown.case.status not in (CaseStatus.SENT, CaseStatus.ACKNOWLEDGED):
            return Outcome(answer=Say("error.stale_button"))
        state = self.state(REASON, CaseForm(case_id, shown.ref))
        return Outcome(says=self.ask(state), state=state)

    def ask(self, state: State) -> tuple[Say, ...]:
        return (Say("case.ask_reason", {"ref": self.form(state).ref}, expect=Expect.TEXT),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        reason = typed(state, given)
        if isinstance(reason, Outcome):
            return reason
        case_id = self.form(state).case_id
        try:
            shown = await cases.hand_back(env, actor, case_id, reason)
        except (Conflict, NotAllowed, NotFound) as exc:
            return refused(exc)
        return Outcome(says=(Say("case.returned_thanks", {"ref": shown.ref}),), changed=Subject("case", case_id))


RETURN = CaseReturn()
