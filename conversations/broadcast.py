"""A coordinator's broadcast, written once: the audience (a choice) → the message (a text, or a photo with a
caption) → the preview, exactly as recipients will see it, with how many people the audience holds → 确认发送,
which queues it for everyone (`actions.broadcast.send`). A new text or photo at the preview replaces the message
and shows the preview again; 取消 (or a leave word) at any step sends nothing.

The confirmation's message becomes the progress message where the channel edits messages (`Input.message_id`:
Telegram); elsewhere the coordinator is told the broadcast is on its way, and its totals come as a message of their
own when it is done.

Telegram renders it in `handlers/staff.py`; a channel starts it with `BroadcastConversation().start(env, actor)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actions import broadcast
from actions.buttons import Act, Button
from actions.env import Env
from conversations.base import Input, Outcome, Say, State, Steps, passed_step
from rules.broadcasts import check_message, limit
from rules.staff import may
from rules.wishes import Actor, InvalidInput
from storage.errors import NotAllowed

NAME = "broadcast"
AUDIENCE, MESSAGE, PREVIEW = "audience", "message", "preview"
STEPS = (AUDIENCE, MESSAGE, PREVIEW)
CANCEL = Button("broadcast.cancel_button", Act.BROADCAST_CANCEL)
SEND = Button("broadcast.confirm_button", Act.BROADCAST_SEND)
AUDIENCE_BUTTONS = tuple(
    (Button(f"broadcast.audience.{audience}", Act.BROADCAST_AUDIENCE, arg=audience),)
    for audience in broadcast.AUDIENCES
)
TAKES = {
    AUDIENCE: {Act.BROADCAST_AUDIENCE, Act.BROADCAST_CANCEL},
    MESSAGE: {Act.BROADCAST_CANCEL},
    PREVIEW: {Act.BROADCAST_SEND, Act.BROADCAST_CANCEL},
}


@dataclass(frozen=True, slots=True)
class BroadcastForm:
    """The draft: the broadcast being written (None before its audience is chosen, or when what was kept cannot be
    read: the conversation then says it is over)."""

    draft: broadcast.Draft | None = None

    def to_json(self) -> dict[str, Any]:
        return self.draft.to_json() if self.draft is not None else {}

    @classmethod
    def from_json(cls, data: object) -> BroadcastForm:
        return cls(broadcast.Draft.from_json(data))


class BroadcastConversation(Steps[BroadcastForm]):
    """/broadcast (`conversations.base.Conversation`)."""

    name = NAME
    acts = frozenset({Act.BROADCAST_AUDIENCE, Act.BROADCAST_SEND, Act.BROADCAST_CANCEL})
    left = "cancel.done"
    retire = True  # a newer preview takes the buttons off the one before: an old 确认发送 sends nothing stale
    steps: tuple[str, ...] = STEPS
    draft = BroadcastForm

    def start(self, actor: Actor) -> Outcome:
        """/broadcast: who should receive the message (a coordinator or an admin only)."""
        if actor.user_id is None or not may(actor.roles, "broadcast"):
            return Outcome(says=(Say("error.not_allowed"),))
        state = self.state(AUDIENCE, BroadcastForm())
        return Outcome(says=self.ask(state), state=state)

    def ask(self, state: State) -> tuple[Say, ...]:
        draft = self.form(state).draft
        if state.step == AUDIENCE or draft is None:
            return (Say("broadcast.ask_audience", choices=(*AUDIENCE_BUTTONS, (CANCEL,))),)
        audience = Say(f"broadcast.audience.{draft.audience}")
        if state.step == MESSAGE:
            return (Say("broadcast.ask_message", {"audience": audience}),)
        shown = Say("broadcast.message", {"text": draft.text}, photo=draft.photo)
        return (shown, Say("broadcast.confirm_ask", {"audience": audience}, choices=((SEND,), (CANCEL,))))

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        press = given.press
        if press is not None and press.act not in TAKES[state.step]:
            return passed_step(state)  # a button of a step already passed (a double tap, an older message)
        if press is not None and press.act == Act.BROADCAST_CANCEL:
            return Outcome(says=(Say("cancel.done"),), clear_buttons=True)
        if state.step == AUDIENCE:
            return self.addressed(state, given)
        draft = self.form(state).draft
        if draft is None:  # what was kept cannot be read (an old or damaged conversation)
            return Outcome(says=(Say("broadcast.expired"),))
        if press is not None:
            return await self.confirmed(env, actor, draft, given)
        return await self.written(env, actor, state, draft, given)

    def addressed(self, state: State, given: Input) -> Outcome:
        """The audience: chosen by its button only (anything typed asks for the button again)."""
        press = given.press
        if press is None:
            return Outcome(says=(Say("wish.pick_button"),), state=state)
        if press.arg not in broadcast.AUDIENCES:  # well formed, but no audience this bot offers
            return Outcome(state=state, answer=Say("broadcast.expired"))
        chosen = self.state(MESSAGE, BroadcastForm(broadcast.Draft(press.arg)))
        return Outcome(says=self.ask(chosen), state=chosen, clear_buttons=True)

    async def written(self, env: Env, actor: Actor, state: State, draft: broadcast.Draft, given: Input) -> Outcome:
        """The message, as text or as a photo with its caption: checked, then previewed with the audience's size."""
        photo = given.photo
        text = (given.attachment.caption or "").strip() if photo and given.attachment else given.typed
        if not photo and not text:
            return Outcome(says=(Say("broadcast.text_or_photo"),), state=state)
        try:
            text = check_message(text, photo=bool(photo))
        except InvalidInput:
            return Outcome(says=(Say("broadcast.too_long", {"limit": limit(photo=bool(photo))}),), state=state)
        written = broadcast.Draft(draft.audience, text, photo)
        try:
            count = await broadcast.audience_size(env, actor, written.audience)
        except NotAllowed:  # their role was taken away during the conversation
            return Outcome(says=(Say("error.not_allowed"),))
        shown = Say("broadcast.message", {"text": text}, photo=photo)
        question = Say(
            "broadcast.preview",
            {"audience": Say(f"broadcast.audience.{written.audience}"), "count": count},
            choices=((SEND,), (CANCEL,)),
        )
        return Outcome(says=(shown, question), state=self.state(PREVIEW, BroadcastForm(written)))

    async def confirmed(self, env: Env, actor: Actor, draft: broadcast.Draft, given: Input) -> Outcome:
        """确认发送: queued for the whole audience; the pressed message becomes the progress message where the
        channel edits messages, and elsewhere the coordinator is told it is on its way."""
        try:
            sent = await broadcast.send(env, actor, draft, progress_message_id=given.message_id)
        except NotAllowed:
            return Outcome(answer=Say("error.not_allowed"), clear_buttons=True)
        except InvalidInput:
            return Outcome(answer=Say("broadcast.expired"), clear_buttons=True)
        if given.message_id is not None:
            # Not cleared here: the progress edit, queued with the broadcast, replaces the text and its buttons
            # (and may reach the message first, when clearing them again would be refused as "not modified").
            return Outcome()
        return Outcome(says=(Say("broadcast.queued", {"total": sent.total}),), clear_buttons=True)
