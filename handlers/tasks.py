"""Volunteers' tasks in Telegram: `/tasks` to find and claim open wishes, `/mytasks` to finish them (hours,
proof photo, note: the form written once in `conversations/task_done.py`) or give them back with a reason.

Every handler parses the update, calls one action of `actions.tasks` and renders its outcome; the
effects (resident, followers, whistle summaries) are the action's. Only after a claim succeeded does
the claimer see the address, location pin, phone number and photo; browsing shows the public card.
Buttons are built and read by `channels.telegram.callbacks`; a malformed or stale press is answered.
Diagrams: docs/claim.mmd (a claim and its effects), docs/task_done.mmd (finishing a task).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from actions import tasks
from actions.buttons import MAX_SUBJECT, Act, Press
from channels import wish_cards
from channels.telegram import callbacks
from channels.telegram.context import TongxinContext
from channels.telegram.media import send_photo_of
from conversations import pages
from conversations.base import Outcome
from conversations.task_done import TaskDone
from conversations.task_release import TaskRelease
from handlers import lists
from handlers.access import require
from handlers.common import actor_of, conflict_reply, edit_in_place
from handlers.conversing import words, written_once
from rules import matching
from rules.roles import Role
from rules.wishes import WishStatus, wish_ref
from storage import wishes as store
from storage.errors import AlreadyClaimed, ClaimedByYou, Conflict, Held, NotAllowed, NotFound

TASK_DONE = "task_done"
TASK_RELEASE = "task_release"
NOT_COMMAND = ~filters.COMMAND
OTHER = filters.ALL & NOT_COMMAND
# Every button of this module: a press that starts like one of these but is not well formed is stale.
TASK_ACTS = (
    Act.TASK_VIEW,
    Act.TASK_PAGE,
    Act.TASK_CLAIM,
    Act.TASK_DONE,
    Act.TASK_RELEASE,
    Act.TASK_HOURS,
    Act.TASK_SKIP,
    Act.TASK_MINE_PAGE,
    Act.TASK_SHOW,
)


async def say(update: Update, context: TongxinContext, key: str, **values: object) -> None:
    """Reply to the message being handled with one catalogue message."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.t(key, **values))


async def pressed(update: Update, context: TongxinContext) -> Press | None:
    """The well-formed press being handled by a volunteer, or None after answering why not."""
    query = update.callback_query
    if query is None or not await require(update, context, Role.VOLUNTEER):
        return None
    press = callbacks.decode(query.data)
    if press is None:
        await query.answer(context.plain("task.stale_button"), show_alert=True)
    return press


async def stale_pressed(update: Update, context: TongxinContext) -> None:
    """A task button whose data this bot could not have sent (or an old format): say so."""
    if (query := update.callback_query) is not None:
        await query.answer(context.plain("task.stale_button"), show_alert=True)


# --- /tasks and claiming ----------------------------------------------------------------------------------


def page_view(context: TongxinContext, page: tasks.TaskPage) -> tuple[str, InlineKeyboardMarkup]:
    """One page of open wishes (`conversations.pages.open_tasks`) with view / paging / toggle buttons."""
    return lists.page_view(context, pages.open_tasks(context.env, page))


async def list_tasks(update: Update, context: TongxinContext) -> None:
    """/tasks: the first page of open wishes matching the volunteer's skills."""
    if (message := update.effective_message) is None or not await require(update, context, Role.VOLUNTEER):
        return
    assert context.person is not None
    page = await tasks.open_tasks(context.env, context.person.id, 0, show_all=False)
    text, markup = page_view(context, page)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def page_pressed(update: Update, context: TongxinContext) -> None:
    """Next / Previous / Show all: redraw the list in place."""
    if (press := await pressed(update, context)) is None or context.person is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    arg = press.arg or "0"
    edge = int(arg[2:]) if len(arg) > 2 and int(arg[2:]) <= MAX_SUBJECT else None
    page = await tasks.open_tasks(
        context.env,
        context.person.id,
        press.id,
        show_all=arg[0] == "1",
        after=edge if arg[1:2] == "n" else None,
        before=edge if arg[1:2] == "p" else None,
    )
    text, markup = page_view(context, page)
    await edit_in_place(query, text, markup)


async def view_pressed(update: Update, context: TongxinContext) -> None:
    """One open wish's public card with the claim buttons (when will you do it?)."""
    if (press := await pressed(update, context)) is None:
        return
    query = update.callback_query
    assert query is not None
    try:
        wish, profile = await tasks.claimable(context.env, actor_of(context), press.id)
    except ClaimedByYou:
        await query.answer(context.plain("task.yours_already"), show_alert=True)
        return
    except AlreadyClaimed:
        await query.answer(context.plain("task.just_taken"), show_alert=True)
        return
    except Held as exc:
        await answer_held(update, context, exc)
        return
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc, words="task.status")
        return
    await query.answer()
    distance = matching.distance_km(profile.location if profile else None, wish)
    buttons = [
        callbacks.button(context.plain(f"task.button.claim_{when}"), Act.TASK_CLAIM, wish.id, when)
        for when in tasks.WHEN_CHOICES
    ]
    await context.bot.send_message(
        query.from_user.id,
        words(context, pages.task_card(context.env, wish, distance)) + "\n\n" + context.t("task.ask_when"),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([buttons]),
    )


async def claim_pressed(update: Update, context: TongxinContext) -> None:
    """Claim (from /tasks or from a whistle): exactly one of several volunteers wins; the winner sees the
    full details. The resident, followers and whistling coordinators are told by the action."""
    if (press := await pressed(update, context)) is None or press.arg is None:
        return
    query = update.callback_query
    assert query is not None
    try:
        claimed = await tasks.claim(context.env, actor_of(context), press.id, press.arg)
    except ClaimedByYou:
        await query.answer(context.plain("task.yours_already"), show_alert=True)
        return
    except tasks.ClaimBound as bound:
        await query.answer(context.plain(f"task.limit_{bound.bound}", limit=bound.limit), show_alert=True)
        return
    except AlreadyClaimed:
        await query.answer(context.plain("task.just_taken"), show_alert=True)
        await query.edit_message_reply_markup(None)
        return
    except Held as exc:
        await answer_held(update, context, exc)
        return
    except (Conflict, NotAllowed, NotFound) as exc:
        await conflict_reply(update, context, exc, words="task.status")
        return
    wish = claimed.wish
    await query.answer(context.plain("task.claimed_short"))
    await edit_in_place(
        query, context.t("task.claimed", ref=wish_ref(wish.ref_no), due=tasks.local_due(context.env, wish))
    )
    await send_details(update, context, wish)


async def answer_held(update: Update, context: TongxinContext, exc: Held) -> None:
    """The wish is reserved for the volunteers it was offered to: say until when (local time)."""
    assert update.callback_query is not None
    until = exc.until.astimezone(context.settings.tz).strftime("%H:%M")
    await update.callback_query.answer(context.plain("task.held", until=until), show_alert=True)


def task_buttons(context: TongxinContext, wish: store.Wish) -> InlineKeyboardMarkup | None:
    """Done / Release for a claimed task; nothing while the resident confirms."""
    if wish.status != WishStatus.CLAIMED:
        return None
    return InlineKeyboardMarkup(
        [
            [
                callbacks.button(context.plain("task.button.done"), Act.TASK_DONE, wish.id),
                callbacks.button(context.plain("task.button.release"), Act.TASK_RELEASE, wish.id),
            ]
        ]
    )


async def send_details(update: Update, context: TongxinContext, wish: store.Wish) -> None:
    """Everything the claimer needs, in their chat: the photo, the details with the phone, the location pin.

    While the claim holds, each of these messages is remembered, so that when it ends the card is edited to say
    the wish is no longer theirs and the photo, voice and pin are deleted (`actions.tasks.withdraw_cards`)."""
    if (chat := update.effective_chat) is None:
        return
    shown: list[tuple[int, str]] = []  # (message id, kind) of what showed the resident's details
    photo = await send_photo_of(
        context.bot,
        context.db,
        context.settings.media_dir,
        chat.id,
        file_id=wish.photo_file_id,
        media_id=wish.photo_media_id,  # a photo that came in on another channel (WeChat)
        caption=wish_ref(wish.ref_no),
    )
    if photo is not None:
        shown.append((photo.message_id, "media"))
    if wish.voice_file_id:  # a spoken wish: the volunteer hears the resident's own words
        voice = await context.bot.send_voice(
            chat.id, wish.voice_file_id, caption=wish_ref(wish.ref_no), duration=wish.voice_seconds
        )
        shown.append((voice.message_id, "media"))
    text = wish_cards.full_details(context.t, wish, pin_follows=True)
    if wish.status == WishStatus.CLAIMED and wish.due_at is not None:
        text += "\n" + context.t("task.due", due=tasks.local_due(context.env, wish))
    elif wish.status == WishStatus.DONE:
        text += "\n" + context.t("task.waiting_confirmation")
    card = await context.bot.send_message(
        chat.id, text, parse_mode=ParseMode.HTML, reply_markup=task_buttons(context, wish)
    )
    shown.append((card.message_id, "card"))
    if wish.location:
        pin = await context.bot.send_location(chat.id, wish.location[0], wish.location[1])
        shown.append((pin.message_id, "pin"))
    if wish.status == WishStatus.CLAIMED and context.person is not None:
        # Withdrawn when the claim ends, so a former claimer keeps no phone, address, place or photo.
        for message_id, kind in shown:
            await tasks.remember_card(context.env, actor_of(context), wish.id, message_id, kind)


def my_tasks_view(context: TongxinContext, mine: list[store.Wish], page: int) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the volunteer's tasks (`conversations.pages.my_tasks`)."""
    return lists.page_view(context, pages.my_tasks(context.env, mine, page))


async def list_my_tasks(update: Update, context: TongxinContext) -> None:
    """/mytasks: the wishes the volunteer holds, as one message with pages; a tap shows one with Done / Release."""
    message = update.effective_message
    if message is None or context.person is None or not await require(update, context, Role.VOLUNTEER):
        return
    mine = await tasks.my_tasks(context.env, context.person.id)
    if not mine:
        await message.reply_text(context.t("task.mine_none"))
        return
    text, markup = my_tasks_view(context, mine, 0)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def my_tasks_page_pressed(update: Update, context: TongxinContext) -> None:
    """◀ / ▶ on /mytasks: redraw the list in place."""
    if (press := await pressed(update, context)) is None or context.person is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    mine = await tasks.my_tasks(context.env, context.person.id)
    if not mine:
        await query.edit_message_text(context.t("task.mine_none"))
        return
    text, markup = my_tasks_view(context, mine, press.id)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def show_pressed(update: Update, context: TongxinContext) -> None:
    """A task on /mytasks tapped: its photo, details with Done / Release, and location pin."""
    if (press := await pressed(update, context)) is None or context.person is None:
        return
    query = update.callback_query
    assert query is not None
    mine = {wish.id: wish for wish in await tasks.my_tasks(context.env, context.person.id)}
    wish = mine.get(press.id)
    if wish is None:
        await query.answer(context.plain("task.stale_button"), show_alert=True)
        return
    await query.answer()
    await send_details(update, context, wish)


# --- Done: hours → proof photo → note ---------------------------------------------------------------------


async def start_done(update: Update, context: TongxinContext) -> Outcome | None:
    """完成 on a task: the layer's task-done form (conversations/task_done.py) asks the hours."""
    if (press := await pressed(update, context)) is None:
        return None
    return await TaskDone().start(context.env, actor_of(context), press.id)


def done_conversation() -> ConversationHandler[TongxinContext]:
    """Done → hours → proof photo → note (docs/task_done.mmd), written once in conversations/task_done.py."""
    return written_once(
        TaskDone(),
        lambda context: TaskDone(),
        key=TASK_DONE,
        entry_points=[(CallbackQueryHandler(stale_pressed, pattern=callbacks.pattern(Act.TASK_DONE)), start_done)],
    )


# --- Release with a reason --------------------------------------------------------------------------------


async def start_release(update: Update, context: TongxinContext) -> Outcome | None:
    """放弃 on a task: the layer's release form (conversations/task_release.py) asks why."""
    if (press := await pressed(update, context)) is None:
        return None
    return await TaskRelease().start(context.env, actor_of(context), press.id)


def release_conversation() -> ConversationHandler[TongxinContext]:
    """Release → reason, written once in conversations/task_release.py."""
    return written_once(
        TaskRelease(),
        lambda context: TaskRelease(),
        key=TASK_RELEASE,
        entry_points=[
            (CallbackQueryHandler(stale_pressed, pattern=callbacks.pattern(Act.TASK_RELEASE)), start_release)
        ],
    )


def conversations() -> list[BaseHandler[Update, TongxinContext, None]]:
    """Finishing a task, releasing a task."""
    return [done_conversation(), release_conversation()]  # type: ignore[list-item]


def handlers() -> list[BaseHandler[Update, TongxinContext, None]]:
    """/tasks, /mytasks and the task buttons (a malformed or stale task button last, answered)."""
    return [
        CommandHandler("tasks", list_tasks),
        CommandHandler("mytasks", list_my_tasks),
        CallbackQueryHandler(my_tasks_page_pressed, pattern=callbacks.pattern(Act.TASK_MINE_PAGE)),
        CallbackQueryHandler(show_pressed, pattern=callbacks.pattern(Act.TASK_SHOW)),
        CallbackQueryHandler(page_pressed, pattern=callbacks.pattern(Act.TASK_PAGE)),
        CallbackQueryHandler(view_pressed, pattern=callbacks.pattern(Act.TASK_VIEW)),
        CallbackQueryHandler(claim_pressed, pattern=callbacks.pattern(Act.TASK_CLAIM)),
        CallbackQueryHandler(stale_pressed, pattern=callbacks.prefix_pattern(*TASK_ACTS)),
    ]
