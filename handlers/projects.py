"""Projects and teams: `/projects` (figures), `/teams` (join buttons; invite links for leaders and
coordinators), `/newteam` and `/newproject` (coordinators), `/start team_<code>` (a team's invite link) and
the leader's Approve / Refuse on a join request."""

from __future__ import annotations

import html

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from actions import projects as project_actions
from actions.buttons import Act
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from handlers.common import actor_of, expect_press, refresh_menu_of, stale_press, tell
from rules.activities import DESCRIPTION_MAX, InvalidInput, is_coordinator, refusal_key
from rules.wishes import parse_wish_ref, wish_ref
from storage import users
from storage.errors import Conflict, NotAllowed, NotFound


def _words(context: TongxinContext) -> str:
    """The command's argument text (everything after the command)."""
    return " ".join(context.args or []).strip()


async def show_projects(update: Update, context: TongxinContext) -> None:
    """/projects: every project with its team and figures."""
    if (message := update.effective_message) is None:
        return
    found = await project_actions.projects_with_figures(context.env)
    if not found:
        await message.reply_text(context.t("project.none"))
        return
    lines = [context.t("project.list_title")]
    for figures in found:
        key = "project.line_wishes" if figures.project.for_wishes else "project.line"
        lines.append(
            context.t(
                key,
                name=html.escape(figures.project.name),
                team=html.escape(figures.team_name or context.plain("project.no_team")),
                activities=figures.activities,
                people=figures.participants,
                hours=f"{figures.hours:g}",
                wishes=figures.wishes_done,
            )
        )
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


async def show_teams(update: Update, context: TongxinContext) -> None:
    """/teams: every team with a Join button; leaders and coordinators also see its invite link."""
    if (message := update.effective_message) is None or context.person is None:
        return
    found = await project_actions.teams(context.env)
    if not found:
        await message.reply_text(context.t("team.none"))
        return
    lines = [context.t("team.list_title")]
    rows = []
    for team, members in found:
        lines.append(context.t("team.line", name=html.escape(team.name), members=members))
        if team.leader_id == context.person.id or is_coordinator(context.roles):
            link = f"https://t.me/{context.bot.username}?start={team.payload}"
            lines.append(context.t("team.invite_line", link=link))
        rows.append([callbacks.button(context.plain("team.button.join", team=team.name), Act.TEAM_JOIN, team.id)])
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(rows))


async def new_team(update: Update, context: TongxinContext) -> None:
    """/newteam NAME [| LEADER_PERSON_ID]: a coordinator creates a team (led by themselves by default)."""
    if (message := update.effective_message) is None or context.person is None:
        return
    name, _, leader_text = _words(context).partition("|")
    leader = context.person.id
    if leader_text.strip():
        if not leader_text.strip().isdecimal() or len(leader_text.strip()) > 19:
            await message.reply_text(context.t("team.usage"))
            return
        leader = int(leader_text.strip())
    if not name.strip():
        await message.reply_text(context.t("team.usage"))
        return
    try:
        team = await project_actions.create_team(context.env, actor_of(context), name, leader)
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    except NotFound:
        await message.reply_text(context.t("team.no_such_person"))
        return
    except Conflict:
        await message.reply_text(context.t("team.exists"))
        return
    except InvalidInput as exc:
        await message.reply_text(context.t(exc.reason))
        return
    if team.leader_id is not None and team.leader_id != context.person.id:
        async with context.db.read() as conn:
            leader_person = await users.get_user(conn, team.leader_id)
        await refresh_menu_of(context, leader_person)  # the leader's menu now has /newactivity
    link = f"https://t.me/{context.bot.username}?start={team.payload}"
    await message.reply_text(
        context.t("team.created", name=html.escape(team.name), link=link), parse_mode=ParseMode.HTML
    )


async def new_project(update: Update, context: TongxinContext) -> None:
    """/newproject NAME | DESCRIPTION | CATEGORIES | TEAM: a coordinator creates a project."""
    if (message := update.effective_message) is None:
        return
    parts = [part.strip() for part in _words(context).split("|")]
    if not parts[0]:
        await message.reply_text(context.t("project.usage"))
        return
    parts += [""] * (4 - len(parts))
    name, description, category_text, team_name = parts[:4]
    categories = tuple(_category_keys(context, category_text))
    try:
        team_id = None
        if team_name:
            found = [team for team, _ in await project_actions.teams(context.env) if team.name == team_name]
            if not found:
                await message.reply_text(context.t("project.no_such_team", team=html.escape(team_name)))
                return
            team_id = found[0].id
        project = await project_actions.create_project(
            context.env, actor_of(context), name, description, categories, team_id
        )
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    except Conflict:
        await message.reply_text(context.t("project.exists"))
        return
    except InvalidInput as exc:
        await message.reply_text(context.t(exc.reason, length=len(description), max=DESCRIPTION_MAX))
        return
    await message.reply_text(context.t("project.created", name=html.escape(project.name)), parse_mode=ParseMode.HTML)


def _category_keys(context: TongxinContext, text: str) -> list[str]:
    """Category keys from what a coordinator typed: keys or their names in either language ("" → none)."""
    catalogues = context.bot_data.catalogues
    names = {
        catalogues.text(language, f"category.{key}"): key
        for key in context.settings.categories
        for language in ("zh-CN", "en")
    }
    keys = []
    for word in text.replace("，", ",").split(","):
        word = word.strip()
        if word:
            keys.append(names.get(word, word))
    return keys


async def wish_to_project(update: Update, context: TongxinContext) -> None:
    """/wishproject W-0042 NAME: a coordinator counts a wish under a project (default: the micro-wish project)."""
    if (message := update.effective_message) is None:
        return
    words = context.args or []
    ref_no = parse_wish_ref(words[0]) if words else None
    name = " ".join(words[1:]).strip()
    if ref_no is None or not name:
        await message.reply_text(context.t("project.wish_usage"))
        return
    try:
        project = await project_actions.attach_wish(context.env, actor_of(context), ref_no, name)
    except NotAllowed:
        await message.reply_text(context.t("error.not_allowed"))
        return
    except NotFound:
        await message.reply_text(context.t("project.wish_not_found"))
        return
    await message.reply_text(
        context.t("project.wish_attached", wish=wish_ref(ref_no), name=html.escape(project.name)),
        parse_mode=ParseMode.HTML,
    )


async def join_pressed(update: Update, context: TongxinContext) -> None:
    """Join (from /teams): ask the team's leader."""
    if (press := await expect_press(update, context, Act.TEAM_JOIN)) is None:
        return
    try:
        joined = await project_actions.ask_to_join(context.env, actor_of(context), press.id)
    except NotFound as exc:
        await tell(update, context, refusal_key(exc, "team.not_found"))
        return
    key = "team.already_member" if joined.status == "member" else "team.asked"
    await tell(update, context, key, team=joined.team.name)


async def join_by_link(update: Update, context: TongxinContext) -> None:
    """/start team_<code>: the team's invite link makes the person a member at once."""
    if (message := update.effective_message) is None:
        return
    code = (context.args or [""])[0].removeprefix("team_")
    try:
        joined = await project_actions.join_by_invite(context.env, actor_of(context), code)
    except NotFound:
        await message.reply_text(context.t("start.bad_link"))
        return
    await message.reply_text(context.t("team.joined", team=html.escape(joined.team.name)), parse_mode=ParseMode.HTML)


async def decide_pressed(update: Update, context: TongxinContext) -> None:
    """Approve / Refuse on a join request (the leader or a coordinator)."""
    if (press := await expect_press(update, context, Act.TEAM_APPROVE, Act.TEAM_REJECT)) is None:
        return
    if (query := update.callback_query) is None or press.arg is None:
        return
    approve = press.act is Act.TEAM_APPROVE
    try:
        team = await project_actions.decide_join(
            context.env, actor_of(context), press.id, int(press.arg), approve=approve
        )
    except (NotAllowed, NotFound) as exc:
        await tell(update, context, refusal_key(exc, "team.not_found"))
        return
    except Conflict:
        await tell(update, context, "team.already_decided")
        return
    await query.answer()
    key = "team.you_approved" if approve else "team.you_rejected"
    await query.edit_message_text(context.t(key, team=html.escape(team.name)), parse_mode=ParseMode.HTML)


def conversations() -> list[BaseHandler[Update, TongxinContext, object]]:
    """No conversations here."""
    return []


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Commands and buttons of projects and teams."""
    return [
        CommandHandler("start", join_by_link, filters=filters.Regex(r"^/start team_")),
        CommandHandler("projects", show_projects),
        CommandHandler("teams", show_teams),
        CommandHandler("newteam", new_team),
        CommandHandler("newproject", new_project),
        CommandHandler("wishproject", wish_to_project),
        CallbackQueryHandler(join_pressed, pattern=callbacks.pattern(Act.TEAM_JOIN)),
        CallbackQueryHandler(decide_pressed, pattern=callbacks.pattern(Act.TEAM_APPROVE, Act.TEAM_REJECT)),
        CallbackQueryHandler(
            stale_press, pattern=callbacks.prefix_pattern(Act.TEAM_JOIN, Act.TEAM_APPROVE, Act.TEAM_REJECT)
        ),
    ]
