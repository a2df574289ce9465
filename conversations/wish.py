"""The resident's wish form, written once: category → description → area → place → photo → phone → summary with
提交 / 修改 / 取消, and 修改 of each field from the summary (diagram: docs/wish.mmd). At 提交 a similar open wish
nearby is offered to join first (once); the wish itself is committed by `actions.wishes.submit` before the person
is told it was submitted.

Telegram renders it in `handlers/residents.py`, WeChat in `channels/wechat/conversation.py`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from actions import wishes as wish_actions
from actions.buttons import Act, Button
from actions.env import Env
from conversations.base import Expect, Input, Outcome, Param, Say, State, Steps, passed_step
from rules import wishes as lifecycle
from rules.whistles import elapsed
from rules.wishes import Actor, InvalidInput, WishDraft, short_summary, wish_ref
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound
from storage.wishes import Wish

NAME = "wish"
CATEGORY, DESCRIPTION, AREA, PLACE, PHOTO, PHONE, SUMMARY = STEPS = (
    "category",
    "description",
    "area",
    "place",
    "photo",
    "phone",
    "summary",
)
# The field the summary's 修改 offers → the step that asks for it.
FIELDS = {
    "category": CATEGORY,
    "description": DESCRIPTION,
    "area": AREA,
    "place": PLACE,
    "photo": PHOTO,
    "phone": PHONE,
}
PHONE_MAX = 32
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
ACTS = frozenset(
    {
        Act.WISH_CATEGORY,
        Act.WISH_AREA,
        Act.STEP_SKIP,
        Act.WISH_SUBMIT,
        Act.WISH_EDIT,
        Act.WISH_FIELD,
        Act.WISH_DISCARD,
        Act.WISH_JOIN,
    }
)


@dataclass(frozen=True, slots=True)
class WishForm:
    """What the resident has entered so far; kept by the channel as JSON (`to_json` / `from_json`), so a restart
    in the middle of the form continues where they were."""

    category: str | None = None
    description: str | None = None
    area: str | None = None
    address: str | None = None
    location: tuple[float, float] | None = None
    photo: str | None = None  # the channel's reference to the photo (Telegram: file_id)...
    photo_media: int | None = None  # ...or the photo stored already (storage/media.py: WeChat downloads at once)
    phone: str | None = None
    voice: str | None = None  # a spoken description: the voice note's file reference...
    voice_seconds: int | None = None  # ...and its length
    editing: bool = False  # one field is being changed from the summary: go back to it after
    similar_offered: int | None = None  # the similar wish already shown (Submit again submits anyway)

    def to_json(self) -> dict[str, Any]:
        """The form as JSON-serialisable data."""
        data = asdict(self)
        data["location"] = list(self.location) if self.location else None
        return data

    @classmethod
    def from_json(cls, data: object) -> WishForm:
        """The form back from `to_json` (or from the plain dict drafts stored before it); an unreadable value
        starts an empty form rather than failing the person's next step."""
        if not isinstance(data, dict):
            return cls()

        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        def number(name: str) -> int | None:
            value = data.get(name)
            return value if type(value) is int else None

        location = data.get("location")
        try:
            return cls(
                category=text("category"),
                description=text("description"),
                area=text("area"),
                address=text("address"),
                location=(float(location[0]), float(location[1])) if location else None,
                photo=text("photo"),
                photo_media=number("photo_media"),
                phone=text("phone"),
                voice=text("voice"),
                voice_seconds=number("voice_seconds"),
                editing=bool(data.get("editing")),
                similar_offered=number("similar_offered"),
            )
        except (TypeError, ValueError, IndexError):
            return cls()

    def to_draft(self) -> WishDraft:
        """The form as the rules take it (the action checks the description again)."""
        return WishDraft(
            category=self.category or "other",
            description=self.description or "",
            area=self.area,
            address=self.address,
            location=self.location,
            photo_file_id=self.photo,
            photo_media_id=self.photo_media,
            phone=self.phone,
            voice_file_id=self.voice,
            voice_seconds=self.voice_seconds,
        )


def _rows(buttons: list[Button], width: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


SKIP = Button("wish.button.skip", Act.STEP_SKIP)
SUMMARY_BUTTONS = (
    (Button("wish.button.submit", Act.WISH_SUBMIT),),
    (Button("wish.button.edit", Act.WISH_EDIT), Button("wish.button.discard", Act.WISH_DISCARD)),
)
FIELD_BUTTONS = _rows([Button(f"wish.field.{name}", Act.WISH_FIELD, arg=name) for name in FIELDS], 3)


class WishConversation(Steps[WishForm]):
    """The wish form (`conversations.base.Conversation`). `categories` and `areas` are the district's (settings)."""

    name = NAME
    steps: tuple[str, ...] = STEPS
    draft = WishForm
    acts = ACTS
    left = "wish.left"
    retire = False  # the form's own edits take its buttons away (the category and area chosen, the summary)

    def __init__(self, categories: tuple[str, ...] | list[str], areas: tuple[str, ...] | list[str]) -> None:
        self.categories = tuple(categories)
        self.areas = tuple(areas)

    # -- starting ---------------------------------------------------------------------------------------------

    async def start(self, env: Env, actor: Actor, prefill: WishForm | None = None) -> Outcome:
        """A new form (today's limit checked first). `prefill`: a description (and a guessed category) or a voice
        note said outside the form: the category is asked for a voice note, the area for a description."""
        if not await wish_actions.may_submit(env, actor):
            return Outcome(says=(Say("wish.limit", {"limit": env.settings.wishes_per_day}),))
        form = prefill or WishForm()
        if form.description and form.category and not form.voice:
            told = Say("plain.wish_prefilled", {"category": Say(f"category.{form.category}")})
            return self.go(form, AREA, before=(told,))
        return self.go(form, CATEGORY)

    # -- asking -----------------------------------------------------------------------------------------------

    def ask(self, state: State) -> tuple[Say, ...]:
        """The question of the state's step (the summary: the draft to check)."""
        step = state.step
        if step == CATEGORY:
            buttons = [Button(f"category.{key}", Act.WISH_CATEGORY, arg=key) for key in self.categories]
            return (Say("wish.ask_category", choices=_rows(buttons, 2), expect=Expect.CHOICE, hint=True),)
        if step == DESCRIPTION:
            limits = {"min": lifecycle.DESCRIPTION_MIN, "max": lifecycle.DESCRIPTION_MAX}
            return (Say("wish.ask_description", limits, expect=Expect.TEXT, hint=True),)
        if step == AREA:
            buttons = [Button(f"={area}", Act.WISH_AREA, arg=str(i)) for i, area in enumerate(self.areas)]
            return (Say("wish.ask_area", choices=(*_rows(buttons, 3), (SKIP,)), expect=Expect.CHOICE, hint=True),)
        if step == PLACE:
            asked = Say("wish.ask_place", {"max": lifecycle.ADDRESS_MAX}, expect=Expect.LOCATION, skip=True, hint=True)
            return (asked,)
        if step == PHOTO:
            return (Say("wish.ask_photo", expect=Expect.PHOTO, skip=True, hint=True),)
        if step == PHONE:
            return (Say("wish.ask_contact", expect=Expect.CONTACT, skip=True, hint=True),)
        return self.summary(self.form(state))

    def summary(self, form: WishForm) -> tuple[Say, ...]:
        """The draft as the person checks it, with 提交 / 修改 / 取消."""
        none = Say("wish.summary.none")
        place: Param = none
        if form.address and form.location:
            place = Say(
                "wish.summary.place_both", {"address": form.address, "location": Say("wish.summary.location_shared")}
            )
        elif form.address:
            place = form.address
        elif form.location:
            place = Say("wish.summary.location_shared")
        description: Param = form.description or ""
        if not form.description and form.voice:
            description = Say("wish.voice_note", {"length": lifecycle.voice_length(form.voice_seconds or 1)})
        values: dict[str, Param] = {
            "category": Say(f"category.{form.category or 'other'}"),
            "description": description,
            "area": form.area or none,
            "place": place,
            "photo": Say("wish.summary.yes") if form.photo or form.photo_media else none,
            "phone": form.phone or none,
        }
        return (Say("wish.summary_intro", clear=True), Say("wish.summary", values, choices=SUMMARY_BUTTONS))

    def go(self, form: WishForm, step: str, *, before: tuple[Say, ...] = (), edit: Say | None = None) -> Outcome:
        """On to `step` (the summary instead while one field is being changed), asking its question."""
        if form.editing or step == SUMMARY:
            form, step = replace(form, editing=False), SUMMARY
        state = self.state(step, form)
        return Outcome(says=(*before, *self.ask(state)), state=state, edit=edit)

    # -- answers ----------------------------------------------------------------------------------------------

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        """One input at the state's step."""
        form = self.form(state)
        press = given.press
        if state.step == SUMMARY:
            return await self.at_summary(env, actor, state, given)
        if press is not None and press.act in ACTS and not self.takes(state.step, press.act):
            return passed_step(state)
        if state.step == CATEGORY:
            return self.category(state, given)
        if state.step == DESCRIPTION:
            return self.description(state, given)
        if state.step == AREA:
            return self.area(state, given)
        if state.step == PLACE:
            return self.place(state, given)
        if state.step == PHOTO:
            return self.photo(state, given)
        return self.phone(state, given, form)

    @staticmethod
    def takes(step: str, act: Act) -> bool:
        if step == CATEGORY:
            return act == Act.WISH_CATEGORY
        if step == AREA:
            return act in (Act.WISH_AREA, Act.STEP_SKIP)
        return act == Act.STEP_SKIP and step in (PLACE, PHOTO, PHONE)

    @staticmethod
    def stay(state: State, key: str, /, **values: Param) -> Outcome:
        """The same step again, with why."""
        return Outcome(says=(Say(key, values),), state=state)

    @staticmethod
    def refuse(state: State, key: str = "wish.pick_button") -> Outcome:
        """A press that cannot be taken: said on the button; nothing changes."""
        return Outcome(state=state, answer=Say(key))

    def category(self, state: State, given: Input) -> Outcome:
        press = given.press
        if press is None:
            return self.stay(state, "wish.pick_button")
        if press.arg not in self.categories:
            return self.refuse(state)
        form = replace(self.form(state), category=press.arg)
        chosen = Say("wish.category_chosen", {"category": Say(f"category.{press.arg}")})
        # A spoken need offered from outside the form already has its description (the voice note).
        return self.go(form, AREA if form.voice and not form.editing else DESCRIPTION, edit=chosen)

    def description(self, state: State, given: Input) -> Outcome:
        form = self.form(state)
        if given.voice is not None:
            seconds = max(1, given.voice.seconds)
            if seconds > lifecycle.VOICE_MAX_SECONDS:
                return self.stay(state, "wish.voice_too_long", max=lifecycle.VOICE_MAX_SECONDS // 60)
            kept = Say("wish.voice_kept", {"length": lifecycle.voice_length(seconds)})
            spoken = replace(form, voice=given.voice.ref, voice_seconds=seconds, description=None)
            return self.go(spoken, AREA, before=(kept,))
        if not given.typed:
            return self.stay(state, "wish.description_not_text")
        limits = {"min": lifecycle.DESCRIPTION_MIN, "max": lifecycle.DESCRIPTION_MAX}
        try:
            description = lifecycle.check_description(given.typed)
        except InvalidInput as exc:
            return self.stay(state, f"wish.description_{exc.reason}", **limits)
        return self.go(replace(form, description=description, voice=None, voice_seconds=None), AREA)

    def area(self, state: State, given: Input) -> Outcome:
        press = given.press
        form = self.form(state)
        if given.skips() or (press is not None and press.arg == "skip"):  # "skip": an area button sent before
            unknown = Say("wish.area_chosen", {"area": Say("wish.area_unknown")})
            return self.go(replace(form, area=None), PLACE, edit=unknown)
        if press is None and given.typed in self.areas:
            return self.go(replace(form, area=given.typed), PLACE)
        if press is None:
            return self.stay(state, "wish.pick_button")
        index = int(press.arg) if press.arg is not None and press.arg.isdecimal() else len(self.areas)
        if index >= len(self.areas):
            return self.refuse(state)
        area = self.areas[index]
        return self.go(replace(form, area=area), PLACE, edit=Say("wish.area_chosen", {"area": area}))

    def place(self, state: State, given: Input) -> Outcome:
        form = self.form(state)
        if given.location is not None:
            # A typed address is kept beside a shared location (both help the volunteer); a named place is one.
            address = form.address or (given.label[: lifecycle.ADDRESS_MAX] if given.label else None)
            return self.go(replace(form, location=given.location, address=address), PHOTO)
        if given.skips():
            return self.go(replace(form, address=None, location=None), PHOTO)
        if not given.typed:
            return self.stay(state, "wish.place_not_understood")
        try:
            address = lifecycle.check_text(given.typed, lifecycle.ADDRESS_MAX)
        except InvalidInput:
            return self.stay(state, "wish.address_too_long", max=lifecycle.ADDRESS_MAX)
        return self.go(replace(form, address=address), PHOTO)

    def photo(self, state: State, given: Input) -> Outcome:
        form = self.form(state)
        if given.photo is not None or given.photo_media is not None:
            return self.go(replace(form, photo=given.photo, photo_media=given.photo_media), PHONE)
        if given.skips():
            return self.go(replace(form, photo=None, photo_media=None), PHONE)
        return self.stay(state, "wish.photo_as_document" if given.document else "wish.photo_expected")

    def phone(self, state: State, given: Input, form: WishForm) -> Outcome:
        if given.contact is not None:
            if not given.contact.own:
                return self.stay(state, "wish.contact_not_own")
            return self.go(replace(form, phone=given.contact.phone[:PHONE_MAX]), SUMMARY)
        if given.skips():
            return self.go(replace(form, phone=None), SUMMARY)
        if not PHONE_PATTERN.match(given.typed):
            return self.stay(state, "wish.phone_invalid")
        return self.go(replace(form, phone=given.typed[:PHONE_MAX]), SUMMARY)

    # -- the summary ------------------------------------------------------------------------------------------

    async def at_summary(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        press = given.press
        form = self.form(state)
        if press is None or press.act not in ACTS:
            return self.stay(state, "wish.use_summary_buttons")
        if press.act == Act.WISH_SUBMIT:
            return await self.submit(env, actor, state)
        if press.act == Act.WISH_JOIN:
            return await self.join(env, actor, state, press.id)
        if press.act == Act.WISH_EDIT:
            return Outcome(says=(Say("wish.ask_field", choices=FIELD_BUTTONS, in_place=True),), state=state)
        if press.act == Act.WISH_FIELD:
            step = FIELDS.get(press.arg or "")
            if step is None:
                return self.refuse(state, "error.stale_button")
            editing = self.state(step, replace(form, editing=True))
            return Outcome(says=self.ask(editing), state=editing, clear_buttons=True)
        if press.act == Act.WISH_DISCARD:
            return Outcome(says=(Say("wish.discarded"),), clear_buttons=True)
        return passed_step(state)

    async def submit(self, env: Env, actor: Actor, state: State) -> Outcome:
        """Offer a similar open wish to join (once), else submit and tell the person its reference."""
        form = self.form(state)
        draft = form.to_draft()
        similar = await wish_actions.similar_to(env, actor, draft)
        if similar is not None and similar.id != form.similar_offered:
            offer = Say(
                "similar.found",
                {"card": card(similar, env)},
                choices=(
                    (Button("similar.button.join", Act.WISH_JOIN, similar.id),),
                    (Button("similar.button.submit_anyway", Act.WISH_SUBMIT),),
                ),
            )
            return Outcome(says=(offer,), state=self.state(SUMMARY, replace(form, similar_offered=similar.id)))
        try:
            submitted = await wish_actions.submit(env, actor, draft)
        except LimitReached:
            return Outcome(state=state, answer=Say("wish.limit", {"limit": env.settings.wishes_per_day}))
        except InvalidInput:  # the description no longer passes: ask for it again
            return self.go(replace(form, editing=True), DESCRIPTION)
        key = "wish.submitted_review" if submitted.awaiting_review else "wish.submitted_open"
        return Outcome(says=(Say(key, {"ref": wish_ref(submitted.wish.ref_no)}),), clear_buttons=True)

    async def join(self, env: Env, actor: Actor, state: State, wish_id: int) -> Outcome:
        """Follow the similar open wish instead of submitting this draft."""
        try:
            joined = await wish_actions.join(env, actor, wish_id)
        except (Conflict, NotAllowed, NotFound):
            return self.refuse(state, "similar.gone")
        wish = joined.wish
        told = Say("similar.joined", {"ref": wish_ref(wish.ref_no), "status": Say(f"wish.status.{wish.status}")})
        return Outcome(says=(told,), clear_buttons=True)


def card(wish: Wish, env: Env) -> Say:
    """What any volunteer may see of a wish: category, the start of its description, area, how long it waited."""
    key, n = elapsed(wish.created_at, env.now())
    summary: Param = short_summary(wish.description) if wish.description else ""
    if wish.voice_seconds is not None:  # a spoken wish says so, after the words it was summed up in
        voice = Say("wish.voice_note", {"length": lifecycle.voice_length(wish.voice_seconds)})
        summary = Say("task.card_spoken", {"summary": summary, "voice": voice}) if summary else voice
    return Say(
        "task.card",
        {
            "ref": wish_ref(wish.ref_no),
            "category": Say(f"category.{wish.category}"),
            "summary": summary,
            "area": wish.area or Say("wish.area_unknown"),
            "waited": Say(key, {"n": n}),
        },
    )
