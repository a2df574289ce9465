"""Volunteer registration, written once: name (the one the channel knows, or typed) → phone (shared, typed or
skipped) → skills (several, toggled, then 选好了) → area → location (shared or skipped) →
`actions.applications.register_volunteer`, which saves, applies and tells coordinators (diagram:
docs/volunteer.mmd). A team invite (`/start vinv_<code>` on Telegram, its QR code on WeChat) is checked first and
approves at once when it still works.

Telegram renders it in `handlers/volunteers.py`; a channel starts it with `Registration.start(env, actor, ...)`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from actions import applications as application_actions
from actions import invites as invite_actions
from actions.buttons import Act, Button
from actions.env import Env
from conversations.base import Expect, Input, Outcome, Say, State, Steps, passed_step
from rules import wishes as lifecycle
from rules.wishes import Actor, InvalidInput
from storage.errors import LimitReached, NotFound

NAME = "volunteer"
ASK_NAME, PHONE, SKILLS, AREA, LOCATION = STEPS = ("name", "phone", "skills", "area", "location")
NAME_MAX = 64
PHONE_MAX = 32
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
# The buttons each step takes.
TAKES = {
    ASK_NAME: (Act.VOLUNTEER_NAME,),
    SKILLS: (Act.VOLUNTEER_SKILL, Act.VOLUNTEER_SKILLS_DONE),
    AREA: (Act.VOLUNTEER_AREA,),
}
ACTS = frozenset(act for acts in TAKES.values() for act in acts)


@dataclass(frozen=True)
class RegistrationDraft:
    """What the person entered so far (kept by the channel as JSON)."""

    invite: str | None = None
    suggested: str | None = None  # the name the channel knows, offered as a button
    name: str | None = None
    phone: str | None = None
    skills: tuple[str, ...] = field(default_factory=tuple)
    area: str | None = None
    location: tuple[float, float] | None = None
    fallback: str | None = None  # the name used when none was given

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["skills"] = list(self.skills)
        data["location"] = list(self.location) if self.location else None
        return data

    @classmethod
    def from_json(cls, data: object) -> RegistrationDraft:
        """The draft back (also the plain dict kept before it); unknown or malformed fields are dropped."""
        if not isinstance(data, dict):
            return cls()

        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        skills, location = data.get("skills"), data.get("location")
        try:
            place = (float(location[0]), float(location[1])) if location else None
        except (TypeError, ValueError, IndexError):
            place = None
        return cls(
            invite=text("invite"),
            suggested=text("suggested"),
            name=text("name"),
            phone=text("phone"),
            skills=tuple(s for s in skills if isinstance(s, str)) if isinstance(skills, list | tuple) else (),
            area=text("area"),
            location=place,
            fallback=text("fallback"),
        )

    def form(self) -> application_actions.VolunteerForm:
        """The finished registration as the action takes it."""
        return application_actions.VolunteerForm(
            name=self.name or self.suggested or self.fallback or "",
            phone=self.phone,
            skills=self.skills,
            area=self.area,
            location=self.location,
        )


def _rows(buttons: list[Button], width: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


class Registration(Steps[RegistrationDraft]):
    """Volunteer registration (`conversations.base.Conversation`); `categories` and `areas` are the district's."""

    name = NAME
    acts = ACTS
    left = "cancel.done"
    retire = False  # each press edits its own message (the name button, the skills, the area)
    steps: tuple[str, ...] = STEPS
    draft = RegistrationDraft

    def __init__(self, categories: tuple[str, ...] | list[str], areas: tuple[str, ...] | list[str]) -> None:
        self.categories = tuple(categories)
        self.areas = tuple(areas)

    async def start(
        self, env: Env, actor: Actor, *, invite: str | None = None, suggested: str | None = None, fallback: str = ""
    ) -> Outcome:
        """Start (or redo) the profile. `invite`: a team invite's code, checked first; `suggested`: the name the
        channel knows (offered as a button); `fallback`: the name used if none is given."""
        told: tuple[Say, ...] = ()
        if invite is not None:
            try:
                needs_review = (await invite_actions.check_invite(env, invite, "volunteer")).needs_review
            except (NotFound, LimitReached):
                told, invite = (Say("invite.invalid"),), None
            else:
                told = (Say("volunteer.invited_review" if needs_review else "volunteer.invited"),)
        suggested = suggested[:NAME_MAX] if suggested else None
        draft = RegistrationDraft(invite=invite or None, suggested=suggested, fallback=fallback[:NAME_MAX])
        state = self.state(ASK_NAME, draft)
        return Outcome(says=(*told, *self.ask(state)), state=state)

    # -- asking -----------------------------------------------------------------------------------------------

    def ask(self, state: State) -> tuple[Say, ...]:
        draft = self.form(state)
        if state.step == ASK_NAME:
            use = ((Button("volunteer.button.use_name", Act.VOLUNTEER_NAME),),) if draft.suggested else ()
            labels = {"name": draft.suggested} if draft.suggested else {}
            asked = Say("volunteer.ask_name", {"max": NAME_MAX}, choices=use, labels=labels, expect=Expect.TEXT)
            return (replace(asked, hint=True),)
        if state.step == PHONE:
            return (Say("volunteer.ask_phone", expect=Expect.CONTACT, skip=True, hint=True),)
        if state.step == SKILLS:
            return (self.skills(draft),)
        if state.step == AREA:
            buttons = [Button(f"={area}", Act.VOLUNTEER_AREA, arg=str(i)) for i, area in enumerate(self.areas)]
            return (Say("volunteer.ask_area", choices=_rows(buttons, 3), expect=Expect.CHOICE, hint=True),)
        return (Say("volunteer.ask_location", expect=Expect.LOCATION, skip=True, hint=True),)

    def skills(self, draft: RegistrationDraft, *, in_place: bool = False) -> Say:
        """Every category as a toggle (✅ when chosen), and 选好了."""
        buttons = [Button(f"category.{key}", Act.VOLUNTEER_SKILL, arg=key) for key in self.categories]
        rows = (*_rows(buttons, 2), (Button("volunteer.button.skills_done", Act.VOLUNTEER_SKILLS_DONE),))
        chosen = tuple(b for b in buttons if b.arg in draft.skills)
        return Say("volunteer.ask_skills", choices=rows, chosen=chosen, hint=True, in_place=in_place)

    # -- answers ----------------------------------------------------------------------------------------------

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        draft = self.form(state)
        press = given.press
        if press is not None and press.act not in TAKES.get(state.step, ()):
            return passed_step(state)  # a button of a step already passed (a double tap, an older message)
        if state.step == ASK_NAME:
            return self.named(state, draft, given)
        if state.step == PHONE:
            return self.phoned(state, draft, given)
        if state.step == SKILLS:
            return self.skilled(state, draft, given)
        if state.step == AREA:
            return self.placed(state, draft, given)
        if given.location is not None:
            return await self.finish(env, actor, replace(draft, location=given.location))
        if given.skips():
            return await self.finish(env, actor, replace(draft, location=None))
        return Outcome(says=(Say("volunteer.location_expected"),), state=state)

    def go(
        self, draft: RegistrationDraft, step: str, *, edit: Say | None = None, before: tuple[Say, ...] = ()
    ) -> Outcome:
        state = self.state(step, draft)
        return Outcome(says=(*before, *self.ask(state)), state=state, edit=edit, clear_buttons=edit is None)

    def named(self, state: State, draft: RegistrationDraft, given: Input) -> Outcome:
        if given.press is not None:
            return self.go(replace(draft, name=draft.suggested or draft.fallback), PHONE)
        try:
            name = lifecycle.check_text(given.typed, NAME_MAX)
        except InvalidInput:
            return Outcome(says=(Say("volunteer.name_invalid", {"max": NAME_MAX}),), state=state)
        return self.go(replace(draft, name=name), PHONE)

    def phoned(self, state: State, draft: RegistrationDraft, given: Input) -> Outcome:
        noted = (Say("volunteer.phone_noted", clear=True),)
        if given.contact is not None:
            if not given.contact.own:
                return Outcome(says=(Say("wish.contact_not_own"),), state=state)
            return self.go(replace(draft, phone=given.contact.phone[:PHONE_MAX]), SKILLS, before=noted)
        if given.skips():
            return self.go(replace(draft, phone=None), SKILLS, before=noted)
        if not PHONE_PATTERN.match(given.typed):
            return Outcome(says=(Say("wish.phone_invalid"),), state=state)
        return self.go(replace(draft, phone=given.typed), SKILLS, before=noted)

    def skilled(self, state: State, draft: RegistrationDraft, given: Input) -> Outcome:
        press = given.press
        if press is None:
            return Outcome(says=(Say("wish.pick_button"),), state=state)
        if press.act == Act.VOLUNTEER_SKILL:
            if press.arg not in self.categories:
                return Outcome(state=state, answer=Say("error.stale_button"))
            toggled = replace(draft, skills=tuple(sorted(set(draft.skills) ^ {press.arg})))
            return Outcome(says=(self.skills(toggled, in_place=True),), state=self.state(SKILLS, toggled))
        if not draft.skills:
            return Outcome(state=state, answer=Say("volunteer.skills_needed"))
        names = tuple(Say(f"category.{key}") for key in draft.skills)
        return self.go(draft, AREA, edit=Say("volunteer.skills_chosen", {"skills": names}))

    def placed(self, state: State, draft: RegistrationDraft, given: Input) -> Outcome:
        press = given.press
        if press is None and given.typed in self.areas:
            return self.go(replace(draft, area=given.typed), LOCATION)
        if press is None:
            return Outcome(says=(Say("wish.pick_button"),), state=state)
        index = int(press.arg) if press.arg is not None and press.arg.isdecimal() else len(self.areas)
        if index >= len(self.areas):
            return Outcome(state=state, answer=Say("error.stale_button"))
        area = self.areas[index]
        return self.go(replace(draft, area=area), LOCATION, edit=Say("volunteer.area_chosen", {"area": area}))

    async def finish(self, env: Env, actor: Actor, draft: RegistrationDraft) -> Outcome:
        """Register (the action saves, applies and tells coordinators) and say where the application stands."""
        assert actor.user_id is not None
        registered = await application_actions.register_volunteer(
            env, actor.user_id, draft.form(), invite_code=draft.invite
        )
        if registered.newly_approved:
            key = "volunteer.approved_now"
        else:
            statuses = {"approved": "volunteer.profile_updated", "pending": "volunteer.application_sent"}
            key = statuses.get(registered.status, "volunteer.suspended")
        return Outcome(says=(Say(key, clear=True),), roles_changed=registered.newly_approved)
