"""The pieces every conversation is made of: what a person sent (`Input`), what the bot says (`Say`), what one
input leads to (`Outcome`), the durable state (`State`), and `run`, which answers leave and help words at every
step before the conversation reads the input.

Channels render a `Say` their own way:
- its text is the catalogue `key` filled with `params` (a `str` value is raw, as the person typed it: each channel
  escapes it; a `Say` value is a catalogue text of its own, translated first);
- `choices` are rows of typed buttons (Telegram: an inline keyboard; WeChat: a menu whose items are numbered in
  the order of the rows, and accepted typed); a label's catalogue text may show the button's argument as `{arg}`
  ("{arg} 小时") and the `labels` values ("使用“{name}”"); the buttons in `chosen` are shown chosen (✅), for steps
  that choose several;
- a tuple of `Say`s as a value is a list, joined with the language's separator ("、");
- `expect` says what the step takes besides a choice (Telegram offers a reply keyboard to share a location or a
  phone number, labelled `share` where the step names the button its own way; WeChat tells people to use its own
  location and photo pickers), and `skip` that it may be skipped;
- `hint` adds how to leave under the question; `in_place` lets a channel that edits messages show the choices on
  the pressed message instead of sending a new one; `clear` takes away a reply keyboard left by an earlier step;
- `photo` shows a photo with the text as its caption (the channel's reference to it: a broadcast's preview); a
  channel that cannot send it shows the text alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, Self, TypeAlias, TypeVar

from actions.buttons import Act, Button, Press
from actions.env import Env
from rules.text import is_help, is_leave
from rules.wishes import NOTE_MAX, Actor, InvalidInput, check_text
from storage.errors import Conflict, NotAllowed, NotFound

CANCEL_COMMAND = "/cancel"
# Words that skip an optional step, in every language the catalogues hold ("跳过" / "Skip" are also the buttons).
SKIP_WORDS = frozenset({"跳过", "skip", "不用", "没有"})


class Expect(StrEnum):
    """What a step takes."""

    CHOICE = "choice"
    TEXT = "text"
    LOCATION = "location"
    PHOTO = "photo"
    CONTACT = "contact"


@dataclass(frozen=True)
class Contact:
    """A shared phone number; `own`: the person shared their own (not someone else's contact card)."""

    phone: str
    own: bool


@dataclass(frozen=True)
class Voice:
    """A voice note: the channel's reference to it and its length."""

    ref: str
    seconds: int


@dataclass(frozen=True)
class Attachment:
    """A file a person sent, for a step that keeps files of several kinds (a tip's photos, videos, documents, a
    voice note): its `kind` ("photo", "video", "document", "voice", or "other" for one no step keeps: a sticker),
    the channel's reference (`ref`, `unique`: Telegram's file_id and file_unique_id) or the media the channel
    already stored (`media_id`: storage/media.py, e.g. a WeChat photo downloaded at once), what the channel says of
    it (`size` in bytes, `mime`, a voice note's `seconds`), the album it came in (`album`: Telegram's
    media_group_id, one update per item) and its `caption`."""

    kind: str
    ref: str | None = None
    unique: str | None = None
    media_id: int | None = None
    size: int | None = None
    mime: str | None = None
    seconds: int | None = None
    album: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Input:
    """What a person sent, whatever the channel called it."""

    press: Press | None = None
    text: str | None = None
    location: tuple[float, float] | None = None
    label: str | None = None  # a location's place name, where the channel gives one
    relayed: bool = False  # a location forwarded or a venue picked from a list: not where the person is
    sent_at: dt.datetime | None = None  # when the person sent it, where the channel says (a stale location)
    photo: str | None = None  # the channel's reference to a photo (Telegram: its file_id)
    photo_media: int | None = None  # or a photo the channel already stored (storage/media.py, e.g. WeChat's)
    document: bool = False  # a file where a photo was expected
    contact: Contact | None = None
    voice: Voice | None = None
    attachment: Attachment | None = None  # the file, for a step that keeps files of several kinds (a tip)
    message_id: int | None = None  # the pressed message, where the channel edits messages (a broadcast's progress)

    @property
    def typed(self) -> str:
        """The text typed (not a press), stripped; "" when there is none."""
        return (self.text or "").strip() if self.press is None else ""

    def skips(self) -> bool:
        """Whether this input skips the step: the skip choice, or a skip word typed."""
        if self.press is not None:
            return self.press.act == Act.STEP_SKIP
        return self.typed.lower() in SKIP_WORDS


Param: TypeAlias = "str | int | float | Say | tuple[Say, ...]"


@dataclass(frozen=True)
class Say:
    """One message: a catalogue text, and how the step asks (see the module's docstring)."""

    key: str
    params: Mapping[str, Param] = field(default_factory=dict)
    choices: tuple[tuple[Button, ...], ...] = ()
    expect: Expect | None = None
    skip: bool = False
    hint: bool = False
    in_place: bool = False
    clear: bool = False
    chosen: tuple[Button, ...] = ()
    labels: Mapping[str, Param] = field(default_factory=dict)
    share: str | None = None  # the catalogue key of a share button's label, where a step names it its own way
    photo: str | None = None  # a photo shown with the text as its caption (the channel's reference to it)


@dataclass(frozen=True)
class State:
    """Where a person is in a conversation: its name, the step, and the typed draft."""

    conversation: str
    step: str
    draft: Draft

    def to_json(self) -> dict[str, Any]:
        return {"conversation": self.conversation, "step": self.step, "draft": self.draft.to_json()}


@dataclass(frozen=True)
class Subject:
    """What a conversation's form was about, by kind ("tip", "case", "wish") and id: named by an outcome that changed
    it, so each channel refreshes its own cards of it."""

    kind: str
    id: int


@dataclass(frozen=True)
class Outcome:
    """What one input leads to.

    `says`: the messages to send, in order. `state`: the state to keep (None: the conversation ended).
    `edit`: a channel that edits replaces the pressed message's text with this one (its buttons go); others show
    nothing. `clear_buttons`: the pressed message's buttons go (a channel that edits). `answer`: the short answer
    to a tap (`popup`: shown as an alert), or a message of its own where a channel has no such answers.
    `roles_changed`: the person's roles changed (a channel with menus per role refreshes theirs).
    `changed`: the item the conversation was started from changed (a tip decided, a case closed): each channel
    refreshes its own cards of it (Telegram: the message pressed to start; WeCom: every recipient's card).
    """

    says: tuple[Say, ...] = ()
    state: State | None = None
    edit: Say | None = None
    clear_buttons: bool = False
    answer: Say | None = None
    popup: bool = True
    roles_changed: bool = False  # the person's roles changed: a channel with menus per role shows theirs
    changed: Subject | None = None  # the item the form was started from changed: channels refresh their cards


class Draft(Protocol):
    """A conversation's typed draft: kept by the channel as JSON."""

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class OneWish:
    """The draft of a conversation about one wish (a task given back, a wish not done yet): its id and reference."""

    wish_id: int = 0
    ref: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"wish_id": self.wish_id, "ref": self.ref}

    @classmethod
    def from_json(cls, data: object) -> OneWish:
        """The draft back from `to_json`; unreadable values are dropped (a bare wish id, as Telegram kept it before
        the layer, is read too)."""
        if type(data) is int:
            return cls(wish_id=data)
        if not isinstance(data, dict):
            return cls()
        wish_id, ref = data.get("wish_id"), data.get("ref")
        return cls(wish_id=wish_id if type(wish_id) is int else 0, ref=ref if isinstance(ref, str) else "")


class JsonDraft(Draft, Protocol):
    """A draft that reads itself back from its JSON (an unreadable value gives an empty draft, not an error)."""

    @classmethod
    def from_json(cls, data: object) -> Self: ...


D = TypeVar("D", bound=JsonDraft)


class Steps(Generic[D]):
    """What every conversation does with its state: its `name`, its `steps` in order, its typed draft (`draft`,
    the class)."""

    name: str
    steps: tuple[str, ...] = ()
    draft: type[D]

    def state(self, step: str, form: D) -> State:
        return State(self.name, step, form)

    def state_from_json(self, data: object) -> State | None:
        """A kept state back (None when it is not this conversation's)."""
        if not isinstance(data, dict) or data.get("conversation") != self.name or data.get("step") not in self.steps:
            return None
        return self.state(str(data["step"]), self.draft.from_json(data.get("draft")))

    def resume(self, step: str, draft: object) -> State:
        """The state at `step` with the draft kept as JSON (a channel keeping the step itself)."""
        return self.state(step, self.draft.from_json(draft))

    def form(self, state: State) -> D:
        """The state's draft, typed."""
        assert isinstance(state.draft, self.draft)
        return state.draft


class Conversation(Protocol):
    """A conversation written once. `acts`: the buttons of its steps (a press of one that its current step does
    not take is from a step already passed). `retire`: once a step is answered, a channel that edits takes the
    buttons off its question, so no stale 跳过 stays under it."""

    name: str
    acts: frozenset[Act]
    left: str  # the catalogue key that says the conversation was left
    retire: bool  # a channel that edits takes a step's buttons away once the step is answered

    def state_from_json(self, data: object) -> State | None: ...

    def ask(self, state: State) -> tuple[Say, ...]: ...

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome: ...


def leaves(given: Input) -> bool:
    """Whether an input leaves the conversation: /cancel, or leave words (取消, 退出, 不要了…)."""
    text = given.typed
    return bool(text) and (text.lower() == CANCEL_COMMAND or is_leave(text))


def helps(given: Input) -> bool:
    """Whether an input asks how to go on (帮助, 怎么填, help, ？…)."""
    text = given.typed
    return bool(text) and (text.lower() == "/help" or is_help(text))


async def run(conversation: Conversation, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
    """One input in a conversation: leave words end it and help words say where the person is and ask the step
    again (nothing entered is lost), at every step; anything else is the conversation's to read."""
    if leaves(given):
        return Outcome(says=(Say(conversation.left, clear=True),), state=None)
    if helps(given):
        told = Say("conversation.help", {"what": Say(f"conversation.name.{conversation.name}")})
        return Outcome(says=(told, *conversation.ask(state)), state=state)
    return await conversation.handle(env, actor, state, given)


def passed_step(state: State) -> Outcome:
    """A button of a step already passed (a double tap, an older message): said at once; nothing changes."""
    return Outcome(state=state, answer=Say("step.passed"), popup=False)


def typed_note(state: State, given: Input, limit: int = NOTE_MAX) -> str | Outcome:
    """The note typed at a step that takes one (a reason, what is missing): the text within `limit`, or the outcome
    that asks again (a press of a step already passed, no text, too long), nothing entered lost."""
    if given.press is not None:
        return passed_step(state)
    if not given.typed:
        return Outcome(says=(Say("wish.note_expected"),), state=state)
    try:
        return check_text(given.typed, limit)
    except InvalidInput:
        return Outcome(says=(Say("wish.note_too_long", {"max": limit}),), state=state)


def refusal(exc: Conflict | NotAllowed | NotFound, *, pressed: bool, words: str = "wish.status") -> Say:
    """Why a button or an answer no longer works: not allowed, gone, or its wish moved on (its status in the words
    of the person's role: "wish.status" for the resident, "task.status" for a volunteer). A press for a wish that
    does not exist is refused like one without the right, so a forged id learns nothing."""
    if isinstance(exc, NotAllowed) or (pressed and isinstance(exc, NotFound)):
        return Say("error.not_allowed")
    if isinstance(exc, NotFound):
        return Say("wish.not_found")
    return Say("wish.stale", {"status": Say(f"{words}.{exc.current or ''}")})
