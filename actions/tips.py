"""The newsroom: tips (leads people send), story leads from confirmed wishes, and the reporter role.

Every action runs in one transaction and writes its change, its event, the audit entry (when staff act)
and every notice that follows, each notice with the condition it is true under (`actions.notices`).
Editors are everyone holding the editor role plus the admins from the settings who have met the bot;
a notice to an editor is also conditioned on the recipient still being an editor when it goes out.

Effects, per action:
  check_quota: nothing written; `LimitReached` when the person sent their tips for today already.
  submit: quota checked again; tip row `new` with its media rows; event (created); to every editor
    "新线索 T-xxxx 待审核" (normal lane, while the tip is `new` and the recipient an editor).
  check_decision: nothing written; the refusal an editor's Decline / Ask for more / Published would meet
    (so the channel asks for the words only when they can still be used).
  accept: tip new→accepted; event; audit `tip.accept`; reporter told (while accepted or published).
  decline: tip new|accepted|more_info_requested→declined with the reason; event; audit `tip.decline`;
    reporter told with the reason (while declined).
  ask_more: tip new→more_info_requested with the question; event; audit `tip.ask_more`; reporter told,
    with the Answer button (while the tip is still `more_info_requested`).
  publish: tip new|accepted→published with the story's link; event; audit `tip.publish`; reporter told
    with the link (while published).
  answer: the reporter's answer (text and/or media rows); tip more_info_requested→new; event; every editor
    told the tip is back in the queue (while it is `new` and the recipient an editor).
  add_answer_media: more files of an answer that came as an album: media rows (while the tip is `new`).
  note_saved_file: where the channel saved a downloaded file (the media row's local path).
  answer_lead: the volunteer's yes/no on a lead offered from a confirmed wish (the offer itself is
    `actions.leads.offer_story_lead`): lead asked→agreed|refused; on yes a new tip linked to the wish with
    the proof photo, and every editor told "新线索 …，来自心愿 …" (while the tip is `new`, recipient an editor).
  apply_as_reporter: application (new or re-applied) `pending`; event; every editor told, with Approve /
    Reject buttons (while the application is `pending` and the recipient an editor).
  decide_application: an editor approves or rejects a reporter application: pending→approved|rejected,
    role granted or not; event; audit `reporter.approve|reject`; the applicant told (while decided so).
  join_by_invite: an editor's invite link used once; the person's reporter application approved (a pending
    one, or a new one) and the role granted; event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Notice
from rules import applications as lifecycle
from rules import tips as tip_rules
from rules.applications import ApplicationAction, ApplicationStatus
from rules.limits import check_daily_quota, local_day_start
from rules.roles import Role
from rules.staff import person_ref
from rules.tips import TipAction, TipStatus, category_key, may_review, next_status, tip_reference
from rules.wishes import Actor, wish_ref
from storage import applications, audit, invites, people, tips, users
from storage.applications import Application
from storage.errors import Conflict, NotAllowed, NotFound
from storage.tips import MediaItem, Tip
from storage.users import User

# A review card's buttons carry the status the card showed, as one letter, so a decision taken on an
# outdated card is refused instead of overruling a colleague's.
SEEN_CODES: dict[TipStatus, str] = {
    TipStatus.NEW: "n",
    TipStatus.ACCEPTED: "a",
    TipStatus.MORE_INFO_REQUESTED: "m",
    TipStatus.PUBLISHED: "p",
    TipStatus.DECLINED: "d",
}
_CODE_STATUSES = {code: status for status, code in SEEN_CODES.items()}

# What the reporter is told after each decision, and while which statuses that stays true.
_REPORTER_NOTICES: dict[TipStatus, tuple[str, tuple[TipStatus, ...]]] = {
    TipStatus.ACCEPTED: ("tip.notice_accepted", (TipStatus.ACCEPTED, TipStatus.PUBLISHED)),
    TipStatus.DECLINED: ("tip.notice_declined", (TipStatus.DECLINED,)),
    TipStatus.MORE_INFO_REQUESTED: ("tip.notice_more_info", (TipStatus.MORE_INFO_REQUESTED,)),
    TipStatus.PUBLISHED: ("tip.notice_published", (TipStatus.PUBLISHED,)),
}


def seen_status(code: str | None) -> TipStatus | None:
    """The status a card's button says the card showed; None for a code no card carries."""
    return _CODE_STATUSES.get(code or "")


@dataclass(frozen=True, slots=True)
class LeadAnswer:
    """The volunteer's answer on a story lead: the tip it became (None when they said no)."""

    wish_ref_no: int
    tip: Tip | None


@dataclass(frozen=True, slots=True)
class ApplicationDecided:
    """A decided reporter application and the applicant (for the editor's reply)."""

    application: Application
    applicant: User


# -- helpers ---------------------------------------------------------------------------------------------


def _person(actor: Actor) -> int:
    if actor.user_id is None:
        raise NotAllowed("a person acts on tips")
    return actor.user_id


def open_tip(tip_id: int) -> tuple[tuple[Button, ...], ...]:
    """The button on an editors' notice that opens the tip (its media and card with the decisions)."""
    return ((Button(f"=📋 {tip_reference(tip_id)}", Act.REVIEW_VIEW, tip_id),),)


async def editor_ids(conn: AsyncConnection, env: Env) -> list[int]:
    """Everyone who works the desk, by person id: editors, and admins (Telegram ids in the settings, mapped
    through `identities`) the bot has met; an admin who never wrote to the bot cannot be messaged yet."""
    editors = await users.ids_with_role(conn, Role.EDITOR)
    editors += sorted(await people.admin_person_ids(conn, env.settings.admin_ids))
    return list(dict.fromkeys(editors))


async def _tell_editors(
    conn: AsyncConnection, env: Env, notice: Notice, *, dedupe_prefix: str, condition: Sequence[notices.Check]
) -> int:
    return await notices.queue_many(
        conn,
        await editor_ids(conn, env),
        notice,
        now=env.now(),
        dedupe_prefix=dedupe_prefix,
        condition=(*condition, notices.holds_role(Role.EDITOR)),
    )


# -- submitting ------------------------------------------------------------------------------------------


async def check_quota(env: Env, actor: Actor) -> None:
    """`LimitReached` when the person already sent today's tips (asked before a draft is started)."""
    person = _person(actor)
    async with env.db.read() as conn:
        used = await tips.submitted_since(conn, person, local_day_start(env.now(), env.settings.tz))
    check_daily_quota(used, env.settings.tips_per_day)


async def submit(
    env: Env,
    actor: Actor,
    *,
    category: str,
    description: str,
    location: tuple[float, float] | None,
    media: Sequence[MediaItem],
) -> Tip:
    """Store a tip with its media and tell the editors; `LimitReached` over the daily limit."""
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        used = await tips.submitted_since(conn, person, local_day_start(now, env.settings.tz))
        check_daily_quota(used, env.settings.tips_per_day)
        tip = await tip_rules.create_tip(
            conn,
            reporter_id=person,
            by_reporter=Role.REPORTER in actor.roles,
            category=category,
            description=description,
            location=location,
            media=media,
            now=now,
        )
        await _tell_editors(
            conn,
            env,
            Notice(
                "review.new_tip",
                {"reference": tip_reference(tip.id), "category_key": category_key(tip.category)},
                open_tip(tip.id),
            ),
            dedupe_prefix=f"tip:new:{tip.id}",
            condition=[notices.tip_in(tip.id, TipStatus.NEW)],
        )
    env.wake()
    return tip


async def note_saved_file(env: Env, media_id: int, path: str) -> None:
    """Remember where the channel saved a tip's downloaded file."""
    async with env.db.write() as conn:
        await tips.set_local_path(conn, media_id, path)


# -- editors' decisions ----------------------------------------------------------------------------------


async def check_decision(env: Env, actor: Actor, tip_id: int, action: TipAction, *, seen: TipStatus) -> Tip:
    """The tip, if the editor could take this decision on it now; otherwise the refusal they would meet
    (`NotAllowed`, `NotFound`, or `Conflict` with the current status)."""
    if not may_review(actor.roles):
        raise NotAllowed(f"{action} needs the editor role")
    async with env.db.read() as conn:
        tip = await tips.get_tip(conn, tip_id)
    if tip.status != seen:
        raise Conflict("the card is outdated", current=tip.status)
    next_status(tip.status, action)
    return tip


async def _decide(
    env: Env,
    actor: Actor,
    tip_id: int,
    action: TipAction,
    *,
    seen: TipStatus | None,
    note: str | None = None,
    link: str | None = None,
) -> Tip:
    editor = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        tip = await tip_rules.transition(
            conn,
            tip_id,
            action,
            actor_id=editor,
            actor_roles=actor.roles,
            now=now,
            note=note,
            link=link,
            expected=seen,
        )
        await audit.record(
            conn,
            actor_id=editor,
            action=f"tip.{action.value}",
            subject=tip_reference(tip.id),
            now=now,
            detail=note or link,
        )
        await _tell_reporter(conn, tip, note=note, now=now)
    env.wake()
    return tip


async def _tell_reporter(conn: AsyncConnection, tip: Tip, *, note: str | None, now: dt.datetime) -> None:
    """The reporter hears each outcome (in their own language, rendered when delivered)."""
    entry = _REPORTER_NOTICES.get(TipStatus(tip.status))
    if entry is None or tip.reporter_id is None:
        return
    key, still = entry
    values: dict[str, str | int | float] = {"reference": tip_reference(tip.id)}
    buttons: tuple[tuple[Button, ...], ...] = ()
    if tip.status == TipStatus.DECLINED:
        values["reason"] = note or "—"
    elif tip.status == TipStatus.MORE_INFO_REQUESTED:
        values["question"] = note or ""
        buttons = ((Button("tip.button_answer", Act.TIP_ANSWER, tip.id),),)
    elif tip.status == TipStatus.PUBLISHED:
        values["link"] = tip.published_url or ""
    await notices.queue(
        conn,
        tip.reporter_id,
        Notice(key, values, buttons),
        now=now,
        dedupe_key=f"tip:{tip.id}:{tip.status}:{tip.updated_at.timestamp():.0f}",
        condition=[notices.tip_in(tip.id, *still)],
    )


async def accept(env: Env, actor: Actor, tip_id: int, *, seen: TipStatus | None = None) -> Tip:
    """An editor accepts a tip (shown to them as `seen`)."""
    return await _decide(env, actor, tip_id, TipAction.ACCEPT, seen=seen)


async def decline(env: Env, actor: Actor, tip_id: int, reason: str, *, seen: TipStatus | None = None) -> Tip:
    """An editor declines a tip, saying why."""
    return await _decide(env, actor, tip_id, TipAction.DECLINE, seen=seen, note=reason)


async def ask_more(env: Env, actor: Actor, tip_id: int, question: str, *, seen: TipStatus | None = None) -> Tip:
    """An editor asks the reporter a question about a tip."""
    return await _decide(env, actor, tip_id, TipAction.ASK_MORE, seen=seen, note=question)


async def publish(env: Env, actor: Actor, tip_id: int, link: str, *, seen: TipStatus | None = None) -> Tip:
    """An editor marks a tip published, with the story's link."""
    return await _decide(env, actor, tip_id, TipAction.PUBLISH, seen=seen, link=link)


# -- the reporter's answer -------------------------------------------------------------------------------


async def check_answer(env: Env, actor: Actor, tip_id: int) -> Tip:
    """The tip, if the person may answer its question now: `NotAllowed` (not theirs or unknown) or
    `Conflict` (no question pending)."""
    person = _person(actor)
    async with env.db.read() as conn:
        try:
            tip = await tips.get_tip(conn, tip_id)
        except NotFound:
            raise NotAllowed("no such tip") from None
    if tip.reporter_id != person:
        raise NotAllowed("only the tip's reporter answers its question")
    if tip.status != TipStatus.MORE_INFO_REQUESTED:
        raise Conflict("no question pending", current=tip.status)
    return tip


async def answer(env: Env, actor: Actor, tip_id: int, *, text: str | None, media: Sequence[MediaItem]) -> Tip:
    """The reporter answers the editors' question; the tip returns to the queue and the editors are told."""
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        tip = await tip_rules.answer_question(conn, tip_id, reporter_id=person, text=text, media=media, now=now)
        await _tell_editors(
            conn,
            env,
            Notice("review.tip_answered", {"reference": tip_reference(tip.id)}, open_tip(tip.id)),
            dedupe_prefix=f"tip:answered:{tip.id}:{now.timestamp():.0f}",
            condition=[notices.tip_in(tip.id, TipStatus.NEW)],
        )
    env.wake()
    return tip


async def add_answer_media(env: Env, actor: Actor, tip_id: int, media: Sequence[MediaItem]) -> Tip:
    """More files of an answer that came as an album (only the reporter, only while the tip is `new`)."""
    person = _person(actor)
    async with env.db.write() as conn:
        return await tip_rules.attach_media(conn, tip_id, reporter_id=person, media=media, now=env.now())


# -- story leads -----------------------------------------------------------------------------------------


async def answer_lead(env: Env, actor: Actor, wish_ref_no: int, *, agree: bool) -> LeadAnswer:
    """The volunteer's yes or no on a story lead offered from their confirmed wish.

    `NotFound` (no such offer) / `NotAllowed` (offered to someone else) / `Conflict` (answered before).
    """
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        tip = await tip_rules.decide_story_lead(
            conn,
            wish_ref_no,
            volunteer_id=person,
            agree=agree,
            by_reporter=Role.REPORTER in actor.roles,
            now=now,
        )
        if tip is not None:
            await _tell_editors(
                conn,
                env,
                Notice(
                    "review.new_lead",
                    {"reference": tip_reference(tip.id), "wish": wish_ref(wish_ref_no)},
                    open_tip(tip.id),
                ),
                dedupe_prefix=f"tip:new:{tip.id}",
                condition=[notices.tip_in(tip.id, TipStatus.NEW)],
            )
    env.wake()
    return LeadAnswer(wish_ref_no, tip)


# -- the reporter role -----------------------------------------------------------------------------------


async def apply_as_reporter(env: Env, actor: Actor, *, name: str) -> Application:
    """Apply for the reporter role; the editors are asked to decide.

    `Conflict` with current `approved` when the person is a reporter already, `pending` when they applied.
    """
    person = _person(actor)
    if Role.REPORTER in actor.roles:
        raise Conflict("already a reporter", current=ApplicationStatus.APPROVED)
    now = env.now()
    async with env.db.write() as conn:
        application = await lifecycle.apply(conn, user_id=person, role=Role.REPORTER, now=now)
        await _tell_editors(
            conn,
            env,
            Notice(
                "reporter.new_application",
                {"name": name, "user_id": person_ref(person)},
                buttons=(
                    (
                        Button("reporter.button_approve", Act.REPORTER_APPROVE, application.id),
                        Button("reporter.button_reject", Act.REPORTER_REJECT, application.id),
                    ),
                ),
            ),
            dedupe_prefix=f"reporter:apply:{application.id}:{now.timestamp():.0f}",
            condition=[notices.application_in(application.id, ApplicationStatus.PENDING)],
        )
    env.wake()
    return application


async def decide_application(env: Env, actor: Actor, application_id: int, *, approve: bool) -> ApplicationDecided:
    """An editor approves or rejects a reporter application (only reporter applications).

    `NotAllowed` for a non-editor or another role's application, `NotFound`, `Conflict` when decided before.
    """
    editor = _person(actor)
    if not may_review(actor.roles):
        raise NotAllowed("deciding reporter applications needs the editor role")
    action = ApplicationAction.APPROVE if approve else ApplicationAction.REJECT
    now = env.now()
    async with env.db.write() as conn:
        current = await applications.get_application(conn, application_id)
        if current.role != Role.REPORTER:
            raise NotAllowed("editors decide reporter applications only")
        decided = await lifecycle.transition(conn, current.id, action, actor_id=editor, now=now)
        await audit.record(
            conn,
            actor_id=editor,
            action=f"reporter.{'approve' if approve else 'reject'}",
            subject=str(current.user_id),
            now=now,
        )
        applicant = await users.get_user(conn, current.user_id)
        await notices.queue(
            conn,
            applicant.id,
            Notice("reporter.you_are_approved" if approve else "reporter.you_are_rejected"),
            now=now,
            dedupe_key=f"reporter:decided:{decided.id}:{now.timestamp():.0f}",
            condition=[notices.application_in(decided.id, decided.status)],
        )
    env.wake()
    return ApplicationDecided(decided, applicant)


async def join_by_invite(env: Env, actor: Actor, code: str) -> User:
    """An editor's invite link makes the person a reporter at once; the person as now stored.

    `NotFound` / `LimitReached` for an unknown, expired or used-up link; `Conflict` when already a reporter.
    """
    person = _person(actor)
    now = env.now()
    async with env.db.write() as conn:
        invite = await invites.use_invite(conn, code, Role.REPORTER, now)
        await audit.record(conn, actor_id=person, action="invite.use", subject=f"reporter:{code}", now=now)
        existing = await applications.find_application(conn, person, Role.REPORTER)
        if invite.needs_review:
            # The link only lets the person apply: an editor still decides.
            if existing is None or existing.status == ApplicationStatus.REJECTED:
                await lifecycle.apply(conn, user_id=person, role=Role.REPORTER, now=now)
        elif existing is not None and existing.status == ApplicationStatus.PENDING:
            await lifecycle.transition(
                conn, existing.id, ApplicationAction.APPROVE, actor_id=None, now=now, note=f"invite {code}"
            )
        else:
            await lifecycle.apply(conn, user_id=person, role=Role.REPORTER, now=now, invite_code=code)
        return await users.get_user(conn, person)
