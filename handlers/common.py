"""Helpers every Telegram handler module shares, so no handler module imports another role's module.

- `actor_of(context)`: the person being answered, as actions and rules see them.
- `press_of(update)`: the decoded button press of a callback query (None: malformed, forged or stale).
- `expect_press(update, context, *acts)`: that press if it is one of `acts`, else the person is told it is stale.
- `conflict_reply(update, context, exc)`: why a button no longer works (not allowed, gone, or its state moved on).
- `tell(update, context, key, ...)`: one catalogue message as an alert on the pressed button, or as a reply.
- `stale_press(update, context)`: the answer to a press that is malformed or no longer means anything.
- `step_passed(update, context)`: the answer to a conversation's button from a step already passed (a double
  tap, or an older message) while the conversation goes on.
- `unchanged(context, message, *content)`: whether the bot already edited that message to exactly this content (a
  double tap would repeat the edit, and Telegram refuses an edit that changes nothing).
- `edit_in_place(query, text, markup)`: redraw the pressed message, unless it already shows exactly that.
- `skip_labels(context)`: "Skip" in every language (reply keyboards sent before a language change still work).
- `set_personal_menu(context)` / `refresh_menu_of(context, person)`: the Telegram command menu of a person's roles.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError

from actions.buttons import Act, Press
from channels import wish_cards
from channels.telegram import callbacks
from channels.telegram.commands import commands_for
from channels.telegram.context import TongxinContext
from rules.roles import effective_roles, is_staff
from rules.staff import Target
from rules.wishes import Actor
from storage import people, projects, users
from storage.errors import Conflict, NotAllowed, NotFound


def _plain_html(text: str) -> str:
    """What an HTML message looks like to the person (tags gone, entities read)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def edit_in_place(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None, *, link_preview: bool = True
) -> None:
    """Redraw the message of a pressed button with HTML `text` and `markup`; when it already shows exactly
    that (the same page pressed twice), nothing is sent: Telegram would refuse it as "not modified"."""
    shown = query.message
    if isinstance(shown, Message) and shown.text is not None:
        same_text = shown.text == _plain_html(text)
        same_markup = (shown.reply_markup or None) == (markup if markup and markup.inline_keyboard else None)
        if same_text and same_markup:
            return
    await query.edit_message_text(
        text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=None if link_preview else True
    )


def actor_of(context: TongxinContext) -> Actor:
    """The person being answered, with their current roles (`load_person` ran before every handler)."""
    if context.person is None:
        raise RuntimeError("actor_of called before load_person")
    return Actor(context.person.id, context.roles)


def press_of(update: Update) -> Press | None:
    """The well-formed press behind the update's callback query, or None."""
    query = update.callback_query
    return callbacks.decode(query.data) if query is not None else None


async def person_of(context: TongxinContext, target: Target) -> int:
    """The person id a typed target names: `P-12` as it is, a Telegram user id through the accounts people wrote
    from. `NotFound` (carrying what was typed) for a Telegram user who never wrote to the bot. A WeCom member
    (`wecom:USERID`) is the organisation's own staff: their person is made when first named (docs/wecom.md)."""
    if target.person_id is not None:
        return target.person_id
    if target.wecom_userid is not None:
        async with context.db.write() as conn:
            member = await people.find_person(
                conn, people.WECOM, target.wecom_userid
            ) or await people.person_for_identity(
                conn,
                people.WECOM,
                target.wecom_userid,
                first_name=target.wecom_userid,
                language=context.env.settings.default_language,
                now=context.env.now(),
            )
        return member.id
    async with context.db.read() as conn:
        found = await people.person_ids_for(conn, people.TELEGRAM, [target.telegram_id or 0])
    if not found:
        raise NotFound(str(target))
    return found[0]


async def tell(update: Update, context: TongxinContext, key: str, /, *, alert: bool = True, **values: object) -> None:
    """Say one catalogue message: an alert on the pressed button (a toast when `alert` is False), or a reply."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain(key, **values), show_alert=alert)
    elif (message := update.effective_message) is not None:
        await message.reply_text(context.t(key, **values))


async def stale_press(update: Update, context: TongxinContext) -> None:
    """A button press that is malformed, forged, or from a card that no longer applies: say so, never silence."""
    await tell(update, context, "error.stale_button")


async def step_passed(update: Update, context: TongxinContext) -> None:
    """A button of a step the conversation has already passed: say so at once (a toast); the current step's
    message is still the latest one, so nothing is sent again."""
    await tell(update, context, "step.passed", alert=False)


async def expect_press(update: Update, context: TongxinContext, *acts: Act) -> Press | None:
    """The decoded press if it is one of `acts`; otherwise the person is told the button is stale (None)."""
    query = update.callback_query
    press = callbacks.decode(query.data) if query is not None else None
    if press is None or press.act not in acts:
        await stale_press(update, context)
        return None
    return press


async def conflict_reply(
    update: Update, context: TongxinContext, exc: Conflict | NotAllowed | NotFound, *, words: str = "wish.status"
) -> None:
    """Tell the person why a button no longer works (an alert on the button, or a reply), the status in the
    words of the presser's role (`words`: "wish.status" for the resident, "task.status" for a volunteer)."""
    alert = update.callback_query is not None
    say = context.plain if alert else context.t
    # A press for a wish that does not exist gets the same refusal as one without the right: a forged id
    # learns nothing (typed references still hear that the wish was not found).
    if isinstance(exc, NotAllowed) or (alert and isinstance(exc, NotFound)):
        text = say("error.not_allowed")
    elif isinstance(exc, NotFound):
        text = say("wish.not_found")
    else:
        status = exc.current or ""
        shown = (
            say(f"{words}.{status}") if words != "wish.status" else wish_cards.status_words(say, status, owner=False)
        )
        text = say("wish.stale", status=shown)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


EDITS = "edits_made"
EDITS_KEPT = 50


def unchanged(context: TongxinContext, message: MaybeInaccessibleMessage | None, *content: object) -> bool:
    """True when the bot's last edit of `message` (in this chat) set exactly `content`: the edit would change
    nothing (a second press of the same button), so it is skipped. Otherwise the content is remembered (for the
    last `EDITS_KEPT` messages of the chat) and False is returned."""
    if context.chat_data is None or message is None:
        return False
    made: dict[str, Any] = context.chat_data.setdefault(EDITS, {})
    parts = [part.to_dict() if isinstance(part, InlineKeyboardMarkup) else part for part in content]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
    key = str(message.message_id)
    if made.get(key) == digest:
        return True
    made.pop(key, None)
    made[key] = digest
    while len(made) > EDITS_KEPT:
        del made[next(iter(made))]
    return False


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


async def swap_pressed_button(update: Update, replacement: InlineKeyboardButton) -> None:
    """Replace the pressed button on its message with `replacement` (e.g. 报名 → 取消报名 once signed up), keeping
    the other buttons; a message that cannot be edited any more is left as it is."""
    query = update.callback_query
    message = query.message if query is not None else None
    if query is None or not isinstance(message, Message) or message.reply_markup is None:
        return
    rows = [
        [replacement if button.callback_data == query.data else button for button in row]
        for row in message.reply_markup.inline_keyboard
    ]
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))
