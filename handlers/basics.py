"""Commands everyone has: /start (with deep-link payloads), /help, /language and the top-level /cancel."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop, BaseHandler, CallbackQueryHandler, CommandHandler

from bot.commands import commands_for
from bot.context import TongxinContext
from bot.i18n import normalize_language
from bot.settings import LANGUAGES
from rules.roles import effective_roles, is_staff
from storage import people, users

# Deep-link payloads of /start: the prefix before "_" picks the handler (e.g. invites: "inv_<code>").
StartPayloadHandler = Callable[[Update, TongxinContext, str], Awaitable[None]]
START_PAYLOADS: dict[str, StartPayloadHandler] = {}


async def load_person(update: Update, context: TongxinContext) -> None:
    """Before any handler: find the person behind the Telegram user (through `identities`; created on first
    contact), load their roles and stop here if staff blocked them. Admin status compares the Telegram id."""
    tg_user = update.effective_user
    if tg_user is None or tg_user.is_bot:
        return
    now = context.now()
    async with context.db.read() as conn:
        person = await people.find_person(conn, people.TELEGRAM, tg_user.id)
    # Write only when something changed: most updates then cost one read. Writing again also tells us a
    # person marked unreachable has unblocked the bot.
    if (
        person is None
        or person.unreachable
        or _profile_changed(person, tg_user.first_name, tg_user.last_name, tg_user.username)
    ):
        language = normalize_language(tg_user.language_code, context.settings.default_language)
        async with context.db.write() as conn:
            person = await people.person_for_identity(
                conn,
                people.TELEGRAM,
                tg_user.id,
                first_name=tg_user.first_name,
                last_name=tg_user.last_name,
                username=tg_user.username,
                language=language,
                now=now,
            )
    context.person = person
    context.roles = effective_roles(person.roles, tg_user.id, context.settings.admin_ids)
    if person.blocked:
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("blocked.notice"), show_alert=True)
        elif (
            update.effective_message is not None
            and update.effective_chat is not None
            and update.effective_chat.type == "private"
        ):
            await update.effective_message.reply_text(context.t("blocked.notice"))
        raise ApplicationHandlerStop


def _profile_changed(person: users.User, first_name: str, last_name: str | None, username: str | None) -> bool:
    return (person.first_name, person.last_name, person.username) != (first_name[:128], last_name, username)


async def start(update: Update, context: TongxinContext) -> None:
    """Welcome the person, or act on a deep-link payload such as an invite."""
    if (message := update.effective_message) is None:
        return
    if context.args:
        payload = context.args[0]
        handler = START_PAYLOADS.get(payload.split("_", 1)[0])
        if handler is not None:
            await handler(update, context, payload)
            return
        await message.reply_text(context.t("start.bad_link"))
    name = html.escape(context.person.display_name if context.person else "")
    await message.reply_text(
        context.t("start.welcome", name=name),
        parse_mode=ParseMode.HTML,
        reply_markup=start_keyboard(context),
    )
    await set_personal_menu(context)


def start_keyboard(context: TongxinContext) -> InlineKeyboardMarkup | None:
    """The buttons under the welcome message: the main actions of the person's roles."""
    rows = [[InlineKeyboardButton(context.t(label), callback_data=data)] for label, data in START_BUTTONS]
    return InlineKeyboardMarkup(rows) if rows else None


# (label key, callback data) of the buttons on /start; features append theirs.
START_BUTTONS: list[tuple[str, str]] = [("wish.start_button", "wish:new"), ("tip.start_button", "tipnew")]


async def show_help(update: Update, context: TongxinContext) -> None:
    """List the commands the person may use, with one line each."""
    if (message := update.effective_message) is None:
        return
    lines = [context.t("help.title")]
    lines += [f"/{command.name} — {context.t(f'command.{command.name}')}" for command in commands_for(context.roles)]
    await message.reply_text("\n".join(lines))


async def ask_language(update: Update, context: TongxinContext) -> None:
    """Offer the languages as buttons."""
    if (message := update.effective_message) is None:
        return
    buttons = [
        InlineKeyboardButton(context.bot_data.catalogues.text(code, "language.name"), callback_data=f"lang:{code}")
        for code in LANGUAGES
    ]
    await message.reply_text(context.t("language.ask"), reply_markup=InlineKeyboardMarkup([buttons]))


async def choose_language(update: Update, context: TongxinContext) -> None:
    """Remember the chosen language and answer in it."""
    query = update.callback_query
    if query is None or query.data is None or context.person is None:
        return
    code = query.data.removeprefix("lang:")
    if code not in LANGUAGES:
        await query.answer()
        return
    async with context.db.write() as conn:
        await users.set_language(conn, context.person.id, code)
        context.person = await users.get_user(conn, context.person.id)
    await query.answer()
    await query.edit_message_text(context.t("language.chosen"))
    await set_personal_menu(context)


async def cancel_nothing(update: Update, context: TongxinContext) -> None:
    """/cancel outside any conversation: say there is nothing to cancel and clear any keyboard."""
    if (message := update.effective_message) is None:
        return
    await message.reply_text(context.t("cancel.nothing"), reply_markup=ReplyKeyboardRemove())


async def set_personal_menu(context: TongxinContext) -> None:
    """Give the person a command menu of their roles in their language (chat scope).

    The default menus cover residents by Telegram language; staff and anyone who picked a language
    with /language get their own, because Telegram cannot know either.
    """
    person = context.person
    if person is None:
        return
    commands = [BotCommand(c.name, context.t(f"command.{c.name}")) for c in commands_for(context.roles)]
    if (
        is_staff(context.roles)
        or person.language != context.settings.default_language
        or len(commands) > len(commands_for(()))
    ):
        await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(context.telegram_user_id))


async def refresh_menu_of(context: TongxinContext, person: users.User) -> None:
    """Give someone other than the person being answered the menu of their roles now (after /grant, /revoke)."""
    async with context.db.read() as conn:
        telegram_id = await people.telegram_id_of(conn, person.id)
    if telegram_id is None:
        return  # no Telegram account: no Telegram menu to refresh
    roles = effective_roles(person.roles, telegram_id, context.settings.admin_ids)
    catalogues = context.bot_data.catalogues
    commands = [BotCommand(c.name, catalogues.text(person.language, f"command.{c.name}")) for c in commands_for(roles)]
    await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(telegram_id))


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """The basics, in registration order."""
    return [
        CommandHandler("start", start),
        CommandHandler("help", show_help),
        CommandHandler("language", ask_language),
        CallbackQueryHandler(choose_language, pattern=r"^lang:"),
        CommandHandler("cancel", cancel_nothing),
    ]
