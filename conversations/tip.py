"""A lead for the newsroom (报料), written once: media → description → location → category → summary with
提交 / 取消 (diagram: docs/tip.mmd), ending in `actions.tips.submit`, which stores the tip and its media and tells
the editors.

Photos, videos, files and a voice note (`Input.attachment`) are taken at every step, up to `rules.tips.MAX_MEDIA`:
the first one moves the form on (its caption, if any, is the description), each later one is counted ("已添加，目前
共 3 个"), so a reporter on a channel that sends each image as a message of its own (WeChat) collects them one by one
and goes on by typing what happened; an album's later items (Telegram: one update per item sharing a media group)
are added without a word, and an album over the limit is refused once. Text at the first step is a text-only tip.

Telegram renders it in `handlers/reporters.py` (through `handlers/conversing.py`), WeChat in
`channels/wechat/conversation.py` (through `channels/wechat/steps.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from actions import tips as tip_actions
from actions.buttons import Act, Button
from actions.env import Env
from conversations.base import Attachment, Expect, Input, Outcome, Param, Say, State, Steps, passed_step
from rules.tips import (
    CATEGORIES,
    MAX_MEDIA,
    TipInputError,
    category_key,
    check_category,
    check_media,
    clean_description,
    tip_reference,
)
from rules.wishes import Actor
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound
from storage.tips import MediaItem, Tip

NAME = "tip"
MEDIA, DESCRIPTION, LOCATION, CATEGORY, CONFIRM = STEPS = ("media", "description", "location", "category", "confirm")
ACTS = frozenset({Act.TIP_CATEGORY, Act.TIP_SUBMIT, Act.TIP_CANCEL, Act.STEP_SKIP})
SHARE_LOCATION = "tip.button_share_location"
CONFIRM_BUTTONS = ((Button("tip.button_submit", Act.TIP_SUBMIT), Button("tip.button_cancel", Act.TIP_CANCEL)),)
# Words that say the photos are all sent (a channel that sends each photo as a message of its own): not a description.
DONE_WORDS = frozenset({"完成", "好了", "发完了", "发送", "done", "send"})
CATEGORY_BUTTONS = tuple((Button(category_key(c), Act.TIP_CATEGORY, arg=c),) for c in CATEGORIES)

# What is said after a tip is stored: a channel's work on its files (Telegram downloads them to the media folder).
AfterSubmit = Callable[[Tip], Awaitable[None]]
# A spoken tip's description, in the person's language ("（语音 1分5秒）"), from the note's length in seconds.
SpokenWords = Callable[[int], str]


@dataclass(frozen=True, slots=True)
class TipFile:
    """One file of the draft: its kind, the channel's reference to it, or the media a channel stored already."""

    kind: str
    file_id: str = ""
    unique: str | None = None
    size: int | None = None
    media_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": self.kind, "file_id": self.file_id, "unique": self.unique, "size": self.size}
        if self.media_id is not None:
            found["media_id"] = self.media_id
        return found

    @classmethod
    def from_json(cls, data: object) -> TipFile | None:
        """A file back from the draft (also as Telegram kept it before the layer); None when unreadable."""
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            return None
        file_id, unique, size, media_id = (data.get(k) for k in ("file_id", "unique", "size", "media_id"))
        if not isinstance(file_id, str):
            file_id = ""
        if not file_id and type(media_id) is not int:
            return None
        return cls(
            kind=data["kind"],
            file_id=file_id,
            unique=unique if isinstance(unique, str) else None,
            size=size if type(size) is int else None,
            media_id=media_id if type(media_id) is int else None,
        )

    def item(self) -> MediaItem:
        return MediaItem(self.kind, self.file_id, self.unique, self.size, media_id=self.media_id)


@dataclass(frozen=True, slots=True)
class TipForm:
    """The tip being written. `album`: the media group whose later items are added silently; `refused_album`: the
    one already told it is over the limit."""

    media: tuple[TipFile, ...] = ()
    description: str | None = None
    location: tuple[float, float] | None = None
    category: str | None = None
    album: str | None = None
    refused_album: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "media": [m.to_json() for m in self.media],
            "description": self.description,
            "location": list(self.location) if self.location else None,
            "category": self.category,
            "album": self.album,
            "refused_album": self.refused_album,
        }

    @classmethod
    def from_json(cls, data: object) -> TipForm:
        """The draft back from `to_json` (or as Telegram's own /tip kept it); unreadable values are dropped."""
        if not isinstance(data, dict):
            return cls()
        media = data.get("media")
        files = tuple(f for f in (TipFile.from_json(m) for m in media) if f) if isinstance(media, list) else ()
        location = data.get("location")
        where = None
        if isinstance(location, list) and len(location) == 2 and all(isinstance(v, int | float) for v in location):
            where = (float(location[0]), float(location[1]))

        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) and value else None

        return cls(
            media=files[:MAX_MEDIA],
            description=text("description"),
            location=where,
            category=text("category") if text("category") in CATEGORIES else None,
            album=text("album"),
            refused_album=text("refused_album"),
        )


def refused(error: TipInputError) -> Say:
    """Why a value or a file was not taken, as the person reads it."""
    return Say(error.key, {k: v for k, v in error.values.items() if isinstance(v, str | int | float)})


class TipConversation(Steps[TipForm]):
    """报料 (`conversations.base.Conversation`). `after_submit`: what the channel does with a stored tip's files;
    `spoken`: the description of a tip sent as a voice note."""

    name = NAME
    acts = ACTS
    left = "cancel.done"
    retire = True
    steps: tuple[str, ...] = STEPS
    draft = TipForm

    def __init__(self, *, after_submit: AfterSubmit | None = None, spoken: SpokenWords | None = None) -> None:
        self._after_submit = after_submit
        self._spoken = spoken

    async def start(self, env: Env, actor: Actor, *, description: str | None = None) -> Outcome:
        """报料 / /tip: today's limit is checked, then photos are asked for; with `description` (a reporter's words
        sent as a tip) the location is asked next."""
        try:
            await tip_actions.check_quota(env, actor)
        except LimitReached:
            return Outcome(says=(Say("tip.limit_reached", {"limit": env.settings.tips_per_day}, clear=True),))
        if description is not None:
            try:
                form = TipForm(description=clean_description(description))
            except TipInputError as error:
                return Outcome(says=(refused(error),))
            return self.go(form, LOCATION)
        state = self.state(MEDIA, TipForm())
        return Outcome(says=self.ask(state), state=state)

    @staticmethod
    def full(state: State) -> bool:
        """Whether the draft holds as many files as a tip may (a channel need not fetch one more)."""
        form = state.draft
        return isinstance(form, TipForm) and len(form.media) >= MAX_MEDIA

    def ask(self, state: State) -> tuple[Say, ...]:
        form = self.form(state)
        count = len(form.media)
        if state.step == MEDIA:
            return (Say("tip.ask_media", clear=True),)
        if state.step == DESCRIPTION:
            return (Say("tip.ask_description", {"count": count}, expect=Expect.TEXT, hint=True),)
        if state.step == LOCATION:
            return (
                Say(
                    "tip.ask_location",
                    {"count": count},
                    expect=Expect.LOCATION,
                    skip=True,
                    share=SHARE_LOCATION,
                    hint=True,
                ),
            )
        if state.step == CATEGORY:
            return (Say("tip.ask_category", choices=CATEGORY_BUTTONS, hint=True),)
        return (self.summary(form),)

    @staticmethod
    def summary(form: TipForm) -> Say:
        values: dict[str, Param] = {
            "category": Say(category_key(form.category or "")),
            "description": form.description or "",
            "media": len(form.media),
            "location": Say("tip.location_yes" if form.location else "tip.location_no"),
        }
        return Say("tip.summary", values, choices=CONFIRM_BUTTONS)

    def go(self, form: TipForm, step: str, *, before: tuple[Say, ...] = ()) -> Outcome:
        state = self.state(step, form)
        return Outcome(says=(*before, *self.ask(state)), state=state)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        if given.attachment is not None:
            return self.attached(state, given.attachment)
        press = given.press
        if press is not None and not self.takes(state.step, press.act):
            return passed_step(state)
        if state.step in (MEDIA, DESCRIPTION):
            return self.described(state, given)
        if state.step == LOCATION:
            return self.located(state, given)
        if press is None:
            return self.again(state)
        form = self.form(state)
        if state.step == CATEGORY:
            try:
                category = check_category(press.arg or "")
            except TipInputError as error:
                return Outcome(state=state, answer=Say(error.key))
            chosen = self.state(CONFIRM, replace(form, category=category))
            return Outcome(says=self.ask(chosen), state=chosen, clear_buttons=True)
        if press.act == Act.TIP_CANCEL:
            return Outcome(says=(Say("cancel.done"),), clear_buttons=True)
        return await self.submit(env, actor, state)

    @staticmethod
    def takes(step: str, act: Act) -> bool:
        """Whether the step takes this button (any other is from a step already passed)."""
        if step == LOCATION:
            return act == Act.STEP_SKIP
        if step == CATEGORY:
            return act == Act.TIP_CATEGORY
        return step == CONFIRM and act in (Act.TIP_SUBMIT, Act.TIP_CANCEL)

    def again(self, state: State, *, before: tuple[Say, ...] = ()) -> Outcome:
        """Something the step cannot use: its question again; nothing entered is lost."""
        return Outcome(says=(*before, *self.ask(state)), state=state)

    def attached(self, state: State, file: Attachment) -> Outcome:
        """A photo, video, file or voice note, at any step (see the module's docstring)."""
        form = self.form(state)
        same_album = file.album is not None and file.album == form.album
        try:
            check_media(
                file.kind, mime_type=file.mime, file_size=file.size, already=len(form.media), seconds=file.seconds
            )
            if not file.ref and file.media_id is None:
                raise TipInputError("tip.media_unsupported")
        except TipInputError as error:
            if same_album and form.refused_album == file.album:
                return Outcome(state=state)  # an album over the limit is refused once
            still = self.state(state.step, replace(form, refused_album=file.album))
            said = refused(error)
            if error.key == "tip.media_unsupported" and file.kind != "document":
                return self.again(still, before=(said,))  # a sticker, a voice on WeChat…: and what the step needs
            return Outcome(says=(said,), state=still)
        kept = TipFile(file.kind, file.ref or "", file.unique, file.size, file.media_id)
        form = replace(form, media=(*form.media, kept), album=file.album or form.album)
        told: tuple[Say, ...] = ()
        if not form.description and (file.caption or "").strip():
            try:
                form = replace(form, description=clean_description(file.caption))
            except TipInputError as error:
                told = (refused(error),)
        if file.kind == "voice" and not form.description and self._spoken is not None:
            form = replace(form, description=self._spoken(file.seconds or 0))
        if state.step == MEDIA or (state.step == DESCRIPTION and form.description):
            return self.go(form, LOCATION if form.description else DESCRIPTION, before=told)
        if same_album:
            return Outcome(says=told, state=self.state(state.step, form))
        added = Say("tip.media_added", {"count": len(form.media)})
        return Outcome(says=(*told, added), state=self.state(state.step, form))

    def described(self, state: State, given: Input) -> Outcome:
        """Text at the first step (a text-only tip) or at the description step: checked, then the location."""
        form = self.form(state)
        if given.text is None:  # a location, a contact… where text or a file is asked for
            return self.again(state)
        if given.typed.lower() in DONE_WORDS:  # the photos are all sent: what happened is still asked
            told = Say("tip.done_needs_description", {"count": len(form.media)}, expect=Expect.TEXT, hint=True)
            return Outcome(says=(told,), state=state) if form.media else self.again(state)
        try:
            description = clean_description(given.typed)
        except TipInputError as error:
            return Outcome(says=(refused(error),), state=state)
        return self.go(replace(form, description=description), LOCATION)

    def located(self, state: State, given: Input) -> Outcome:
        """A shared location is kept; 跳过 skips it; anything else is asked again."""
        form = self.form(state)
        if given.location is not None:
            return self.go(
                replace(form, location=given.location), CATEGORY, before=(Say("tip.location_saved", clear=True),)
            )
        if given.skips():
            return self.go(replace(form, location=None), CATEGORY, before=(Say("tip.location_skipped", clear=True),))
        return Outcome(
            says=(Say("tip.ask_location_again", expect=Expect.LOCATION, skip=True, share=SHARE_LOCATION, hint=True),),
            state=state,
        )

    async def submit(self, env: Env, actor: Actor, state: State) -> Outcome:
        form = self.form(state)
        if not form.description or not form.category:
            return Outcome(state=state, answer=Say("tip.ask_description", {"count": len(form.media)}))
        try:
            tip = await tip_actions.submit(
                env,
                actor,
                category=check_category(form.category),
                description=form.description,
                location=form.location,
                media=[f.item() for f in form.media],
            )
        except LimitReached:
            return Outcome(state=state, answer=Say("tip.limit_reached", {"limit": env.settings.tips_per_day}))
        except TipInputError as error:
            return Outcome(state=state, answer=Say(error.key))
        if self._after_submit is not None:
            await self._after_submit(tip)
        return Outcome(says=(Say("tip.submitted", {"reference": tip_reference(tip.id)}),), clear_buttons=True)


# -- the reporter's answer to an editor's question (请补充 → 回复) ------------------------------------------------

ANSWER_NAME = "tip_answer"
ANSWER, ALBUM = ANSWER_STEPS = ("answer", "album")


@dataclass(frozen=True, slots=True)
class AnswerDraft:
    """The tip being answered; `album`: the album the answer came in, whose later items are the answer's too."""

    tip_id: int = 0
    album: str | None = None
    count: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"tip": self.tip_id, "album": self.album, "count": self.count}

    @classmethod
    def from_json(cls, data: object) -> AnswerDraft:
        """The draft back from `to_json` (the same keys Telegram kept before the layer); unreadable values dropped."""
        if not isinstance(data, dict):
            return cls()
        tip, album, count = data.get("tip"), data.get("album"), data.get("count")
        return cls(
            tip_id=tip if type(tip) is int else 0,
            album=album if isinstance(album, str) and album else None,
            count=count if type(count) is int else 0,
        )


class TipAnswer(Steps[AnswerDraft]):
    """回复 under an editor's question: words, or a photo (a video, a file) with its caption, attached to the tip,
    which returns to the editors' queue (`actions.tips.answer`). An answer that came as an album (Telegram) takes
    the album's later items too; anything else there ends it."""

    name = ANSWER_NAME
    acts: frozenset[Act] = frozenset()  # its steps take no button (a new 回复 starts it again)
    left = "cancel.done"
    retire = False
    steps: tuple[str, ...] = ANSWER_STEPS
    draft = AnswerDraft

    def __init__(self, *, after_answer: AfterSubmit | None = None) -> None:
        self._after_answer = after_answer

    async def start(self, env: Env, actor: Actor, tip_id: int) -> Outcome:
        """回复 pressed: only the tip's reporter, only while the question is open."""
        try:
            tip = await tip_actions.check_answer(env, actor, tip_id)
        except NotAllowed:
            return Outcome(answer=Say("error.not_allowed"))
        except Conflict:
            return Outcome(answer=Say("tip.answer_not_needed", {"reference": tip_reference(tip_id)}))
        state = self.state(ANSWER, AnswerDraft(tip_id=tip.id))
        return Outcome(says=self.ask(state), state=state)

    def ask(self, state: State) -> tuple[Say, ...]:
        if state.step == ALBUM:
            return ()
        reference = tip_reference(self.form(state).tip_id)
        return (Say("tip.ask_answer", {"reference": reference}, clear=True),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        if given.press is not None:
            return passed_step(state)
        draft = self.form(state)
        reference = tip_reference(draft.tip_id)
        file = given.attachment
        if state.step == ALBUM:
            if file is None or file.album is None or file.album != draft.album:
                return Outcome(says=(Say("tip.answer_done"),))
            return await self.album_item(env, actor, state, file)
        if file is None and given.text is None:  # a location, a contact…: what the step needs
            return Outcome(says=self.ask(state), state=state)
        text = given.text if file is None else file.caption
        try:
            media = [_answer_file(file, already=0)] if file is not None else []
            words = clean_description(text) if text is not None else None
        except TipInputError as error:
            return Outcome(says=(refused(error),), state=state)
        try:
            tip = await tip_actions.answer(env, actor, draft.tip_id, text=words, media=media)
        except (Conflict, NotAllowed, NotFound):
            return Outcome(says=(Say("tip.answer_not_needed", {"reference": reference}),))
        if self._after_answer is not None:
            await self._after_answer(tip)
        told = (Say("tip.answer_attached", {"reference": reference}),)
        if file is not None and file.album is not None:
            return Outcome(says=told, state=self.state(ALBUM, replace(draft, album=file.album, count=1)))
        return Outcome(says=told)

    async def album_item(self, env: Env, actor: Actor, state: State, file: Attachment) -> Outcome:
        """A later item of the album the answer came in: attached too, without a word."""
        draft = self.form(state)
        try:
            item = _answer_file(file, already=draft.count)
            tip = await tip_actions.add_answer_media(env, actor, draft.tip_id, [item])
        except TipInputError as error:
            return Outcome(says=(refused(error),), state=state)
        except (Conflict, NotAllowed, NotFound):
            return Outcome()
        if self._after_answer is not None:
            await self._after_answer(tip)
        return Outcome(state=self.state(ALBUM, replace(draft, count=draft.count + 1)))


def _answer_file(file: Attachment, *, already: int) -> MediaItem:
    """A file an answer takes (`TipInputError` saying why not)."""
    check_media(file.kind, mime_type=file.mime, file_size=file.size, already=already, seconds=file.seconds)
    if not file.ref and file.media_id is None:
        raise TipInputError("tip.media_unsupported")
    return MediaItem(file.kind, file.ref or "", file.unique, file.size, media_id=file.media_id)
