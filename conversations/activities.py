"""Activities for volunteers, written once: the upcoming activities as pages (`conversations.pages.Page`, a
报名 or 取消报名 button per activity), signing up (a place, or the waitlist when full), cancelling (the first one
waiting moves up and is told by notice: `actions.activities.cancel`), and checking in on the spot.

Check-in: the organizer shows a short-lived code (`actions.activities.show_code`): Telegram as a QR image of the
`/start ck_<code>` link or the typed `/checkin <code>`, WeChat as a parametric QR code whose scene is `ck_<code>`
(`channels.wechat.server.WeChatChannel.checkin_qr`). Using the code asks for the person's location when the
activity has one (`CheckIn`), then `actions.activities.use_code` applies the same rules on every channel: the code
alive, the person signed up, within `checkin_radius_m` of the place; first use checks in, the second checks out.

Telegram renders these in `handlers/activities.py` and `handlers/checkin.py`, WeChat in
`channels/wechat/activities.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from actions import activities as activity_actions
from actions.activities import TooFar
from actions.buttons import Act, Button
from actions.env import Env
from conversations.base import Expect, Input, Outcome, Param, Say, State, Steps, passed_step
from conversations.pages import PAGE_SIZE, Item, Page, clamp
from rules import activities as rules
from rules.activities import InvalidInput, activity_ref, refusal_key
from rules.wishes import Actor
from storage.activities import Activity
from storage.errors import Conflict, NotAllowed, NotFound

CHECKIN = "checkin"
LOCATION = "location"
CODE = re.compile(r"\d{4,8}")
# What a WeChat parametric QR code of a check-in code carries (`ck_<code>`, as Telegram's deep link).
CHECKIN_SCENE = "ck_"
SIGNED = ("signed_up", "waitlisted")


def card(activity: Activity, taken: int, mine: str | None, tz: Any) -> Say:
    """One activity as a line of the list: number, title, time, place, places taken, the person's status."""
    values: dict[str, Param] = {
        "ref": activity_ref(activity.ref_no),
        "title": activity.title,
        "when": activity.starts_at.astimezone(tz).strftime("%m-%d %H:%M"),
        "hours": f"{activity.duration_minutes / 60:g}",
        "place": activity.place,
        "taken": taken,
        "headcount": activity.headcount,
    }
    if mine in SIGNED:
        return Say(
            "activity.list.line_mine", {"line": Say("activity.list.line", values), "mine": Say(f"activity.mine.{mine}")}
        )
    return Say("activity.list.line", values)


def sign_up_button(activity: Activity) -> Button:
    return Button("activity.button.sign_up_ref", Act.ACTIVITY_SIGN_UP, activity.id)


def cancel_button(activity: Activity) -> Button:
    return Button("activity.button.cancel", Act.ACTIVITY_CANCEL, activity.id)


async def listing(env: Env, actor: Actor, page: int = 0, *, rosters: bool = False) -> Page | Say:
    """One page of the upcoming activities, or the word that there are none. `rosters`: the organizer's (or a
    coordinator's) 名单与时长 button under the page for each activity they may confirm (a channel that has the
    roster screen)."""
    found = await activity_actions.upcoming(env, actor)
    if not found:
        return Say("activity.list.none")
    page, pages = clamp(page, len(found))
    shown = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    tz = env.settings.tz
    items = []
    extra: list[tuple[Item, ...]] = []
    for listed in shown:
        activity = listed.activity
        ref = activity_ref(activity.ref_no)
        button = cancel_button(activity) if listed.mine in SIGNED else sign_up_button(activity)
        items.append(Item(card(activity, listed.taken, listed.mine, tz), button, {"ref": ref}))
        if rosters and (activity.organizer_id == actor.user_id or rules.is_coordinator(actor.roles)):
            roster = Button("activity.button.roster", Act.ACTIVITY_ROSTER, activity.id)
            extra.append((Item(None, roster, {"ref": ref}),))
    title = Say("activity.list.title")
    return Page(title, tuple(items), page, pages, Act.ACTIVITY_PAGE, extra=tuple(extra), cards=True)


async def sign_up(env: Env, actor: Actor, activity_id: int) -> Outcome:
    """报名 (from the list or an invitation): a place or the waitlist, said with the activity as it is now (the
    invitation pressed may predate a change) and a button to cancel."""
    try:
        listed = await activity_actions.sign_up(env, actor, activity_id)
    except NotAllowed:
        return Outcome(answer=Say("activity.volunteers_only"))
    except NotFound as exc:
        return Outcome(answer=Say(refusal_key(exc)))
    except Conflict:
        return Outcome(answer=Say("activity.closed"))
    activity = listed.activity
    key = "activity.signed_up" if listed.mine == "signed_up" else "activity.waitlisted"
    values: dict[str, Param] = {
        "ref": activity_ref(activity.ref_no),
        "title": activity.title,
        "taken": listed.taken,
        "headcount": activity.headcount,
        "when": activity.starts_at.astimezone(env.settings.tz).strftime("%Y-%m-%d %H:%M"),
        "place": activity.place,
    }
    cancel = cancel_button(activity)
    return Outcome(says=(Say(key, values, choices=((cancel,),), labels={"ref": activity_ref(activity.ref_no)}),))


async def cancel(env: Env, actor: Actor, activity_id: int) -> Outcome:
    """取消报名: the place (or the waitlist) given up; the first one waiting moves up and is told."""
    try:
        activity = await activity_actions.cancel(env, actor, activity_id)
    except NotFound as exc:
        return Outcome(answer=Say(refusal_key(exc)))
    except Conflict:
        return Outcome(answer=Say("activity.not_signed_up"))
    return Outcome(says=(Say("activity.cancelled", {"ref": activity_ref(activity.ref_no)}),))


# -- check-in ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeForm:
    """The check-in code being used while the person's location is asked."""

    code: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code}

    @classmethod
    def from_json(cls, data: object) -> CodeForm:
        """The form back (a bare code, as Telegram kept it before the layer, is read too)."""
        code = data.get("code") if isinstance(data, dict) else data
        return cls(code=code if isinstance(code, str) and CODE.fullmatch(code) else "")


async def use(env: Env, actor: Actor, code: str, here: tuple[float, float] | None) -> Outcome:
    """Use a check-in code (with where the person is): checked in, out, or why not."""
    try:
        used = await activity_actions.use_code(env, actor, code, here)
    except TooFar as exc:
        return Outcome(says=(Say("checkin.error.too_far", {"metres": exc.metres, "radius": exc.radius}, clear=True),))
    except InvalidInput as exc:
        return Outcome(says=(Say(exc.reason, clear=True),))
    values: dict[str, Param] = {
        "ref": activity_ref(used.activity.ref_no),
        "title": used.activity.title,
        "time": env.now().astimezone(env.settings.tz).strftime("%H:%M"),
    }
    if used.hours is not None:
        values["hours"] = f"{used.hours:g}"
    return Outcome(says=(Say(f"checkin.{used.outcome}", values, clear=True),))


class CheckIn(Steps[CodeForm]):
    """Using a check-in code (`conversations.base.Conversation`): its one step asks for the location when the
    activity has one."""

    name = CHECKIN
    acts: frozenset[Act] = frozenset()
    left = "cancel.done"
    retire = False
    steps: tuple[str, ...] = (LOCATION,)
    draft = CodeForm

    async def start(self, env: Env, actor: Actor, code: str) -> Outcome:
        """A code scanned or typed: used at once, or the location asked first."""
        code = code.strip()
        if not CODE.fullmatch(code):
            return Outcome(says=(Say("checkin.error.unknown"),))
        if await activity_actions.needs_location(env, code):
            state = self.state(LOCATION, CodeForm(code))
            return Outcome(says=self.ask(state), state=state)
        return await use(env, actor, code, None)

    def ask(self, state: State) -> tuple[Say, ...]:
        return (Say("checkin.ask_location", expect=Expect.LOCATION, hint=True, share="checkin.share_location"),)

    async def handle(self, env: Env, actor: Actor, state: State, given: Input) -> Outcome:
        if given.press is not None:
            return passed_step(state)
        if given.location is None and given.skips():
            return Outcome(says=(Say(self.left, clear=True),))  # the keyboard's 跳过: no check-in now
        if given.location is None:
            return Outcome(says=self.ask(state), state=state)
        sent_at = given.sent_at or env.now()  # a channel that does not say when: taken as sent now
        if not rules.location_is_live(forwarded=given.relayed, venue=False, sent_at=sent_at, now=env.now()):
            return Outcome(says=(Say("checkin.location_not_live"),), state=state)
        form = self.form(state)
        if not form.code:
            return Outcome(says=(Say("checkin.error.unknown", clear=True),))
        return await use(env, actor, form.code, given.location)
