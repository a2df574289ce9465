"""Activities: `/newactivity` (a coordinator or team leader plans one in a conversation), `/activities`
(upcoming ones with one-tap Sign up / Cancel), and the organizer's list where hours are corrected and confirmed.

The creation conversation (docs/activities.mmd):
  project (buttons) → title → date and time → duration → place (text) → location (share or skip) → headcount
  → area (buttons, or any) → skills (toggle buttons, Done) → notes (text or skip) → summary with Publish / Cancel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from actions import activities as activity_actions
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from conversations import activities as activity_talk
from conversations.base import Say
from handlers import lists
from handlers.common import actor_of, expect_press, person_of, skip_labels, stale_press, swap_pressed_button, tell
from handlers.conversing import show, words
from handlers.leaving import asking
from rules import activities as rules
from rules.activities import InvalidInput, activity_ref, refusal_key
from rules.staff import RoleChangeError, parse_target
from storage.activities import Activity, NewActivity, Signup
from storage.errors import Conflict, NotAllowed, NotFound

PROJECT, TITLE, WHEN, DURATION, PLACE, LOCATION, HEADCOUNT, AREA, SKILLS, NOTES, CONFIRM = range(11)
DRAFT = "activity_draft"
T = TypeVar("T")


@dataclass
class ActivityDraft:
    """What the organizer has filled in so far (kept in user_data as JSON across steps and restarts)."""

    project_id: int = 0
    title: str = ""
    starts_at: str = ""  # ISO, aware UTC
    duration_minutes: int = 0
    place: str = ""
    location: list[float] | None = None
    headcount: int = 0
    area: str | None = None
    skills: list[str] = field(default_factory=list)
    notes: str = ""

    def to_json(self) -> str:
        """The draft as JSON."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: object) -> ActivityDraft | None:
        """The draft back, or None when there is none or it is unreadable."""
        if not isinstance(data, str):
            return None
        try:
            return cls(**json.loads(data))
        except (TypeError, ValueError):
            return None

    def to_new(self) -> NewActivity:
        """The draft as the action takes it."""
        return NewActivity(
            project_id=self.project_id,
            team_id=None,
            title=self.title,
            starts_at=dt.datetime.fromisoformat(self.starts_at),
            duration_minutes=self.duration_minutes,
            place=self.place,
            location=(self.location[0], self.location[1]) if self.location else None,
            headcount=self.headcount,
            skills=tuple(self.skills),
            notes=self.notes,
            area=self.area,
        )


def _draft(context: TongxinContext) -> ActivityDraft | None:
    return ActivityDraft.from_json((context.user_data or {}).get(DRAFT))


def _keep(context: TongxinContext, draft: ActivityDraft) -> None:
    if context.user_data is not None:
        context.user_data[DRAFT] = draft.to_json()


def _skip_keyboard(context: TongxinContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[callbacks.button(context.plain("wish.button.skip"), Act.ACTIVITY_SKIP)]])


async def start_activity(update: Update, context: TongxinContext) -> int:
    """/newactivity: offer the projects the person may organize in."""
    if (message := update.effective_message) is None:
        return ConversationHandler.END
    try:
        found = await activity_actions.organizer_projects(context.env, actor_of(context))
    except NotAllowed:
        await message.reply_text(context.t("activity.new.not_allowed"))
        return ConversationHandler.END
    if not found:
        await message.reply_text(context.t("activity.new.no_projects"))
        return ConversationHandler.END
    _keep(context, ActivityDraft())
    rows = [[callbacks.button(project.name, Act.ACTIVITY_PROJECT, project.id)] for project in found]
    rows.append([callbacks.button(context.plain("activity.button.discard"), Act.ACTIVITY_DISCARD)])
    await message.reply_text(asking(context, "activity.new.ask_project"), reply_markup=InlineKeyboardMarkup(rows))
    return PROJECT


async def project_chosen(update: Update, context: TongxinContext) -> int:
    """A project button: ask for the title."""
    if (press := await expect_press(update, context, Act.ACTIVITY_PROJECT)) is None or update.callback_query is None:
        return PROJECT
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    draft.project_id = press.id
    _keep(context, draft)
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(asking(context, "activity.new.ask_title", limit=rules.TITLE_MAX))
    return TITLE


async def _typed(
    update: Update, context: TongxinContext, state: int, apply: Any, next_key: str, next_state: int, **values: object
) -> int:
    """One text step: parse with `apply(draft, text)`, say why not, or ask the next question."""
    if (message := update.effective_message) is None or message.text is None:
        return state
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    try:
        apply(draft, message.text)
    except InvalidInput as exc:
        await message.reply_text(context.t(exc.reason))
        return state
    _keep(context, draft)
    markup = _skip_keyboard(context) if next_state == NOTES else None
    await message.reply_text(asking(context, next_key, **values), reply_markup=markup)
    return next_state


async def title_typed(update: Update, context: TongxinContext) -> int:
    """The title: ask when."""

    def apply(draft: ActivityDraft, text: str) -> None:
        draft.title = rules.check_name(text, rules.TITLE_MAX)

    return await _typed(update, context, TITLE, apply, "activity.new.ask_when", WHEN)


async def when_typed(update: Update, context: TongxinContext) -> int:
    """The date and time (local): ask how long."""
    now, tz = context.now(), context.settings.tz

    def apply(draft: ActivityDraft, text: str) -> None:
        draft.starts_at = rules.parse_start(text, now, tz).isoformat()

    return await _typed(update, context, WHEN, apply, "activity.new.ask_duration", DURATION)


async def duration_typed(update: Update, context: TongxinContext) -> int:
    """The duration in hours: ask where."""

    def apply(draft: ActivityDraft, text: str) -> None:
        draft.duration_minutes = rules.parse_duration(text)

    return await _typed(update, context, DURATION, apply, "activity.new.ask_place", PLACE, limit=rules.PLACE_MAX)


async def place_typed(update: Update, context: TongxinContext) -> int:
    """The place as an address: ask for its location (for check-in within a radius), or skip."""
    if (message := update.effective_message) is None or message.text is None:
        return PLACE
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    try:
        draft.place = rules.check_name(message.text, rules.PLACE_MAX)
    except InvalidInput as exc:
        await message.reply_text(context.t(exc.reason))
        return PLACE
    _keep(context, draft)
    keyboard = ReplyKeyboardMarkup(
        [
            [KeyboardButton(context.plain("activity.new.share_location"), request_location=True)],
            [KeyboardButton(context.plain("wish.button.skip"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await message.reply_text(
        asking(context, "activity.new.ask_location", radius=context.settings.checkin_radius_m), reply_markup=keyboard
    )
    return LOCATION


async def location_sent(update: Update, context: TongxinContext) -> int:
    """The place's location (or Skip): ask the headcount."""
    if (message := update.effective_message) is None:
        return LOCATION
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    if message.location is not None:
        draft.location = [message.location.latitude, message.location.longitude]
    elif message.text not in skip_labels(context):
        await message.reply_text(context.t("activity.new.location_or_skip"))
        return LOCATION
    _keep(context, draft)
    await message.reply_text(asking(context, "activity.new.ask_headcount"), reply_markup=ReplyKeyboardRemove())
    return HEADCOUNT


async def headcount_typed(update: Update, context: TongxinContext) -> int:
    """How many volunteers: offer the skills."""
    if (message := update.effective_message) is None or message.text is None:
        return HEADCOUNT
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    try:
        draft.headcount = rules.parse_headcount(message.text)
    except InvalidInput as exc:
        await message.reply_text(context.t(exc.reason))
        return HEADCOUNT
    _keep(context, draft)
    buttons = [
        callbacks.button(area, Act.ACTIVITY_AREA, arg=str(index)) for index, area in enumerate(context.settings.areas)
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([callbacks.button(context.plain("activity.any_area"), Act.ACTIVITY_AREA, arg="any")])
    await message.reply_text(asking(context, "activity.new.ask_area"), reply_markup=InlineKeyboardMarkup(rows))
    return AREA


async def area_chosen(update: Update, context: TongxinContext) -> int:
    """An area button (or any area): offer the skills."""
    press = await expect_press(update, context, Act.ACTIVITY_AREA)
    if press is None or (query := update.callback_query) is None:
        return AREA
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    areas = context.settings.areas
    if press.arg != "any" and (press.arg is None or int(press.arg) >= len(areas)):
        await stale_press(update, context)
        return AREA
    draft.area = None if press.arg == "any" else areas[int(press.arg)]
    _keep(context, draft)
    await query.answer()
    await query.edit_message_text(
        asking(context, "activity.new.ask_skills"), reply_markup=_skills_keyboard(context, draft)
    )
    return SKILLS


def _skills_keyboard(context: TongxinContext, draft: ActivityDraft) -> InlineKeyboardMarkup:
    rows = []
    for key in context.settings.categories:
        mark = "✅ " if key in draft.skills else ""
        rows.append([callbacks.button(mark + context.plain(f"category.{key}"), Act.ACTIVITY_SKILL, arg=key)])
    rows.append([callbacks.button(context.plain("activity.button.skills_done"), Act.ACTIVITY_SKILLS_DONE)])
    return InlineKeyboardMarkup(rows)


async def skill_toggled(update: Update, context: TongxinContext) -> int:
    """A skill button: toggle it and show the keyboard again."""
    press = await expect_press(update, context, Act.ACTIVITY_SKILL)
    if press is None or update.callback_query is None:
        return SKILLS
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    if press.arg in context.settings.categories:
        draft.skills = (
            [s for s in draft.skills if s != press.arg]
            if press.arg in draft.skills
            else [*draft.skills, str(press.arg)]
        )
    _keep(context, draft)
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(_skills_keyboard(context, draft))
    return SKILLS


async def skills_done(update: Update, context: TongxinContext) -> int:
    """Done with skills: ask for notes (or skip)."""
    if update.callback_query is None:
        return SKILLS
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            asking(context, "activity.new.ask_notes", limit=rules.NOTES_MAX), reply_markup=_skip_keyboard(context)
        )
    return NOTES


async def notes_typed(update: Update, context: TongxinContext) -> int:
    """Notes as text: show the summary."""
    if (message := update.effective_message) is None or message.text is None:
        return NOTES
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    if len(message.text) > rules.NOTES_MAX:
        await message.reply_text(context.t("activity.error.too_long"))
        return NOTES
    draft.notes = message.text.strip()
    _keep(context, draft)
    return await _summary(update, context, draft)


async def notes_skipped(update: Update, context: TongxinContext) -> int:
    """Skip notes: show the summary."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    if (draft := _draft(context)) is None:
        return await _expired(update, context)
    return await _summary(update, context, draft)


async def _summary(update: Update, context: TongxinContext, draft: ActivityDraft) -> int:
    if (message := update.effective_message) is None:
        return CONFIRM
    new = draft.to_new()
    skills = "、".join(context.plain(f"category.{key}") for key in draft.skills) or context.plain("activity.any_skill")
    text = context.t(
        "activity.new.summary",
        title=html.escape(draft.title),
        when=new.starts_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M"),
        hours=f"{draft.duration_minutes / 60:g}",
        place=html.escape(draft.place),
        area=html.escape(draft.area or context.plain("activity.any_area")),
        located=context.plain("activity.located" if draft.location else "activity.not_located"),
        headcount=draft.headcount,
        skills=html.escape(skills),
        notes=html.escape(draft.notes or "—"),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [callbacks.button(context.plain("activity.button.publish"), Act.ACTIVITY_PUBLISH)],
            [callbacks.button(context.plain("activity.button.discard"), Act.ACTIVITY_DISCARD)],
        ]
    )
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    return CONFIRM


async def publish_pressed(update: Update, context: TongxinContext) -> int:
    """Publish: create the activity and invite matching volunteers."""
    if (query := update.callback_query) is None:
        return CONFIRM
    draft = ActivityDraft.from_json((context.user_data or {}).pop(DRAFT, None))
    if draft is None or not draft.project_id:
        return await _expired(update, context)
    try:
        activity, invited = await activity_actions.create(context.env, actor_of(context), draft.to_new())
    except (NotAllowed, NotFound) as exc:
        await tell(update, context, refusal_key(exc))
        return ConversationHandler.END
    except InvalidInput as exc:
        await query.answer(context.plain(exc.reason), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    await query.edit_message_reply_markup(None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            context.t("activity.new.published", ref=activity_ref(activity.ref_no), invited=invited)
        )
    return ConversationHandler.END


async def discard(update: Update, context: TongxinContext) -> int:
    """Cancel (button or /cancel): nothing is created."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(context.t("cancel.done"))
    elif update.effective_message is not None:
        await update.effective_message.reply_text(context.t("cancel.done"), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


async def use_the_buttons(update: Update, context: TongxinContext) -> None:
    """Something typed or sent where a button (or another kind of answer) is expected: say so."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(context.t("activity.new.use_buttons"))


async def _expired(update: Update, context: TongxinContext) -> int:
    await tell(update, context, "activity.new.expired")
    return ConversationHandler.END


# -- /activities and sign-up ---------------------------------------------------------------------------------------


async def list_activities(update: Update, context: TongxinContext) -> None:
    """/activities: a page of the upcoming activities (`conversations.activities.listing`), a Sign up or Cancel
    button for each, the organizer's roster buttons, ◀ / ▶."""
    if (message := update.effective_message) is None or context.person is None:
        return
    shown = await activity_talk.listing(context.env, actor_of(context), rosters=True)
    if isinstance(shown, Say):
        await message.reply_text(words(context, shown), parse_mode=ParseMode.HTML)
        return
    text, markup = lists.page_view(context, shown)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def page_pressed(update: Update, context: TongxinContext) -> None:
    """◀ / ▶ under /activities: the page redrawn in place."""
    if (press := await expect_press(update, context, Act.ACTIVITY_PAGE)) is None or update.callback_query is None:
        return
    query = update.callback_query
    await query.answer()
    shown = await activity_talk.listing(context.env, actor_of(context), press.id, rosters=True)
    if isinstance(shown, Say):
        await query.edit_message_text(words(context, shown), parse_mode=ParseMode.HTML)
        return
    text, markup = lists.page_view(context, shown)
    with contextlib.suppress(TelegramError):  # pressed twice: the page is shown already
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def sign_up_pressed(update: Update, context: TongxinContext) -> None:
    """Sign up (from /activities or an invitation): a place or the waitlist (`conversations.activities.sign_up`)."""
    if (press := await expect_press(update, context, Act.ACTIVITY_SIGN_UP)) is None:
        return
    outcome = await activity_talk.sign_up(context.env, actor_of(context), press.id)
    if outcome.says and update.callback_query is not None:
        # The card no longer offers 报名 for what she signed up to: its button becomes the cancel one.
        cancel = outcome.says[0].choices[0][0]
        ref = str(outcome.says[0].labels.get("ref", ""))
        await swap_pressed_button(
            update, callbacks.button(context.plain(cancel.label, ref=ref), cancel.act, cancel.subject)
        )
    await show(update, context, outcome)


async def cancel_pressed(update: Update, context: TongxinContext) -> None:
    """Cancel a sign-up: the next one waiting moves up (and is told by the action)."""
    if (press := await expect_press(update, context, Act.ACTIVITY_CANCEL)) is None:
        return
    await show(update, context, await activity_talk.cancel(context.env, actor_of(context), press.id))


# -- the organizer cancels or moves an activity ------------------------------------------------------------------

TIME_WORDS = frozenset({"时间", "time"})
PLACE_WORDS = frozenset({"地点", "place"})


async def call_off_command(update: Update, context: TongxinContext) -> None:
    """/cancelactivity A-0001 REASON: the organizer (or a coordinator) cancels; everyone on it is told."""
    if (message := update.effective_message) is None or context.person is None:
        return
    args = context.args or []
    ref_no = rules.parse_activity_ref(args[0]) if args else None
    if ref_no is None or len(args) < 2:
        await message.reply_text(context.t("activity.off.usage"))
        return
    ref = activity_ref(ref_no)
    try:
        activity = await activity_actions.find_by_ref(context.env, ref_no)
        changed = await activity_actions.call_off(context.env, actor_of(context), activity.id, " ".join(args[1:]))
    except (NotFound, NotAllowed) as exc:
        await tell(update, context, refusal_key(exc))
        return
    except InvalidInput as exc:
        await tell(update, context, exc.reason)
        return
    except Conflict:
        await tell(update, context, "activity.off.refused", ref=ref)
        return
    await message.reply_text(context.t("activity.off.done", ref=ref, told=changed.told))


async def activity_command(
    update: Update,
    context: TongxinContext,
    usage: str,
    work: Callable[[int, list[str]], Awaitable[T]],
    on_conflict: Callable[[Conflict], str],
) -> T | None:
    """Run `/command A-0001 …`: the activity's number parsed (else `usage` is said), `work(ref_no, the rest)` run, and
    what it refused said: a wrong value, a right missing, a state (`on_conflict` names the message, which may use
    `ref`). None if refused."""
    if (message := update.effective_message) is None or context.person is None:
        return None
    args = context.args or []
    ref_no = rules.parse_activity_ref(args[0]) if args else None
    if ref_no is None:
        await message.reply_text(context.t(usage))
        return None
    try:
        return await work(ref_no, args[1:])
    except (InvalidInput, RoleChangeError) as exc:
        await tell(update, context, exc.reason)
    except (NotFound, NotAllowed) as exc:
        await tell(update, context, refusal_key(exc))
    except Conflict as exc:
        await tell(update, context, on_conflict(exc), ref=activity_ref(ref_no))
    return None


def roster_conflict(exc: Conflict) -> str:
    """Why hours cannot change now: the activity has not started, or they are confirmed."""
    return "roster.upcoming" if exc.current == "upcoming" else "roster.already_confirmed"


async def extend_command(update: Update, context: TongxinContext) -> None:
    """/extend A-0001 1.5 REASON: a coordinator lets hours count that long past the planned end."""

    async def extend(ref_no: int, words: list[str]) -> tuple[Activity, int]:
        minutes, reason = rules.parse_extension(words)
        activity = await activity_actions.find_by_ref(context.env, ref_no)
        return await activity_actions.extend(context.env, actor_of(context), activity.id, minutes, reason), minutes

    done = await activity_command(update, context, "activity.extend_usage", extend, lambda _: "activity.off.refused")
    if done is not None and (message := update.effective_message) is not None:
        extended, minutes = done
        until = extended.counts_until.astimezone(context.settings.tz).strftime("%m-%d %H:%M")
        ref = activity_ref(extended.ref_no)
        await message.reply_text(context.t("activity.extended", ref=ref, hours=f"{minutes / 60:g}", until=until))


async def add_hours_command(update: Update, context: TongxinContext) -> None:
    """/addhours A-0001 WHO 2 REASON: hours entered after the fact for someone with no check-in record (补录)."""

    async def record(ref_no: int, words: list[str]) -> activity_actions.Roster:
        who, hours, reason = rules.parse_recorded_hours(words)
        person_id = await person_of(context, parse_target(who))
        activity = await activity_actions.find_by_ref(context.env, ref_no)
        return await activity_actions.record_hours(
            context.env, actor_of(context), activity.id, person_id, hours, reason
        )

    found = await activity_command(update, context, "activity.addhours_usage", record, roster_conflict)
    if found is not None and (message := update.effective_message) is not None:
        await message.reply_text(
            roster_text(context, found.activity, found.people),
            parse_mode=ParseMode.HTML,
            reply_markup=roster_keyboard(context, found.activity, found.people),
        )


async def move_command(update: Update, context: TongxinContext) -> None:
    """/editactivity A-0001 时间 12-05 09:30 | 地点 TEXT: change the time or place before it starts."""
    if (message := update.effective_message) is None or context.person is None:
        return
    args = context.args or []
    ref_no = rules.parse_activity_ref(args[0]) if args else None
    field_word = args[1].lower() if len(args) > 1 else ""
    if ref_no is None or len(args) < 3 or field_word not in TIME_WORDS | PLACE_WORDS:
        await message.reply_text(context.t("activity.move.usage"))
        return
    ref = activity_ref(ref_no)
    value = " ".join(args[2:])
    try:
        activity = await activity_actions.find_by_ref(context.env, ref_no)
        if field_word in TIME_WORDS:
            starts = rules.parse_start(value, context.now(), context.settings.tz)
            changed = await activity_actions.move(context.env, actor_of(context), activity.id, starts_at=starts)
        else:
            changed = await activity_actions.move(context.env, actor_of(context), activity.id, place=value)
    except (NotFound, NotAllowed) as exc:
        await tell(update, context, refusal_key(exc))
        return
    except InvalidInput as exc:
        await tell(update, context, exc.reason)
        return
    except Conflict:
        await tell(update, context, "activity.move.refused", ref=ref)
        return
    moved = changed.activity
    await message.reply_text(
        context.t(
            "activity.move.done",
            ref=ref,
            when=moved.starts_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M"),
            place=moved.place,
            told=changed.told,
        )
    )


# -- the organizer's list: correct and confirm hours ------------------------------------------------------------------


def roster_text(context: TongxinContext, activity: Activity, people: list[Signup]) -> str:
    """The organizer's screen: who signed up, checked in/out, their hours, no-shows, the waitlist."""
    lines = [
        context.t(
            "roster.title",
            ref=activity_ref(activity.ref_no),
            title=html.escape(activity.title),
            taken=sum(1 for s in people if s.status == "signed_up"),
            headcount=activity.headcount,
        )
    ]
    tz = context.settings.tz
    for number, signup in enumerate(people, 1):
        if signup.status == "waitlisted":
            state = context.plain("roster.waitlisted")
        elif signup.no_show:
            state = context.plain("roster.no_show")
        elif signup.checked_in_at is None:
            state = context.plain("roster.not_in")
        else:
            out = signup.checked_out_at.astimezone(tz).strftime("%H:%M") if signup.checked_out_at else "—"
            state = context.plain("roster.times", came=signup.checked_in_at.astimezone(tz).strftime("%H:%M"), left=out)
        hours = f"{signup.hours:g}" if signup.hours is not None else "—"
        lines.append(context.t("roster.line", n=number, name=html.escape(signup.name), state=state, hours=hours))
    waiting = [s for s in people if s.status == "signed_up" and s.confirmed_at is None]
    if activity.status == "held" and not waiting:
        lines.append(context.t("roster.confirmed"))
    elif activity.status == "held":
        names = "、".join(html.escape(s.name) for s in waiting)
        lines.append(context.t("roster.confirmed_but", names=names))
    return "\n".join(lines)


def roster_keyboard(context: TongxinContext, activity: Activity, people: list[Signup]) -> InlineKeyboardMarkup | None:
    """Per person −½ h / +½ h / no-show, and Confirm all, for the places not confirmed yet; never on the viewer's
    own place (another organizer or a coordinator corrects and confirms those)."""
    if activity.status not in ("published", "held"):
        return None
    viewer = actor_of(context).user_id
    open_places = [s for s in people if s.status == "signed_up" and s.confirmed_at is None and s.user_id != viewer]
    if not open_places:
        return None
    rows = []
    for number, signup in enumerate(people, 1):
        if signup not in open_places:
            continue
        rows.append(
            [
                callbacks.button(f"{number}. −½", Act.ROSTER_LESS, signup.id),
                callbacks.button(f"{number}. +½", Act.ROSTER_MORE, signup.id),
                callbacks.button(context.plain("roster.button.no_show", n=number), Act.ROSTER_NO_SHOW, signup.id),
            ]
        )
    rows.append([callbacks.button(context.plain("roster.button.confirm"), Act.ROSTER_CONFIRM, activity.id)])
    return InlineKeyboardMarkup(rows)


async def roster_pressed(update: Update, context: TongxinContext) -> None:
    """The organizer's list (a button on /activities or the check-in screen)."""
    if (press := await expect_press(update, context, Act.ACTIVITY_ROSTER)) is None:
        return
    try:
        found = await activity_actions.roster(context.env, actor_of(context), press.id)
    except (NotAllowed, NotFound) as exc:
        await tell(update, context, refusal_key(exc))
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            roster_text(context, found.activity, found.people),
            parse_mode=ParseMode.HTML,
            reply_markup=roster_keyboard(context, found.activity, found.people),
        )


async def roster_changed(update: Update, context: TongxinContext) -> None:
    """−½ / +½ / no-show / Confirm on the organizer's list: change it and show it again in place."""
    press = await expect_press(
        update, context, Act.ROSTER_LESS, Act.ROSTER_MORE, Act.ROSTER_NO_SHOW, Act.ROSTER_CONFIRM
    )
    if press is None or (query := update.callback_query) is None:
        return
    actor = actor_of(context)
    try:
        if press.act is Act.ROSTER_CONFIRM:
            found = await activity_actions.confirm(context.env, actor, press.id)
        elif press.act is Act.ROSTER_NO_SHOW:
            found = await activity_actions.toggle_no_show(context.env, actor, press.id)
        else:
            step = "up" if press.act is Act.ROSTER_MORE else "down"
            found = await activity_actions.adjust(context.env, actor, press.id, step)
    except (NotAllowed, NotFound) as exc:
        await tell(update, context, refusal_key(exc))
        return
    except InvalidInput as exc:
        await tell(update, context, exc.reason)
        return
    except Conflict as exc:
        await tell(update, context, "roster.upcoming" if exc.current == "upcoming" else "roster.already_confirmed")
        return
    await query.answer()
    await query.edit_message_text(
        roster_text(context, found.activity, found.people),
        parse_mode=ParseMode.HTML,
        reply_markup=roster_keyboard(context, found.activity, found.people),
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """The /newactivity conversation."""
    text = filters.TEXT & ~filters.COMMAND
    return [
        ConversationHandler(
            entry_points=[CommandHandler("newactivity", start_activity)],
            states={
                PROJECT: [CallbackQueryHandler(project_chosen, pattern=callbacks.pattern(Act.ACTIVITY_PROJECT))],
                TITLE: [MessageHandler(text, title_typed)],
                WHEN: [MessageHandler(text, when_typed)],
                DURATION: [MessageHandler(text, duration_typed)],
                PLACE: [MessageHandler(text, place_typed)],
                LOCATION: [MessageHandler(filters.LOCATION | text, location_sent)],
                HEADCOUNT: [MessageHandler(text, headcount_typed)],
                AREA: [CallbackQueryHandler(area_chosen, pattern=callbacks.pattern(Act.ACTIVITY_AREA))],
                SKILLS: [
                    CallbackQueryHandler(skill_toggled, pattern=callbacks.pattern(Act.ACTIVITY_SKILL)),
                    CallbackQueryHandler(skills_done, pattern=callbacks.pattern(Act.ACTIVITY_SKILLS_DONE)),
                ],
                NOTES: [
                    MessageHandler(text, notes_typed),
                    CallbackQueryHandler(notes_skipped, pattern=callbacks.pattern(Act.ACTIVITY_SKIP)),
                ],
                CONFIRM: [CallbackQueryHandler(publish_pressed, pattern=callbacks.pattern(Act.ACTIVITY_PUBLISH))],
            },
            fallbacks=[
                CallbackQueryHandler(discard, pattern=callbacks.pattern(Act.ACTIVITY_DISCARD)),
                CommandHandler("cancel", discard),
                MessageHandler(filters.ALL & ~filters.COMMAND, use_the_buttons),
            ],
            allow_reentry=True,
            persistent=True,
            name="newactivity",
        )
    ]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/activities, sign-up buttons, the organizer's list."""
    return [
        CommandHandler("activities", list_activities),
        CommandHandler("cancelactivity", call_off_command),
        CommandHandler("editactivity", move_command),
        CommandHandler("extend", extend_command),
        CommandHandler("addhours", add_hours_command),
        CallbackQueryHandler(sign_up_pressed, pattern=callbacks.pattern(Act.ACTIVITY_SIGN_UP)),
        CallbackQueryHandler(cancel_pressed, pattern=callbacks.pattern(Act.ACTIVITY_CANCEL)),
        CallbackQueryHandler(page_pressed, pattern=callbacks.pattern(Act.ACTIVITY_PAGE)),
        CallbackQueryHandler(roster_pressed, pattern=callbacks.pattern(Act.ACTIVITY_ROSTER)),
        CallbackQueryHandler(
            roster_changed,
            pattern=callbacks.pattern(Act.ROSTER_LESS, Act.ROSTER_MORE, Act.ROSTER_NO_SHOW, Act.ROSTER_CONFIRM),
        ),
        CallbackQueryHandler(
            stale_press,
            pattern=callbacks.prefix_pattern(
                Act.ACTIVITY_PROJECT,
                Act.ACTIVITY_AREA,
                Act.ACTIVITY_SKILL,
                Act.ACTIVITY_SKILLS_DONE,
                Act.ACTIVITY_SKIP,
                Act.ACTIVITY_PUBLISH,
                Act.ACTIVITY_DISCARD,
                Act.ACTIVITY_SIGN_UP,
                Act.ACTIVITY_CANCEL,
                Act.ACTIVITY_PAGE,
                Act.ACTIVITY_ROSTER,
                Act.ROSTER_LESS,
                Act.ROSTER_MORE,
                Act.ROSTER_NO_SHOW,
                Act.ROSTER_CONFIRM,
            ),
        ),
    ]
