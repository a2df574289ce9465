"""Departments and their cases in Telegram (issue 15).

Coordinators: `/newdept 城管 环境整治,交通劝导 东城社区,西城社区` creates a department (`/newdept 城管` alone: the
categories are chosen with buttons); `/departments` lists them with an invite button each; `/case W-0042 城管 紧急`
sends a wish (or T-7, a tip; H-3, a hot topic) to a department with a response tier (紧急/水电气/一般/复杂, or the
English names; none typed: tier buttons); `/cases` shows them every department's open cases, overdue first. People
join by the invite link (`/start dinv_…`).
Members: the case arrives with 签收 / 退回; `/cases` lists their department's open cases; 办结 asks for a note
and an optional photo (a conversation), 退回 for a reason. Residents rate the result with the stars of the
"resolved" notice. Every handler parses, calls one action and renders its outcome.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from actions import cases, departments
from actions import wishes as wish_actions
from actions.buttons import Act, Button, Press
from actions.messages import Notice
from channels.telegram import callbacks, render
from channels.telegram.context import TongxinContext
from conversations import case_forms, case_overview, pages
from conversations.base import Outcome, Subject
from core.settings import LANGUAGES
from handlers import lists
from handlers.access import require
from handlers.common import actor_of, conflict_reply, edit_in_place, expect_press, stale_press, tell
from handlers.conversing import written_once
from rules.cases import (
    TIERS,
    CaseInputError,
    CaseStatus,
    DepartmentDraft,
    parse_case_request,
    parse_department,
    parse_tier_choice,
    tier_choice,
)
from rules.staff import COORDINATORS, person_ref
from rules.wishes import InvalidInput
from storage.cases import Case
from storage.departments import INVITE_PREFIX, Department
from storage.errors import Conflict, LimitReached, NotAllowed, NotFound
from storage.people import TELEGRAM

WORK = "case_work"  # the draft of 办结 or 退回 (the case and the note typed so far) in user_data
RESOLVE = case_forms.CaseResolve(TELEGRAM)
NEW_DEPARTMENT = "new_department"  # /newdept's draft while its categories are chosen, with its number, in user_data


async def reply(update: Update, context: TongxinContext, notice: Notice) -> int:
    """Send a notice-shaped message to the person being answered (values escaped by the renderer); its id."""
    body, markup = render.render_notice(context.bot_data.catalogues, context.lang, notice)
    sent = await context.bot.send_message(context.chat_id, body, parse_mode=ParseMode.HTML, reply_markup=markup)
    return sent.message_id


async def reply_card(update: Update, context: TongxinContext, case: Case, notice: Notice) -> None:
    """A case card as a reply, remembered so it can be taken back if the member leaves the department."""
    message_id = await reply(update, context, notice)
    await departments.remember_case_card(context.env, actor_of(context), case.id, message_id)


async def say(context: TongxinContext, key: str, /, **values: object) -> None:
    """A new message to the person being answered (after their button press was answered)."""
    await context.bot.send_message(context.chat_id, context.t(key, **values), parse_mode=ParseMode.HTML)


async def input_error(update: Update, context: TongxinContext, error: CaseInputError) -> None:
    """Tell staff what was wrong with what they typed."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain(error.reason, **error.values), show_alert=True)
    elif (message := update.effective_message) is not None:
        await message.reply_text(context.plain(error.reason, **error.values))


def category_names(context: TongxinContext) -> dict[str, str]:
    """Every name a category may be typed by (its label in every language, as the wish form and /stats show it) → its
    key."""
    catalogues = context.bot_data.catalogues
    return {
        catalogues.text(language, f"category.{key}"): key
        for language in LANGUAGES
        for key in context.settings.categories
        if catalogues.has(language, f"category.{key}")
    }


async def new_department(update: Update, context: TongxinContext) -> None:
    """/newdept NAME [categories] [areas]: create a department (coordinators); no categories typed: ask with buttons."""
    settings = context.settings
    if not await require(update, context, *COORDINATORS):
        return
    try:
        draft = parse_department(context.args or [], settings.categories, settings.areas, category_names(context))
    except CaseInputError as error:
        await input_error(update, context, error)
        return
    if not draft.categories:
        await ask_categories(update, context, draft)
        return
    await create_department(update, context, draft)


async def create_department(update: Update, context: TongxinContext, draft: DepartmentDraft) -> None:
    """Create the department of the draft and offer its invite button."""
    try:
        department = await departments.create_department(context.env, actor_of(context), draft)
    except NotAllowed:
        await tell(update, context, "error.not_allowed")
        return
    except Conflict:
        await tell(update, context, "department.exists", name=draft.name)
        return
    await reply(
        update,
        context,
        Notice(
            "department.created",
            {"name": department.name, "categories": len(department.categories), "areas": "、".join(department.areas)},
            ((Button("department.button.invite", Act.DEPARTMENT_INVITE, department.id),),),
        ),
    )


def categories_view(context: TongxinContext, number: int, draft: DepartmentDraft) -> Notice:
    """The categories as toggles (✅ when chosen, two a row) and 完成, for the draft numbered `number`."""
    toggles = [
        Button(
            ("=✅ " if key in draft.categories else "=") + context.plain(f"category.{key}"),
            Act.DEPARTMENT_CATEGORY,
            number,
            key,
        )
        for key in context.settings.categories
    ]
    rows = [tuple(toggles[i : i + 2]) for i in range(0, len(toggles), 2)]
    rows.append((Button("department.button.categories_done", Act.DEPARTMENT_CATEGORIES_DONE, number),))
    return Notice("department.ask_categories", {"name": draft.name, "count": len(draft.categories)}, tuple(rows))


def kept_draft(context: TongxinContext, press: Press) -> DepartmentDraft | None:
    """The /newdept draft a category button belongs to (None: another draft's button, or none kept)."""
    kept = (context.user_data or {}).get(NEW_DEPARTMENT)
    if not isinstance(kept, dict) or kept.get("number") != press.id:
        return None
    return DepartmentDraft.from_json(kept.get("draft"))


def keep_draft(context: TongxinContext, number: int, draft: DepartmentDraft | None) -> None:
    """Remember the draft between presses (None: forget it)."""
    if context.user_data is None:
        return
    if draft is None:
        context.user_data.pop(NEW_DEPARTMENT, None)
    else:
        context.user_data[NEW_DEPARTMENT] = {"number": number, "draft": draft.to_json()}


async def ask_categories(update: Update, context: TongxinContext, draft: DepartmentDraft) -> None:
    """Offer the categories as buttons; an older draft's buttons stop working."""
    kept = (context.user_data or {}).get(NEW_DEPARTMENT)
    previous = kept.get("number") if isinstance(kept, dict) else None
    number = previous + 1 if isinstance(previous, int) and previous < 10**6 else 1
    keep_draft(context, number, draft)
    await reply(update, context, categories_view(context, number, draft))


async def category_pressed(update: Update, context: TongxinContext) -> None:
    """A category toggle of /newdept: chosen or unchosen, the buttons redrawn."""
    if (press := await expect_press(update, context, Act.DEPARTMENT_CATEGORY)) is None or press.arg is None:
        return
    if not await require(update, context, *COORDINATORS):
        return
    draft = kept_draft(context, press)
    if draft is None or press.arg not in context.settings.categories or (query := update.callback_query) is None:
        await stale_press(update, context)
        return
    draft = draft.toggled(press.arg)
    keep_draft(context, press.id, draft)
    await query.answer()
    body, markup = render.render_notice(
        context.bot_data.catalogues, context.lang, categories_view(context, press.id, draft)
    )
    await query.edit_message_text(body, parse_mode=ParseMode.HTML, reply_markup=markup)


async def categories_done(update: Update, context: TongxinContext) -> None:
    """完成 on /newdept's categories: at least one, then the department is created."""
    if (press := await expect_press(update, context, Act.DEPARTMENT_CATEGORIES_DONE)) is None:
        return
    if not await require(update, context, *COORDINATORS):
        return
    if (draft := kept_draft(context, press)) is None or (query := update.callback_query) is None:
        await stale_press(update, context)
        return
    if not draft.categories:
        await query.answer(context.plain("department.need_category"), show_alert=True)
        return
    keep_draft(context, press.id, None)
    await query.answer()
    await query.edit_message_reply_markup(None)
    await create_department(update, context, draft)


async def list_departments(update: Update, context: TongxinContext) -> None:
    """/departments: every department with its members; coordinators get an invite button each."""
    try:
        found = await departments.list_departments(context.env, actor_of(context))
    except NotAllowed:
        await tell(update, context, "error.not_allowed")
        return
    if not found:
        await tell(update, context, "department.none")
        return
    lines = "\n".join(
        context.plain("department.line", name=d.name, members=n, areas="、".join(d.areas))
        if d.areas
        else context.plain("department.line_no_areas", name=d.name, members=n)
        for d, n in found
    )
    buttons = tuple(
        (Button(f"=➕ {d.name}", Act.DEPARTMENT_INVITE, d.id), Button(f"=👥 {d.name}", Act.DEPARTMENT_MEMBERS, d.id))
        for d, _ in found
        if actor_of(context).is_coordinator
    )
    await reply(update, context, Notice("department.list", {"lines": lines}, buttons))


async def invite_pressed(update: Update, context: TongxinContext) -> None:
    """An invite link for one department."""
    if (press := await expect_press(update, context, Act.DEPARTMENT_INVITE)) is None:
        return
    try:
        department, invite = await departments.mint_invite(context.env, actor_of(context), press.id)
    except (NotAllowed, NotFound):
        await tell(update, context, "error.not_allowed")
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    link = f"https://t.me/{context.bot.username}?start={invite.payload}"
    expires = invite.expires_at.astimezone(context.settings.tz).strftime("%Y-%m-%d %H:%M")
    await reply(
        update,
        context,
        Notice(
            "department.invite", {"name": department.name, "link": link, "expires": expires, "uses": invite.max_uses}
        ),
    )


async def join_by_invite(update: Update, context: TongxinContext) -> None:
    """/start dinv_<code>: join the department of the link."""
    if context.person is None:
        return
    code = (context.args or [""])[0].removeprefix(f"{INVITE_PREFIX}_")
    try:
        joined = await departments.join(context.env, context.person.id, code)
    except NotFound:
        await tell(update, context, "start.bad_link")
        return
    except LimitReached:
        await tell(update, context, "department.invite_used_up")
        return
    key = "department.already_member" if joined.member else "department.requested"
    await tell(update, context, key, name=joined.department.name)


async def request_decided(update: Update, context: TongxinContext) -> None:
    """批准 / 拒绝 on a request to join a department; the notice then says what was decided, without buttons."""
    press = await expect_press(update, context, Act.DEPARTMENT_APPROVE, Act.DEPARTMENT_REJECT)
    if press is None:
        return
    try:
        decided = await departments.decide_request(
            context.env, actor_of(context), press.id, approve=press.act is Act.DEPARTMENT_APPROVE
        )
    except Conflict:
        await tell(update, context, "department.request_decided_already")
        return
    except (NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    if (query := update.callback_query) is not None:
        await query.answer()
        key = "department.request_approved" if decided.approved else "department.request_rejected"
        values = {"name": decided.person.display_name, "person": person_ref(decided.person.id)}
        await query.edit_message_text(
            render.text(context.bot_data.catalogues, context.lang, key, department=decided.department.name, **values),
            parse_mode=ParseMode.HTML,
        )


def members_view(context: TongxinContext, department: Department, members: list[tuple[int, str]]) -> Notice:
    """A department's members, each with a remove button."""
    lines = "\n".join(context.plain("department.member_line", name=name, person=person_ref(p)) for p, name in members)
    buttons = tuple(
        (Button(f"=✖️ {name}（{person_ref(p)}）", Act.DEPARTMENT_REMOVE, department.id, str(p)),) for p, name in members
    )
    key = "department.members" if members else "department.no_members"
    return Notice(key, {"department": department.name, "lines": lines}, buttons)


async def members_pressed(update: Update, context: TongxinContext) -> None:
    """👥 on /departments: the department's members, with remove buttons."""
    if (press := await expect_press(update, context, Act.DEPARTMENT_MEMBERS)) is None:
        return
    try:
        department, members = await departments.members(context.env, actor_of(context), press.id)
    except (NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    await reply(update, context, members_view(context, department, members))


async def remove_pressed(update: Update, context: TongxinContext) -> None:
    """✖️ on a members list: take that member out of the department; the list is redrawn."""
    if (press := await expect_press(update, context, Act.DEPARTMENT_REMOVE)) is None or press.arg is None:
        return
    try:
        left = await departments.remove_member(context.env, actor_of(context), press.id, int(press.arg))
        department, members = await departments.members(context.env, actor_of(context), press.id)
    except (NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    if (query := update.callback_query) is None:
        return
    await query.answer(context.plain("department.member_removed" if left else "department.not_a_member"))
    body, markup = render.render_notice(
        context.bot_data.catalogues, context.lang, members_view(context, department, members)
    )
    await query.edit_message_text(body, parse_mode=ParseMode.HTML, reply_markup=markup)


async def send_case(update: Update, context: TongxinContext) -> None:
    """/case W-0042 城管 紧急: send a wish, tip or hot topic to a department with a tier; no tier: tier buttons."""
    await answer_case(update, context, typed_case(update, context))


async def typed_case(update: Update, context: TongxinContext) -> cases.Sent | None:
    """The case `/case` names, sent; None when its tier is asked for first."""
    request = parse_case_request(context.args or [])
    if request.tier is not None:
        return await cases.send_case(context.env, actor_of(context), request.order(request.tier))
    department = await departments.named(context.env, actor_of(context), request.department)
    rows = tuple(
        (Button(f"case.tier.{tier}", Act.CASE_TIER, department.id, tier_choice(request.source, request.number, tier)),)
        for tier in TIERS
    )
    source = source_words(request.source, request.number)
    await reply(update, context, Notice("case.ask_tier", {"source": source, "department": department.name}, rows))
    return None


def source_words(source: str, number: int) -> str:
    """How a case's source is written in `/case`: W-0042, T-7, H-3."""
    return f"W-{number:04d}" if source == "wish" else f"{source[0].upper()}-{number}"


async def tier_pressed(update: Update, context: TongxinContext) -> None:
    """A tier button of `/case`: the permission, the department and the source checked again, then the case sent."""
    if (press := await expect_press(update, context, Act.CASE_TIER)) is None or press.arg is None:
        return
    await answer_case(update, context, pressed_case(context, press.id, press.arg))


async def pressed_case(context: TongxinContext, department_id: int, carried: str) -> cases.Sent:
    """The case a tier button names, sent."""
    department = await departments.numbered(context.env, actor_of(context), department_id)
    return await cases.send_case(context.env, actor_of(context), parse_tier_choice(department.name, carried))


async def answer_case(update: Update, context: TongxinContext, sending: Awaitable[cases.Sent | None]) -> None:
    """Say how sending a case went: refusals, or the case sent (the tier buttons pressed are taken away)."""
    try:
        sent = await sending
    except CaseInputError as error:
        await input_error(update, context, error)
        return
    except NotAllowed:
        await tell(update, context, "error.not_allowed")
        return
    except NotFound:
        await tell(update, context, "case.unknown")
        return
    except Conflict as error:
        if error.current and error.current.startswith("wish:"):  # claimed, done or closed: not the centre's to send
            status = wish_actions.status_words(context.plain, error.current.removeprefix("wish:"), owner=False)
            await tell(update, context, "case.wish_not_referable", status=status)
        else:
            await tell(update, context, "case.already_open")
        return
    if sent is None:
        return
    if (query := update.callback_query) is not None:
        await query.answer()
        await query.edit_message_reply_markup(None)
    values = cases_values(sent.case, sent.department.name, context)
    key = "case.sent" if sent.told else "case.sent_no_members"
    await reply(update, context, Notice(key, {**values, "count": sent.told}))


def cases_values(case: Case, department: str, context: TongxinContext) -> dict[str, Any]:
    """The values of a case card (the same the action's notices carry)."""
    return cases.card_values(case, department, context.env)


async def list_cases(update: Update, context: TongxinContext) -> None:
    """/cases: coordinators see every department's open cases; members a page of their departments' open cases
    (`conversations.pages.cases`), each opened by its button with what they can do."""
    actor = actor_of(context)
    if actor.is_coordinator:
        await reply(update, context, overview(context, await departments.open_cases_overview(context.env, actor)))
    found = await cases.open_cases_of_member(context.env, actor)
    if not found:
        if not actor.is_coordinator:
            await tell(update, context, "case.none_open")
        return
    text, markup = lists.page_view(context, pages.cases(context.env, found, 0, actor.user_id))
    await context.bot.send_message(context.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def cases_page_pressed(update: Update, context: TongxinContext) -> None:
    """◀ / ▶ on /cases: the page redrawn in place (the cases as they are now)."""
    if (press := await expect_press(update, context, Act.CASE_PAGE)) is None or (
        query := update.callback_query
    ) is None:
        return
    await query.answer()
    actor = actor_of(context)
    found = await cases.open_cases_of_member(context.env, actor)
    if not found:
        await edit_in_place(query, context.t("case.none_open"))
        return
    text, markup = lists.page_view(context, pages.cases(context.env, found, press.id, actor.user_id))
    await edit_in_place(query, text, markup)


async def show_case_pressed(update: Update, context: TongxinContext) -> None:
    """A case on /cases tapped: its card with what the member can do now (签收 / 退回, 办结 / 退回, or who has it)."""
    if (press := await expect_press(update, context, Act.CASE_SHOW)) is None or (
        query := update.callback_query
    ) is None:
        return
    actor = actor_of(context)
    try:
        shown = await cases.case_of_member(context.env, actor, press.id)
    except (NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    case = shown.case
    if case.status not in (CaseStatus.SENT, CaseStatus.ACKNOWLEDGED):
        await query.answer(context.plain("case.not_open", ref=shown.ref), show_alert=True)
        return
    await query.answer()
    values = {**cases_values(case, shown.department, context), "name": shown.acknowledged_by or "—"}
    if case.status == CaseStatus.SENT:
        await reply_card(update, context, case, Notice("case.new", values, cases.member_buttons(case)))
    elif case.acknowledged_by == actor.user_id:
        await reply_card(update, context, case, Notice("case.card_mine", values, cases.holder_buttons(case)))
    else:
        await reply_card(update, context, case, Notice("case.taken", values))


def overview(context: TongxinContext, groups: list[tuple[str, list[departments.OpenCase]]]) -> Notice:
    """Every department's open cases as one message (`conversations.case_overview`, shared with WeCom)."""
    return case_overview.overview(context.plain, context.now(), context.settings.tz, groups, more="case.overview_more")


async def acknowledge_pressed(update: Update, context: TongxinContext) -> None:
    """签收: take the case; if someone was first, say who."""
    if (press := await expect_press(update, context, Act.CASE_ACK)) is None:
        return
    try:
        shown = await cases.acknowledge(context.env, actor_of(context), press.id)
    except Conflict:
        current = await cases.view(context.env, press.id)
        await tell(update, context, "case.already_taken", ref=current.ref, name=current.acknowledged_by or "—")
        return
    except (NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc)
        return
    if (query := update.callback_query) is not None:
        await query.answer(context.plain("case.acknowledged_short", ref=shown.ref))
        await query.edit_message_reply_markup(None)
    values = {**cases_values(shown.case, shown.department, context), "name": shown.acknowledged_by or "—"}
    await reply_card(update, context, shown.case, Notice("case.card_mine", values, cases.holder_buttons(shown.case)))


async def resolve_pressed(update: Update, context: TongxinContext) -> Outcome | None:
    """办结: the form written once (`conversations.case_forms`) asks for the note, then a photo."""
    if (press := await expect_press(update, context, Act.CASE_RESOLVE)) is None:
        return None
    return await RESOLVE.start(context.env, actor_of(context), press.id)


async def return_pressed(update: Update, context: TongxinContext) -> Outcome | None:
    """退回: the form written once asks for the reason."""
    if (press := await expect_press(update, context, Act.CASE_RETURN)) is None:
        return None
    return await case_forms.RETURN.start(context.env, actor_of(context), press.id)


async def case_changed(context: TongxinContext, chat_id: int, message_id: int, changed: Subject) -> None:
    """A case resolved or handed back: the card pressed to start the form loses its 办结 / 退回 buttons (already
    gone, or too old to edit: left as it is)."""
    with contextlib.suppress(TelegramError):
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


async def rate_pressed(update: Update, context: TongxinContext) -> None:
    """A star rating of a resolved case."""
    if (press := await expect_press(update, context, Act.CASE_RATE)) is None or press.arg is None:
        return
    try:
        shown = await cases.rate(context.env, actor_of(context), press.id, int(press.arg))
    except Conflict:
        await tell(update, context, "case.already_rated")
        return
    except (NotAllowed, NotFound, InvalidInput):
        await stale_press(update, context)
        return
    if (query := update.callback_query) is not None:
        await query.answer()
        await query.edit_message_reply_markup(None)
    # A message, not only an alert: the rating stays in her chat under the result she rated.
    await say(context, "case.rated_thanks", ref=shown.ref, rating=int(press.arg))


def conversations() -> list[BaseHandler[Update, TongxinContext, Any]]:
    """办结 (note → photo) and 退回 (reason), written once."""
    resolving = CallbackQueryHandler(resolve_pressed, pattern=callbacks.pattern(Act.CASE_RESOLVE))
    returning = CallbackQueryHandler(return_pressed, pattern=callbacks.pattern(Act.CASE_RETURN))
    back = case_forms.RETURN
    return [
        written_once(
            RESOLVE, lambda _: RESOLVE, key=WORK, entry_points=[(resolving, resolve_pressed)], refresh=case_changed
        ),
        written_once(back, lambda _: back, key=WORK, entry_points=[(returning, return_pressed)], refresh=case_changed),
    ]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Commands and buttons of departments and cases (malformed presses are answered, not ignored)."""
    return [
        CommandHandler("start", join_by_invite, filters=filters.Regex(rf"^/start {INVITE_PREFIX}_")),
        CommandHandler("newdept", new_department),
        CommandHandler("departments", list_departments),
        CommandHandler("case", send_case),
        CommandHandler("cases", list_cases),
        CallbackQueryHandler(invite_pressed, pattern=callbacks.prefix_pattern(Act.DEPARTMENT_INVITE)),
        CallbackQueryHandler(
            request_decided, pattern=callbacks.prefix_pattern(Act.DEPARTMENT_APPROVE, Act.DEPARTMENT_REJECT)
        ),
        CallbackQueryHandler(members_pressed, pattern=callbacks.prefix_pattern(Act.DEPARTMENT_MEMBERS)),
        CallbackQueryHandler(remove_pressed, pattern=callbacks.prefix_pattern(Act.DEPARTMENT_REMOVE)),
        CallbackQueryHandler(category_pressed, pattern=callbacks.prefix_pattern(Act.DEPARTMENT_CATEGORY)),
        CallbackQueryHandler(categories_done, pattern=callbacks.prefix_pattern(Act.DEPARTMENT_CATEGORIES_DONE)),
        CallbackQueryHandler(tier_pressed, pattern=callbacks.prefix_pattern(Act.CASE_TIER)),
        CallbackQueryHandler(acknowledge_pressed, pattern=callbacks.prefix_pattern(Act.CASE_ACK)),
        CallbackQueryHandler(rate_pressed, pattern=callbacks.prefix_pattern(Act.CASE_RATE)),
        CallbackQueryHandler(cases_page_pressed, pattern=callbacks.prefix_pattern(Act.CASE_PAGE)),
        CallbackQueryHandler(show_case_pressed, pattern=callbacks.prefix_pattern(Act.CASE_SHOW)),
        CallbackQueryHandler(
            stale_press, pattern=callbacks.prefix_pattern(Act.CASE_RESOLVE, Act.CASE_RETURN, Act.CASE_NO_PHOTO)
        ),
    ]
