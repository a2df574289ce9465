"""Helpers every Telegram handler module shares, so no handler module imports another role's module.

- `actor_of(context)`: the person being answered, as actions and rules see them.
- `press_of(update)`: the decoded button press of a callback query (None: malformed, forged or stale).
- `expect_press(update, context, *acts)`: that press if it is one of `acts`, else the person is told it is stale.
- `conflict_reply(update, context, exc)`: why a button no longer works (not allowed, gone, or its state moved on).
- `tell(update, context, key, ...)`: one catalogue message as an alert on the pressed button, or as a reply.
- `stale_press(update, context)`: the answer to a press that is malformed or no longer means anything.
- `skip_labels(context)`: "Skip" in every language (reply keyboards sent before a language change still work).
- `set_personal_menu(context)` / `refresh_menu_of(context, person)`: the Telegram command menu of a person's roles.
"""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeChat, Update

from actions.buttons import Act, Press
from bot.commands import commands_for
from bot.context import TongxinContext
from channels.telegram import callbacks
from handlers import wish_cards
from rules.roles import effective_roles, is_staff
from rules.wishes import Actor
from storage import people, projects, users
from storage.errors import Conflict, NotAllowed, NotFound


def actor_of(context: TongxinContext) -> Actor:
    """The person being answered, with their current roles (`load_person` ran before every handler)."""
    if context.person is None:
        raise RuntimeError("actor_of called before load_person")
    return Actor(context.person.id, context.roles)


def press_of(update: Update) -> Press | None:
    """The well-formed press behind the update's callback query, or None."""
    query = update.callback_query
    return callbacks.decode(query.data) if query is not None else None


async def tell(update: Update, context: TongxinContext, key: str, /, *, alert: bool = True, **values: object) -> None:
    """Say one catalogue message: an alert on the pressed button (a toast when `alert` is False), or a reply."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain(key, **values), show_alert=alert)
    elif (message := update.effective_message) is not None:
        await message.reply_text(context.t(key, **values))


async def stale_press(update: Update, context: TongxinContext) -> None:
    """A button press that is malformed, forged, or from a card that no longer applies: say so, never silence."""
    await tell(update, context, "error.stale_button")


async def expect_press(update: Update, context: TongxinContext, *acts: Act) -> Press | None:
    """The decoded press if it is one of `acts`; otherwise the person is told the button is stale (None)."""
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    if press is None or press.act not in acts:
        await stale_press(update, context)
        return None
    return press


async def conflict_reply(update: Update, context: TongxinContext, exc: Conflict | NotAllowed | NotFound) -> None:
    """Tell the person why a button no longer works (an alert on the button, or a reply)."""
    alert = update.callback_query is not None
    say = context.plain if alert else context.t
    if isinstance(exc, NotAllowed):
        text = say("error.not_allowed")
    elif isinstance(exc, NotFound):
        text = say("wish.not_found")
    else:
        text = say("wish.stale", status=wish_cards.status_words(say, exc.current or ""))
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def skip_labels(context: TongxinContext) -> set[str]:
    """ "Skip" in every language, so a keyboard sent before a language change still works."""
    catalogues = context.bot_data.catalogues
    return {catalogues.text(language, "wish.button.skip") for language in ("zh-CN", "en")}


async def set_personal_menu(context: TongxinContext) -> None:
    """Give the person being answered a command menu of their roles in their language (chat scope).

    The default menus cover residents by Telegram language; staff and anyone who picked a language
    with /language get their own, because Telegram cannot know either.
    """
    person = context.person
    if person is None:
        return
    leads = await leads_a_team(context, person.id)
    commands = [
        BotCommand(c.name, context.t(f"command.{c.name}")) for c in commands_for(context.roles, leads_team=leads)
    ]
    if (
        is_staff(context.roles)
        or person.language != context.settings.default_language
        or len(commands) > len(commands_for(()))
    ):
        await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(context.telegram_user_id))


async def leads_a_team(context: TongxinContext, person_id: int) -> bool:
    """Whether the person leads a volunteer team (their menu then has the organizer's commands)."""
    async with context.db.read() as conn:
        return bool(await projects.teams_led_by(conn, person_id))


async def refresh_menu_of(context: TongxinContext, person: users.User) -> None:
    """Give someone other than the person being answered the menu of their roles now (after a role change)."""
    async with context.db.read() as conn:
        telegram_id = await people.telegram_id_of(conn, person.id)
    if telegram_id is None:
        return  # no Telegram account: no Telegram menu to refresh
    roles = effective_roles(person.roles, telegram_id, context.settings.admin_ids)
    catalogues = context.bot_data.catalogues
    leads = await leads_a_team(context, person.id)
    commands = [
        BotCommand(c.name, catalogues.text(person.language, f"command.{c.name}"))
        for c in commands_for(roles, leads_team=leads)
    ]
    await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(telegram_id))
