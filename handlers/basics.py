"""Commands everyone has: /start (with deep-link payloads), /help, /language and the top-level /cancel."""

from __future__ import annotations

import html

from telegram import InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop, BaseHandler, CallbackQueryHandler, CommandHandler

from actions import people as settings_of_people
from actions.buttons import Act, Button
from channels.telegram import callbacks, render
from channels.telegram.commands import commands_for
from channels.telegram.context import TongxinContext
from core.i18n import normalize_language
from core.settings import LANGUAGES
from handlers.common import leads_a_team, press_of, set_personal_menu, stale_press
from rules.roles import effective_roles
from storage import people, users


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
    if person.blocked and not privacy_request(update):
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("blocked.notice"), show_alert=True)
        elif (
            update.effective_message is not None
            and update.effective_chat is not None
            and update.effective_chat.type == "private"
        ):
            await update.effective_message.reply_text(context.t("blocked.notice"))
        raise ApplicationHandlerStop


# What a blocked person can still do: read the privacy notice, download their data and erase it.
PRIVACY_COMMANDS = frozenset({"privacy", "mydata", "deleteme"})
PRIVACY_PRESSES = frozenset({Act.ERASE_YES, Act.ERASE_NO})


def privacy_request(update: Update) -> bool:
    """Whether the update is /privacy, /mydata, /deleteme or the erase confirmation (open to blocked people)."""
    if update.callback_query is not None:
        press = callbacks.decode(update.callback_query.data)
        return press is not None and press.act in PRIVACY_PRESSES
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return False
    command = message.text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(message.text) > 1 else ""
    return command in PRIVACY_COMMANDS


def _profile_changed(person: users.User, first_name: str, last_name: str | None, username: str | None) -> bool:
    return (person.first_name, person.last_name, person.username) != (first_name[:128], last_name, username)


async def start(update: Update, context: TongxinContext) -> None:
    """Welcome the person; a deep link nobody handled first (team invites are conversations' entry points:
    `/start vinv_…`, `/start rinv_…`) is unknown or broken, and is said so."""
    if (message := update.effective_message) is None:
        return
    if context.args:
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
    rows = [[button] for button in START_BUTTONS]
    return callbacks.keyboard(rows, context.plain) if rows else None


# The buttons on /start; features append theirs.
START_BUTTONS: list[Button] = [Button("wish.start_button", Act.WISH_NEW), Button("tip.start_button", Act.TIP_NEW)]


async def show_help(update: Update, context: TongxinContext) -> None:
    """List the commands the person may use, with one line each."""
    if (message := update.effective_message) is None:
        return
    lines = [context.t("help.title")]
    leads = context.person is not None and await leads_a_team(context, context.person.id)
    lines += [
        f"/{command.name} — {context.t(f'command.{command.name}')}"
        for command in commands_for(context.roles, leads_team=leads)
    ]
    await message.reply_text("\n".join(lines))


async def ask_language(update: Update, context: TongxinContext) -> None:
    """Offer the languages as buttons (each labelled in its own language)."""
    if (message := update.effective_message) is None:
        return
    catalogues = context.bot_data.catalogues
    buttons = [
        callbacks.button(render.plain(catalogues, code, "language.name"), Act.LANGUAGE, arg=code) for code in LANGUAGES
    ]
    await message.reply_text(context.t("language.ask"), reply_markup=InlineKeyboardMarkup([buttons]))


async def choose_language(update: Update, context: TongxinContext) -> None:
    """Remember the chosen language and answer in it."""
    if (query := update.callback_query) is None or context.person is None:
        return
    if (press := press_of(update)) is None or press.arg is None:
        await stale_press(update, context)
        return
    context.person = await settings_of_people.choose_language(context.env, context.person.id, press.arg)
    await query.answer()
    await query.edit_message_text(context.t("language.chosen"))
    await set_personal_menu(context)


async def cancel_nothing(update: Update, context: TongxinContext) -> None:
    """/cancel outside any conversation: say there is nothing to cancel and clear any keyboard."""
    if (message := update.effective_message) is None:
        return
    await message.reply_text(context.t("cancel.nothing"), reply_markup=ReplyKeyboardRemove())


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """The basics, in registration order."""
    return [
        CommandHandler("start", start),
        CommandHandler("help", show_help),
        CommandHandler("language", ask_language),
        CallbackQueryHandler(choose_language, pattern=callbacks.pattern(Act.LANGUAGE)),
        CallbackQueryHandler(stale_press, pattern=callbacks.prefix_pattern(Act.LANGUAGE)),
        CommandHandler("cancel", cancel_nothing),
    ]
